//! Adapter: GitHub: the Actions runner protocol (inputs, outputs, summaries, masks) and the
//! REST API (pull requests, sticky comments) through octocrab, as a token or a GitHub App.

pub mod actions;
pub mod api;
pub mod app;
mod foreign;
pub mod git;
pub mod history;
pub mod limits;
pub mod pull_request;
mod pulls;
pub mod summary;

pub use pulls::{Comment, NewPull, Pull};
