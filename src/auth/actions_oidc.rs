//! The GitHub Actions job's OIDC ID token: `GET $ACTIONS_ID_TOKEN_REQUEST_URL&audience=…` with
//! the bearer `$ACTIONS_ID_TOKEN_REQUEST_TOKEN`, answered with `{"value": JWT}`. Google
//! federation asks for its provider's audience, Sigstore for `sigstore`.

use serde_json::Value;

use crate::actions;
use crate::auth::secret::Secret;
use crate::error::{Error, Result};

/// Whether this job can ask for a token at all (`permissions: id-token: write` sets the URL).
pub fn available() -> bool {
    request_url().is_some()
}

fn request_url() -> Option<String> {
    std::env::var("ACTIONS_ID_TOKEN_REQUEST_URL")
        .ok()
        .filter(|u| !u.is_empty())
}

/// The error for a job that cannot request a token, naming `flag` (what wanted it).
pub fn missing(flag: &str) -> Error {
    let hint = if actions::active() {
        "this GitHub Actions job cannot request an OIDC token"
    } else {
        "no GitHub Actions OIDC token is available here"
    };
    Error::new(format!(
        "{flag}: {hint} (ACTIONS_ID_TOKEN_REQUEST_URL is not set); the job needs `permissions: id-token: write`"
    ))
}

/// Requests the job's ID token for `audience`. The request token and the answer are masked
/// before anything else can print them. `flag` names what needed it, for errors.
pub fn request(agent: &ureq::Agent, audience: &str, flag: &str) -> Result<Secret> {
    let url = request_url().ok_or_else(|| missing(flag))?;
    let request_token = std::env::var("ACTIONS_ID_TOKEN_REQUEST_TOKEN").unwrap_or_default();
    actions::mask(&request_token);
    let what = format!("{flag}: GitHub Actions OIDC token request (audience {audience})");
    let mut response = crate::http::retrying(&what, &crate::http::BACKOFF, || {
        agent
            .get(&url)
            .query("audience", audience)
            .header("Authorization", format!("Bearer {request_token}"))
            .header("Accept", "application/json")
            .call()
    })
    .map_err(|e| Error::new(format!("{what}: {e}")))?;
    let status = response.status().as_u16();
    let body = response.body_mut().read_to_string().unwrap_or_default();
    if !(200..300).contains(&status) {
        // The runner's error text names no secret; the request token is masked anyway.
        let detail: String = body.chars().take(200).collect();
        return Err(Error::new(format!("{what}: HTTP {status}: {detail}")));
    }
    let value = serde_json::from_str::<Value>(&body)
        .ok()
        .and_then(|v| v.get("value").and_then(Value::as_str).map(str::to_owned))
        .filter(|v| !v.is_empty())
        .ok_or_else(|| Error::new(format!("{what}: the answer has no \"value\"")))?;
    actions::mask(&value);
    Ok(Secret::new(value))
}
