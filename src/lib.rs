//! kbundle: validate, bundle, sign and ship Kubernetes manifests the GitOps way.
//!
//! Layers (imports point down only): `cli` and `commands` at the top; the pure domain
//! modules `manifest`, `validate`, `report`, `bundle`, `gitops` and `diff`; adapters (`oci`,
//! `auth`, `signing`, `github`, `actions`, `http`, `webhook`) at the edge. `actions` is the
//! GitHub Actions runner (outputs, summaries, secret masks), which any adapter may use to mask
//! a secret before it is printed; `github` is GitHub's REST API.

pub mod actions;
pub mod auth;
pub mod bundle;
pub mod cli;
pub mod commands;
pub mod diff;
pub mod error;
pub mod github;
pub mod gitops;
pub mod http;
pub mod manifest;
pub mod oci;
pub mod report;
pub mod signing;
pub mod validate;
pub mod webhook;
