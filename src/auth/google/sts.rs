//! The two federation steps every keyless flow ends with: RFC 8693 token exchange at Google
//! STS, then, optionally, IAM Credentials `generateAccessToken` to act as a service account.

use std::time::{Duration, SystemTime};

use serde_json::Value;

use super::http::{oauth_token, send_retrying, string_field};
use super::{AccessToken, SCOPE};
use crate::actions;
use crate::auth::secret::Secret;
use crate::error::Result;

const TOKEN_EXCHANGE: &str = "urn:ietf:params:oauth:grant-type:token-exchange";
const ACCESS_TOKEN_TYPE: &str = "urn:ietf:params:oauth:token-type:access_token";

/// A subject token for a federated access token.
pub(super) fn exchange(
    agent: &ureq::Agent,
    token_url: &str,
    audience: &str,
    subject_token_type: &str,
    subject_token: &Secret,
) -> Result<AccessToken> {
    let what = format!("Google STS token exchange at {token_url} (audience {audience})");
    let answer = send_retrying(&what, || {
        agent.post(token_url).send_form([
            ("grant_type", TOKEN_EXCHANGE),
            ("audience", audience),
            ("scope", SCOPE),
            ("requested_token_type", ACCESS_TOKEN_TYPE),
            ("subject_token_type", subject_token_type),
            ("subject_token", subject_token.expose()),
        ])
    })?;
    oauth_token(&answer, &what)
}

/// The federated token acts as a service account.
pub(super) fn impersonate(
    agent: &ureq::Agent,
    url: &str,
    service_account: &str,
    federated: &AccessToken,
) -> Result<AccessToken> {
    let what = format!("IAM generateAccessToken for service account {service_account}");
    let answer = send_retrying(&what, || {
        agent
            .post(url)
            .header(
                "Authorization",
                format!("Bearer {}", federated.token.expose()),
            )
            .header("Content-Type", "application/json")
            .send(serde_json::json!({"scope": [SCOPE], "lifetime": "3600s"}).to_string())
    })?;
    let token = string_field(&answer, "accessToken", &what)?;
    actions::mask(&token);
    let expires_at = answer
        .get("expireTime")
        .and_then(Value::as_str)
        .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
        .and_then(|t| u64::try_from(t.timestamp()).ok())
        .map(|s| SystemTime::UNIX_EPOCH + Duration::from_secs(s));
    Ok(AccessToken {
        token: Secret::new(token),
        expires_at,
    })
}

/// The service account named in `…/serviceAccounts/SA:generateAccessToken`.
pub(super) fn service_account_of(url: &str) -> &str {
    url.rsplit_once("/serviceAccounts/")
        .map_or(url, |(_, rest)| rest.split(':').next().unwrap_or(rest))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_account_from_the_impersonation_url() {
        assert_eq!(
            service_account_of("https://x/v1/projects/-/serviceAccounts/a@b:generateAccessToken"),
            "a@b"
        );
    }
}
