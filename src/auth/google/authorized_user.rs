//! `authorized_user` credentials (what `gcloud auth application-default login` writes): a
//! refresh token traded for an access token at Google's OAuth token endpoint.

use serde::Deserialize;

use super::AccessToken;
use super::http::{oauth_token, send_retrying};
use crate::error::{Error, Result};

const DEFAULT_TOKEN_URI: &str = "https://oauth2.googleapis.com/token";

#[derive(Deserialize)]
pub(super) struct AuthorizedUser {
    client_id: Option<String>,
    client_secret: Option<String>,
    refresh_token: Option<String>,
    /// Google's libraries honour it when present; gcloud leaves it out.
    token_uri: Option<String>,
}

pub(super) fn token(agent: &ureq::Agent, label: &str, file: AuthorizedUser) -> Result<AccessToken> {
    let (Some(id), Some(secret), Some(refresh)) =
        (file.client_id, file.client_secret, file.refresh_token)
    else {
        return Err(Error::new(format!(
            "{label}: authorized_user needs client_id, client_secret and refresh_token"
        )));
    };
    let token_uri = file
        .token_uri
        .filter(|u| !u.is_empty())
        .unwrap_or_else(|| DEFAULT_TOKEN_URI.to_owned());
    let what = format!("{label}: refreshing the user token (client {id})");
    let answer = send_retrying(&what, || {
        agent.post(&token_uri).send_form([
            ("grant_type", "refresh_token"),
            ("client_id", id.as_str()),
            ("client_secret", secret.as_str()),
            ("refresh_token", refresh.as_str()),
        ])
    })?;
    oauth_token(&answer, &what)
}
