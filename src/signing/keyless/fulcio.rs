//! Fulcio's v2 API: `POST /api/v2/signingCert` trades an OIDC ID token and a proof of
//! possession of a key for a short-lived certificate on that key.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};

use crate::auth::secret::Secret;
use crate::signing::keys::PrivateKey;

/// The chain Fulcio answered with, as PEM: the leaf, then its issuers up to the root.
#[derive(Debug, Clone)]
pub struct Chain {
    pub leaf: String,
    pub rest: Vec<String>,
}

/// Requests a certificate for `key`. The proof of possession is the key's signature over the
/// token's subject (`oidc::subject`), which is what Fulcio checks against the principal.
pub fn signing_cert(
    agent: &ureq::Agent,
    base: &str,
    token: &Secret,
    key: &PrivateKey,
) -> Result<Chain, String> {
    let flag = format!("--fulcio-url {base}");
    let claims = super::oidc::claims(token).map_err(|e| format!("--identity-token: {e}"))?;
    let subject = super::oidc::subject(&claims).map_err(|e| format!("--identity-token: {e}"))?;
    let proof = key.sign(subject.as_bytes());
    let request = json!({
        "credentials": {"oidcIdentityToken": token.expose()},
        "publicKeyRequest": {
            "publicKey": {"algorithm": "ECDSA", "content": key.public_key().to_pem()},
            "proofOfPossession": STANDARD.encode(proof),
        },
    });
    let url = format!("{}/api/v2/signingCert", base.trim_end_matches('/'));
    let (status, body) = super::post_json(agent, &url, &request.to_string(), &flag, true)?;
    if !(200..300).contains(&status) {
        return Err(format!("{flag}: HTTP {status}: {}", message(&body)));
    }
    let answer: Value =
        serde_json::from_str(&body).map_err(|e| format!("{flag}: answer is not JSON: {e}"))?;
    parse_chain(&answer).map_err(|e| format!("{flag}: {e}"))
}

/// Fulcio answers `signedCertificateEmbeddedSct` (the SCT inside the leaf) or
/// `signedCertificateDetachedSct` (beside it); either way `chain.certificates` is PEM, leaf
/// first.
fn parse_chain(answer: &Value) -> Result<Chain, String> {
    let chain = [
        "signedCertificateEmbeddedSct",
        "signedCertificateDetachedSct",
    ]
    .iter()
    .find_map(|k| answer.get(k))
    .and_then(|s| s.pointer("/chain/certificates"))
    .and_then(Value::as_array)
    .ok_or("answer has no signedCertificateEmbeddedSct/chain/certificates")?;
    let mut pems = chain.iter().map(|c| {
        c.as_str()
            .map(normalise)
            .ok_or("a certificate in the chain is not a string")
    });
    let leaf = pems.next().ok_or("the certificate chain is empty")??;
    let rest = pems.collect::<Result<Vec<_>, _>>()?;
    Ok(Chain { leaf, rest })
}

/// One trailing newline, as cosign stores PEM.
fn normalise(pem: &str) -> String {
    format!("{}\n", pem.trim_end())
}

/// Fulcio's error body is `{"code":…, "message":…}` (gRPC gateway).
pub(crate) fn message(body: &str) -> String {
    serde_json::from_str::<Value>(body)
        .ok()
        .and_then(|v| v.get("message").and_then(Value::as_str).map(str::to_owned))
        .unwrap_or_else(|| body.chars().take(200).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chains_come_from_either_sct_form() {
        let a = json!({"signedCertificateDetachedSct": {"chain": {"certificates": ["L", "R\n"]}, "signedCertificateTimestamp": "x"}});
        let c = parse_chain(&a).unwrap();
        assert_eq!((c.leaf.as_str(), c.rest), ("L\n", vec!["R\n".to_owned()]));
        assert!(parse_chain(&json!({})).is_err());
    }
}
