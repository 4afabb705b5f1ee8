//! Google access tokens from the first source that exists:
//! 1. `--workload-identity-provider` (a flag the user typed beats anything ambient): the GitHub
//!    Actions OIDC token exchanged directly, optionally for `--service-account`;
//! 2. `GOOGLE_APPLICATION_CREDENTIALS`: an `external_account` file as google-github-actions/auth
//!    writes it, a `service_account` key file or an `authorized_user` file;
//! 3. the GCE/GKE metadata server.
//!
//! Otherwise this is Google's application-default order, with the explicit flag put first: a
//! runner may carry a stale `GOOGLE_APPLICATION_CREDENTIALS` from an earlier auth step, and it
//! must not silently override the provider the command line names.
//!
//! Hand-written with `ureq` rather than `google-cloud-auth`: the flows are a few requests each,
//! every endpoint has to be redirectable to local fakes in tests, each token must be masked in
//! Actions before its first use, and Google's own error text must reach the user.

use std::sync::Mutex;
use std::time::{Duration, SystemTime};

mod authorized_user;
mod external_account;
mod file;
mod github_oidc;
mod http;
mod metadata;
mod service_account;
mod sts;

pub use file::read_external_account;

use crate::auth::Refresh;
use crate::auth::docker::Credential;
use crate::auth::secret::Secret;
use crate::error::{Error, Result};

pub const SCOPE: &str = "https://www.googleapis.com/auth/cloud-platform";
pub const DEFAULT_STS_ENDPOINT: &str = "https://sts.googleapis.com";
pub const DEFAULT_IAMCREDENTIALS_ENDPOINT: &str = "https://iamcredentials.googleapis.com";

/// Where the direct GitHub OIDC flow goes (the command line's Google options).
#[derive(Debug, Clone, Default)]
pub struct Options {
    pub workload_identity_provider: Option<String>,
    pub service_account: Option<String>,
    pub sts_endpoint: Option<String>,
    pub iamcredentials_endpoint: Option<String>,
}

/// A short-lived access token and when it stops working.
#[derive(Debug, Clone)]
pub struct AccessToken {
    pub token: Secret,
    pub expires_at: Option<SystemTime>,
}

/// Registries that take Google access tokens: Artifact Registry and Container Registry.
pub fn is_google_registry(host: &str) -> bool {
    let host = host.split(':').next().unwrap_or(host).to_ascii_lowercase();
    host.ends_with("-docker.pkg.dev") || host == "gcr.io" || host.ends_with(".gcr.io")
}

/// A token with less time left than this is replaced before use: enough for the slowest
/// registry operation to finish with the token it started with.
const REFRESH_MARGIN: Duration = Duration::from_secs(300);

/// One token for the whole run (every registry of `promote`, every refresh check).
static CACHE: Mutex<Option<AccessToken>> = Mutex::new(None);

/// An access token from the first credential source that exists; `None` when there is none.
/// Cached for the run and fetched again when less than `REFRESH_MARGIN` is left.
pub fn access_token(options: &Options) -> Result<Option<AccessToken>> {
    let mut cache = CACHE.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(cached) = cache.as_ref() {
        let fresh = cached.expires_at.is_none_or(|t| {
            t.duration_since(SystemTime::now())
                .is_ok_and(|left| left > REFRESH_MARGIN)
        });
        if fresh {
            return Ok(Some(cached.clone()));
        }
    }
    let token = find(options)?;
    if let Some(t) = &token {
        tracing::debug!("Google access token valid until {:?}", t.expires_at);
    }
    cache.clone_from(&token);
    Ok(token)
}

/// The registry user name Google registries take an access token with.
pub const REGISTRY_USER: &str = "oauth2accesstoken";

/// Registry login with Google access tokens, refreshed from the same source for the whole run.
pub struct RegistryLogin {
    options: Options,
}

impl RegistryLogin {
    pub fn new(options: Options) -> RegistryLogin {
        RegistryLogin { options }
    }
}

impl Refresh for RegistryLogin {
    fn current(&self) -> Result<Credential> {
        match access_token(&self.options)? {
            Some(token) => Ok(Credential::Basic {
                username: REGISTRY_USER.to_owned(),
                password: token.token,
            }),
            None => Err(Error::new(
                "the Google credentials used at the start of the run are gone; cannot get a new access token",
            )),
        }
    }
}

fn find(options: &Options) -> Result<Option<AccessToken>> {
    let agent = http::agent(Duration::from_secs(30));
    let credentials_file =
        std::env::var_os("GOOGLE_APPLICATION_CREDENTIALS").filter(|p| !p.is_empty());
    if let Some(provider) = &options.workload_identity_provider {
        if let Some(path) = &credentials_file {
            tracing::info!(
                "using --workload-identity-provider; ignoring GOOGLE_APPLICATION_CREDENTIALS={}",
                std::path::Path::new(path).display()
            );
        }
        return github_oidc::token(&agent, provider, options).map(Some);
    }
    if let Some(path) = credentials_file {
        return file::token(&agent, std::path::Path::new(&path)).map(Some);
    }
    metadata::token()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn google_registries() {
        for host in [
            "us-docker.pkg.dev",
            "europe-west1-docker.pkg.dev",
            "gcr.io",
            "eu.gcr.io",
        ] {
            assert!(is_google_registry(host), "{host}");
        }
        for host in ["docker.io", "127.0.0.1:5000", "notgcr.io", "pkg.dev"] {
            assert!(!is_google_registry(host), "{host}");
        }
    }
}
