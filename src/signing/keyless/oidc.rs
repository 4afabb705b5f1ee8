//! The OIDC ID token Fulcio certifies: given (`--identity-token`, `SIGSTORE_ID_TOKEN`, a
//! token or a file holding one), or requested from GitHub Actions for audience `sigstore`.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::Value;

use crate::actions;
use crate::auth::actions_oidc;
use crate::auth::secret::Secret;

/// The audience Fulcio accepts.
pub const SIGSTORE_AUDIENCE: &str = "sigstore";

/// Finds the token: the flag's value (a JWT, or a file with one), else the Actions job's.
/// Errors name the flag and say what to do; the token is masked before anything is printed.
pub fn id_token(agent: &ureq::Agent, given: Option<&str>) -> crate::error::Result<Secret> {
    if let Some(given) = given.map(str::trim).filter(|g| !g.is_empty()) {
        let path = std::path::Path::new(given);
        // A JWT has two dots and no slash; anything else that exists is read as a file.
        let token = if !looks_like_jwt(given) && path.is_file() {
            std::fs::read_to_string(path)
                .map_err(|e| crate::error::Error::new(format!("--identity-token {given}: {e}")))?
                .trim()
                .to_owned()
        } else {
            given.to_owned()
        };
        actions::mask(&token);
        return Ok(Secret::new(token));
    }
    if actions_oidc::available() {
        return actions_oidc::request(agent, SIGSTORE_AUDIENCE, "--keyless");
    }
    if actions::active() {
        return Err(actions_oidc::missing("--keyless"));
    }
    Err(crate::error::Error::new(
        "--keyless: no OIDC identity token; pass --identity-token (or SIGSTORE_ID_TOKEN), or run in GitHub Actions with `permissions: id-token: write`",
    ))
}

fn looks_like_jwt(s: &str) -> bool {
    s.split('.').count() == 3 && !s.contains('/') && !s.contains(char::is_whitespace)
}

/// The claims of a JWT, read without checking its signature: Fulcio checks it, we only need
/// the subject to prove possession of the key and to name the identity in messages.
pub fn claims(token: &Secret) -> Result<Value, String> {
    let body = token
        .expose()
        .split('.')
        .nth(1)
        .ok_or("the identity token is not a JWT (header.payload.signature)")?;
    let bytes = URL_SAFE_NO_PAD
        .decode(body.trim_end_matches('='))
        .map_err(|_| "the identity token's payload is not base64url")?;
    serde_json::from_slice(&bytes)
        .map_err(|_| "the identity token's payload is not JSON".to_owned())
}

/// What Fulcio's proof of possession signs: the token's `email` when it has one (it must be
/// verified), else its `sub`, the way cosign and Fulcio pick the principal's name.
pub fn subject(claims: &Value) -> Result<String, String> {
    if let Some(email) = claims
        .get("email")
        .and_then(Value::as_str)
        .filter(|e| !e.is_empty())
    {
        if claims.get("email_verified").and_then(Value::as_bool) == Some(false) {
            return Err(format!(
                "the identity token's email {email} is not verified by its issuer"
            ));
        }
        return Ok(email.to_owned());
    }
    claims
        .get("sub")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .ok_or_else(|| "the identity token has no sub or email claim".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jwt(claims: &str) -> Secret {
        Secret::new(format!("e30.{}.c2ln", URL_SAFE_NO_PAD.encode(claims)))
    }

    #[test]
    fn subject_prefers_a_verified_email() {
        let c = claims(&jwt(
            r#"{"sub":"123","email":"a@b.c","email_verified":true}"#,
        ))
        .unwrap();
        assert_eq!(subject(&c).unwrap(), "a@b.c");
        let c = claims(&jwt(r#"{"sub":"repo:o/r:ref:refs/heads/main"}"#)).unwrap();
        assert_eq!(subject(&c).unwrap(), "repo:o/r:ref:refs/heads/main");
        let c = claims(&jwt(
            r#"{"sub":"1","email":"a@b.c","email_verified":false}"#,
        ))
        .unwrap();
        assert!(subject(&c).unwrap_err().contains("not verified"));
        assert!(claims(&Secret::new("nodots")).is_err());
    }
}
