//! Adapter: GitHub: the Actions runner protocol (inputs, outputs, summaries, masks) and the
//! REST API (pull requests, sticky comments) through octocrab.

pub mod actions;
pub mod api;
pub mod pull_request;
