//! GitHub App authentication, GitHub's documented flow: a JWT signed with the app's key
//! (RS256, issued 60 s in the past, valid under 10 min, `iss` = the app ID; octocrab makes
//! it) finds the app's installation on the repository (`GET /repos/{owner}/{repo}/installation`),
//! then mints an installation token scoped to that one repository
//! (`POST /app/installations/{id}/access_tokens`). The workflow's own token cannot write to
//! another repository; an app installed on the fleet repository can.

use octocrab::models::{AppId, InstallationId};
use octocrab::secrecy::ExposeSecret;
use serde::Deserialize;

use super::endpoint::{self, encode};
use crate::auth::secret::Secret;
use crate::error::{Error, Result};

/// A GitHub App's ID and private key, checked to sign.
pub struct App {
    id: u64,
    key: octocrab::EncodingKey,
}

impl App {
    /// `key` is the PEM text itself (what an Actions secret holds) or the path of a PEM file:
    /// text containing `-----BEGIN` is taken as the key.
    pub fn new(id: u64, key: &Secret) -> Result<App> {
        let pem = if key.expose().contains("-----BEGIN") {
            key.expose().to_owned()
        } else {
            let path = key.expose();
            std::fs::read_to_string(path).map_err(|e| {
                Error::new(format!(
                    "--app-private-key {path}: {e}; give the app's private key file (.pem) or its PEM text"
                ))
            })?
        };
        crate::actions::mask(&pem);
        let key = octocrab::EncodingKey::from_rsa_pem(pem.as_bytes()).map_err(|e| {
            Error::new(format!(
                "--app-private-key: not an RSA private key in PEM form ({e}); use the key \
                 generated in the GitHub App's settings (-----BEGIN RSA PRIVATE KEY-----)"
            ))
        })?;
        // Sign once now, so a key that parses but cannot sign is reported against the flag
        // and not as GitHub's 401 later.
        octocrab::auth::create_jwt(AppId(id), &key).map_err(|e| {
            Error::new(format!(
                "--app-private-key: cannot sign the GitHub App's token with this key ({e})"
            ))
        })?;
        Ok(App { id, key })
    }

    /// A client that authenticates as the app's installation on `owner/name`, with a token
    /// scoped to that repository. The token is fetched now, so it is masked before any use.
    pub(super) async fn installation_client(
        &self,
        owner: &str,
        name: &str,
    ) -> Result<octocrab::Octocrab> {
        let id = self.id;
        let repo = format!("{owner}/{name}");
        let as_app = endpoint::builder()?
            .app(AppId(id), self.key.clone())
            .build()
            .map_err(|e| Error::new(format!("cannot set up the GitHub client: {e}")))?;
        let refused = |what: &str, e: octocrab::Error| match endpoint::status(&e) {
            Some((401, message)) => Error::new(format!(
                "--app-id {id}: GitHub refused the app's token (401 {message}): no app has this \
                 ID, or --app-private-key is not that app's key"
            )),
            Some((404, _)) => Error::new(format!(
                "--app-id {id}: the GitHub App is not installed on {repo}; install it there with \
                 contents: write and pull-requests: write"
            )),
            Some((status, message)) => Error::new(format!(
                "--app-id {id}: {what} for {repo}: {status} {message} (check the app's \
                 permissions: contents: write and pull-requests: write)"
            )),
            None => Error::new(format!("--app-id {id}: {what} for {repo}: {e}")),
        };

        #[derive(Deserialize)]
        struct Installation {
            id: u64,
        }
        let route = format!("/repos/{}/{}/installation", encode(owner), encode(name));
        tracing::debug!("GET {route}");
        let installation: Installation = as_app
            .get(route, None::<&()>)
            .await
            .map_err(|e| refused("find the app's installation", e))?;

        let client = as_app
            .installation_builder(InstallationId(installation.id))
            .repositories(vec![name.to_owned()])
            .build()
            .map_err(|e| Error::new(format!("cannot set up the GitHub client: {e}")))?;
        tracing::debug!("POST /app/installations/{}/access_tokens", installation.id);
        let token = client
            .installation_token()
            .await
            .map_err(|e| refused("mint an installation token", e))?;
        crate::actions::mask(token.expose_secret());
        Ok(client)
    }
}
