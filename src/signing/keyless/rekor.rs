//! Rekor's API: `POST /api/v1/log/entries` with a `hashedrekord` v0.0.1 entry (the payload's
//! SHA-256, the signature, the certificate), answered with the entry and its signed entry
//! timestamp.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};

use super::tlog::Bundle;

/// The hashedrekord entry cosign uploads for a signature over `payload` made by the key in
/// `cert_pem`.
pub fn hashedrekord(payload: &[u8], signature: &[u8], cert_pem: &str) -> Value {
    json!({
        "apiVersion": "0.0.1",
        "kind": "hashedrekord",
        "spec": {
            "data": {"hash": {"algorithm": "sha256", "value": hex::encode(Sha256::digest(payload))}},
            "signature": {
                "content": STANDARD.encode(signature),
                "publicKey": {"content": STANDARD.encode(cert_pem)},
            },
        },
    })
}

/// Logs the signature and returns the bundle cosign stores beside it.
pub fn upload(
    agent: &ureq::Agent,
    base: &str,
    payload: &[u8],
    signature: &[u8],
    cert_pem: &str,
) -> Result<Bundle, String> {
    let flag = format!("--rekor-url {base}");
    let url = format!("{}/api/v1/log/entries", base.trim_end_matches('/'));
    let entry = hashedrekord(payload, signature, cert_pem).to_string();
    let (status, body) = super::post_json(agent, &url, &entry, &flag, false)?;
    if !(200..300).contains(&status) {
        return Err(format!(
            "{flag}: HTTP {status}: {}",
            super::fulcio::message(&body)
        ));
    }
    let answer: Value =
        serde_json::from_str(&body).map_err(|e| format!("{flag}: answer is not JSON: {e}"))?;
    // `{"<uuid>": {body, integratedTime, logID, logIndex, verification}}`: one entry.
    let entry = answer
        .as_object()
        .and_then(|m| m.values().next())
        .ok_or_else(|| format!("{flag}: the answer holds no log entry"))?;
    Bundle::from_entry(entry).map_err(|e| format!("{flag}: {e}"))
}

/// Logs a DSSE envelope as a `dsse` v0.0.1 entry, as cosign v3 does for a bundle, and returns
/// the log entry (`body`, `integratedTime`, `logID`, `logIndex`, `verification` with the SET and
/// the inclusion proof).
pub fn upload_dsse(
    agent: &ureq::Agent,
    base: &str,
    envelope_json: &str,
    cert_pem: &str,
) -> Result<Value, String> {
    let flag = format!("--rekor-url {base}");
    let url = format!("{}/api/v1/log/entries", base.trim_end_matches('/'));
    let entry = json!({
        "apiVersion": "0.0.1",
        "kind": "dsse",
        "spec": {"proposedContent": {
            "envelope": envelope_json,
            "verifiers": [STANDARD.encode(cert_pem)],
        }},
    })
    .to_string();
    let (status, body) = super::post_json(agent, &url, &entry, &flag, false)?;
    if !(200..300).contains(&status) {
        return Err(format!(
            "{flag}: HTTP {status}: {}",
            super::fulcio::message(&body)
        ));
    }
    let answer: Value =
        serde_json::from_str(&body).map_err(|e| format!("{flag}: answer is not JSON: {e}"))?;
    answer
        .as_object()
        .and_then(|m| m.values().next())
        .cloned()
        .ok_or_else(|| format!("{flag}: the answer holds no log entry"))
}
