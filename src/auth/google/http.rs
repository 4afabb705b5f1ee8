//! The HTTP plumbing every Google flow shares: one agent configuration, JSON answers, and
//! Google's own words when it refuses.

use std::time::{Duration, SystemTime};

use serde_json::Value;

use super::AccessToken;
use crate::actions;
use crate::auth::secret::Secret;
use crate::error::{Error, Result};

pub(super) fn agent(timeout: Duration) -> ureq::Agent {
    crate::http::agent(timeout)
}

/// A token with its lifetime in seconds from now, masked before anything can print it.
pub(super) fn token_for(token: String, expires_in: Option<u64>) -> AccessToken {
    actions::mask(&token);
    AccessToken {
        token: Secret::new(token),
        expires_at: expires_in.map(|s| SystemTime::now() + Duration::from_secs(s)),
    }
}

/// An OAuth answer (`access_token`, `expires_in`) as a token.
pub(super) fn oauth_token(answer: &Value, what: &str) -> Result<AccessToken> {
    let token = string_field(answer, "access_token", what)?;
    Ok(token_for(
        token,
        answer.get("expires_in").and_then(Value::as_u64),
    ))
}

/// Google's words for a refusal: OAuth's `error_description`, or the API's `error.message`.
pub(super) fn google_message(status: u16, body: &str) -> String {
    let parsed: Option<Value> = serde_json::from_str(body).ok();
    let text = parsed.as_ref().and_then(|v| {
        v.get("error_description")
            .and_then(Value::as_str)
            .or_else(|| v.pointer("/error/message").and_then(Value::as_str))
            .or_else(|| v.get("error").and_then(Value::as_str))
            .map(str::to_owned)
    });
    match text {
        Some(t) => format!("HTTP {status}: {t}"),
        None => format!("HTTP {status}"),
    }
}

/// `send` for a request that can be made again: transient failures are retried with backoff.
pub(super) fn send_retrying(
    what: &str,
    request: impl FnMut() -> crate::http::Response,
) -> Result<Value> {
    send(
        what,
        crate::http::retrying(what, &crate::http::BACKOFF, request),
    )
}

/// What to do about the refusals people run into most, keyed by Google's own wording.
fn hint(message: &str) -> Option<&'static str> {
    const HINTS: [(&str, &str); 4] = [
        (
            "rejected by the attribute condition",
            "the provider's attribute condition does not accept this token's claims; compare it \
             with the repository, ref and workflow of this run",
        ),
        (
            "does not match the expected audience",
            "the OIDC token was requested for another provider than the one named in the \
             exchange; both must be the same projects/NUMBER/.../providers/PROVIDER",
        ),
        (
            "\"audience\" parameters is invalid",
            "check that the pool and provider exist and are enabled, and that the provider \
             name uses the project number, not the project ID",
        ),
        (
            "iam.serviceAccounts.getAccessToken' denied",
            "grant the federated identity roles/iam.workloadIdentityUser on the service \
             account, or check the service account's e-mail",
        ),
    ];
    HINTS
        .iter()
        .find(|(needle, _)| message.contains(needle))
        .map(|(_, hint)| *hint)
}

/// Sends a request and returns the JSON body of a 2xx answer, or Google's message.
pub(super) fn send(what: &str, result: crate::http::Response) -> Result<Value> {
    let mut response = result.map_err(|e| Error::new(format!("{what}: {e}")))?;
    let status = response.status().as_u16();
    let body = response
        .body_mut()
        .with_config()
        .limit(1 << 20)
        .read_to_string()
        .map_err(|e| Error::new(format!("{what}: cannot read the answer: {e}")))?;
    if !(200..300).contains(&status) {
        let message = google_message(status, &body);
        return Err(Error::new(match hint(&message) {
            Some(hint) => format!("{what} was refused: {message}; {hint}"),
            None => format!("{what} was refused: {message}"),
        }));
    }
    serde_json::from_str(&body)
        .map_err(|e| Error::new(format!("{what}: the answer is not JSON: {e}")))
}

pub(super) fn string_field(v: &Value, field: &str, what: &str) -> Result<String> {
    v.get(field)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .ok_or_else(|| Error::new(format!("{what}: the answer has no {field}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn google_messages() {
        assert_eq!(
            google_message(
                400,
                r#"{"error":"invalid_grant","error_description":"ID Token expired."}"#
            ),
            "HTTP 400: ID Token expired."
        );
        assert_eq!(
            google_message(
                403,
                r#"{"error":{"code":403,"message":"denied","status":"PERMISSION_DENIED"}}"#
            ),
            "HTTP 403: denied"
        );
        assert_eq!(google_message(502, "<html>"), "HTTP 502");
    }

    #[test]
    fn common_refusals_get_a_hint_and_others_none() {
        assert!(
            hint("HTTP 400: The given credential is rejected by the attribute condition.")
                .is_some_and(|h| h.contains("attribute condition"))
        );
        assert!(
            hint("HTTP 403: Permission 'iam.serviceAccounts.getAccessToken' denied on resource")
                .is_some_and(|h| h.contains("roles/iam.workloadIdentityUser"))
        );
        assert_eq!(hint("HTTP 400: ID Token expired."), None);
    }
}
