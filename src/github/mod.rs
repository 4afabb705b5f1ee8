//! Adapter: GitHub's REST API (fleet pull requests, sticky comments, verified commits)
//! through octocrab, as a token or a GitHub App. The Actions runner's protocol is `actions`.

pub mod api;
pub mod app;
mod endpoint;
mod foreign;
pub mod git;
pub mod history;
pub mod limits;
pub mod pull_request;
mod pulls;

pub use pulls::{Comment, NewPull, Pull};
