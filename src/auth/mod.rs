//! Registry credentials: where they come from (the docker config and its credential helpers) and
//! the `Secret` wrapper that keeps them out of logs and error messages.

pub mod docker;
pub mod secret;
