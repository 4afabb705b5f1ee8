//! Registry credentials: where they come from (the docker config and its credential helpers) and
//! Google access tokens (`google`), and the `Secret` wrapper that keeps them out of logs and
//! error messages.

pub mod actions_oidc;
pub mod docker;
pub mod google;
pub mod secret;

/// Registry credentials that change during a run: short-lived tokens, fetched again before
/// they expire, so that a long push does not fail when the first one runs out.
pub trait Refresh: Send + Sync {
    /// The credential for the next request: the one in use while it has time left, else a
    /// new one. Blocking; may call a token endpoint.
    fn current(&self) -> crate::error::Result<docker::Credential>;
}

/// Which credentials `--auth` asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum AuthMode {
    /// The docker config's credentials (and credential helpers)
    Docker,
    /// A Google access token (GOOGLE_APPLICATION_CREDENTIALS, --workload-identity-provider,
    /// the metadata server) as user oauth2accesstoken
    Google,
}
