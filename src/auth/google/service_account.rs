//! `service_account` key files: Google's OAuth 2.0 flow for server-to-server applications. A
//! JWT signed with the file's private key (RS256) is traded for an access token at the file's
//! `token_uri` (grant type `jwt-bearer`).
//!
//! The private key is a long-lived secret: it is only ever handed to the signer, and no error
//! message quotes it or a parser's view of it.

use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use super::http::{oauth_token, send_retrying};
use super::{AccessToken, SCOPE};
use crate::auth::secret::Secret;
use crate::error::{Error, Result};

const JWT_BEARER: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";
const DEFAULT_TOKEN_URI: &str = "https://oauth2.googleapis.com/token";
/// Google refuses assertions that live longer than an hour.
const LIFETIME_SECS: u64 = 3600;

#[derive(Deserialize)]
pub(super) struct ServiceAccount {
    client_email: Option<String>,
    private_key: Option<String>,
    private_key_id: Option<String>,
    token_uri: Option<String>,
}

/// The JWT claims Google's token endpoint expects of an assertion.
#[derive(Serialize)]
struct Claims<'a> {
    iss: &'a str,
    scope: &'a str,
    aud: &'a str,
    iat: u64,
    exp: u64,
}

pub(super) fn token(agent: &ureq::Agent, label: &str, file: ServiceAccount) -> Result<AccessToken> {
    let need = |v: Option<String>, field: &str| {
        v.filter(|s| !s.is_empty()).ok_or_else(|| {
            Error::new(format!(
                "{label}: service_account without {field}; download the JSON key again"
            ))
        })
    };
    let email = need(file.client_email, "client_email")?;
    let key = Secret::new(need(file.private_key, "private_key")?);
    let token_uri = file
        .token_uri
        .filter(|u| !u.is_empty())
        .unwrap_or_else(|| DEFAULT_TOKEN_URI.to_owned());
    let assertion = assertion(label, &email, file.private_key_id, &key, &token_uri)?;
    let what = format!("{label}: token request for service account {email} at {token_uri}");
    let answer = send_retrying(&what, || {
        agent.post(&token_uri).send_form([
            ("grant_type", JWT_BEARER),
            ("assertion", assertion.expose()),
        ])
    })?;
    oauth_token(&answer, &what)
}

/// The signed JWT (`header.claims.signature`) asserting `email` for the cloud-platform scope.
fn assertion(
    label: &str,
    email: &str,
    key_id: Option<String>,
    key: &Secret,
    token_uri: &str,
) -> Result<Secret> {
    // The parser's own error might describe the key's contents, so it is not passed on.
    let signing_key = jsonwebtoken::EncodingKey::from_rsa_pem(key.expose().as_bytes())
        .map_err(|_| {
            Error::new(format!(
                "{label}: private_key of {email} is not a PEM RSA private key; download the JSON key again"
            ))
        })?;
    let iat = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_err(|_| Error::new("the system clock is before 1970; set the time"))?
        .as_secs();
    let claims = Claims {
        iss: email,
        scope: SCOPE,
        aud: token_uri,
        iat,
        exp: iat + LIFETIME_SECS,
    };
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
    // Tells Google which of the account's keys signed, as Google's own libraries do.
    header.kid = key_id.filter(|k| !k.is_empty());
    let jwt = jsonwebtoken::encode(&header, &claims, &signing_key).map_err(|_| {
        Error::new(format!(
            "{label}: cannot sign the token request with the private_key of {email}; download the JSON key again"
        ))
    })?;
    Ok(Secret::new(jwt))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_broken_key_is_refused_without_quoting_it() {
        let key = Secret::new(
            "-----BEGIN PRIVATE KEY-----\nc2VjcmV0LWtleS1ieXRlcw==\n-----END PRIVATE KEY-----\n",
        );
        let e = assertion("F", "sa@p.iam.gserviceaccount.com", None, &key, "https://t")
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(e.contains("sa@p.iam.gserviceaccount.com"), "{e}");
        assert!(e.contains("not a PEM RSA private key"), "{e}");
        assert!(!e.contains("c2VjcmV0"), "{e}");
    }
}
