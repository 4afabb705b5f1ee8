//! The Rekor bundle cosign stores in `dev.sigstore.cosign/bundle`, and the checks that make it
//! evidence: the signed entry timestamp (SET) verifies with the log's key, and the logged body
//! is this very signature, certificate and payload.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest as _, Sha256};

use crate::signing::keys::PublicKey;

/// cosign's `RekorBundle`; field order and names are Go's, so our JSON equals cosign's.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Bundle {
    #[serde(rename = "SignedEntryTimestamp")]
    pub signed_entry_timestamp: String,
    #[serde(rename = "Payload")]
    pub payload: BundlePayload,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BundlePayload {
    pub body: String,
    #[serde(rename = "integratedTime")]
    pub integrated_time: i64,
    #[serde(rename = "logIndex")]
    pub log_index: i64,
    #[serde(rename = "logID")]
    pub log_id: String,
}

impl Bundle {
    /// From a Rekor log entry (`body`, `integratedTime`, `logIndex`, `logID`,
    /// `verification.signedEntryTimestamp`).
    pub fn from_entry(entry: &Value) -> Result<Bundle, String> {
        let text = |k: &str| {
            entry
                .pointer(k)
                .and_then(Value::as_str)
                .map(str::to_owned)
                .ok_or_else(|| format!("the log entry has no {}", &k[1..]))
        };
        let int = |k: &str| {
            entry
                .get(k)
                .and_then(Value::as_i64)
                .ok_or_else(|| format!("the log entry has no {k}"))
        };
        Ok(Bundle {
            signed_entry_timestamp: text("/verification/signedEntryTimestamp")?,
            payload: BundlePayload {
                body: text("/body")?,
                integrated_time: int("integratedTime")?,
                log_index: int("logIndex")?,
                log_id: text("/logID")?,
            },
        })
    }

    pub fn parse(text: &str) -> Result<Bundle, String> {
        serde_json::from_str(text).map_err(|e| format!("rekor bundle is not cosign's: {e}"))
    }

    pub fn bundle_json(&self) -> String {
        // Serialising plain strings and integers cannot fail.
        serde_json::to_string(self).unwrap_or_default()
    }

    pub fn log_index(&self) -> i64 {
        self.payload.log_index
    }

    /// What the SET signs: the canonical JSON (RFC 8785: sorted keys, no spaces) of body,
    /// integratedTime, logID and logIndex.
    pub fn canonical_payload(&self) -> String {
        let p = &self.payload;
        format!(
            "{{\"body\":{},\"integratedTime\":{},\"logID\":{},\"logIndex\":{}}}",
            Value::String(p.body.clone()),
            p.integrated_time,
            Value::String(p.log_id.clone()),
            p.log_index
        )
    }

    /// Verifies the SET with whichever of `keys` the bundle's logID names (the log's ID is the
    /// SHA-256 of its key's DER).
    pub fn verify_set(&self, keys: &[PublicKey]) -> Result<(), String> {
        let key = keys
            .iter()
            .find(|k| hex::encode(Sha256::digest(k.to_spki_der())) == self.payload.log_id)
            .ok_or_else(|| {
                format!(
                    "rekor bundle: log {} is not a trusted rekor log (--rekor-public-key)",
                    self.payload.log_id
                )
            })?;
        let set = STANDARD
            .decode(&self.signed_entry_timestamp)
            .map_err(|_| "rekor bundle: SignedEntryTimestamp is not base64".to_owned())?;
        key.verify(self.canonical_payload().as_bytes(), &set)
            .map_err(|_| {
                "rekor bundle: the signed entry timestamp does not verify with the rekor public key"
                    .to_owned()
            })
    }

    /// Checks that the logged entry is a hashedrekord of this payload, signature and
    /// certificate (compared as DER, so PEM line wrapping does not matter).
    pub fn check_body(
        &self,
        payload: &[u8],
        signature: &[u8],
        cert_der: &[u8],
    ) -> Result<(), String> {
        let bytes = STANDARD
            .decode(&self.payload.body)
            .map_err(|_| "rekor bundle: body is not base64".to_owned())?;
        let body: Value = serde_json::from_slice(&bytes)
            .map_err(|_| "rekor bundle: body is not JSON".to_owned())?;
        let field = |p: &str| body.pointer(p).and_then(Value::as_str).unwrap_or_default();
        if field("/kind") != "hashedrekord" {
            return Err(format!(
                "rekor bundle: entry kind {:?} is not hashedrekord",
                field("/kind")
            ));
        }
        if field("/spec/data/hash/algorithm") != "sha256"
            || field("/spec/data/hash/value") != hex::encode(Sha256::digest(payload))
        {
            return Err("rekor bundle: the logged hash is not the payload's sha256".to_owned());
        }
        if STANDARD
            .decode(field("/spec/signature/content"))
            .ok()
            .as_deref()
            != Some(signature)
        {
            return Err("rekor bundle: the logged signature is not this layer's".to_owned());
        }
        let logged = STANDARD
            .decode(field("/spec/signature/publicKey/content"))
            .ok()
            .and_then(|pem| String::from_utf8(pem).ok())
            .and_then(|pem| super::cert::Certificate::from_pem(&pem).ok());
        if logged.as_ref().map(|c| c.der()) != Some(cert_der) {
            return Err("rekor bundle: the logged certificate is not this layer's".to_owned());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_payload_sorts_keys_and_bundle_json_keeps_cosigns_order() {
        let b = Bundle {
            signed_entry_timestamp: "U0VU".into(),
            payload: BundlePayload {
                body: "Ym9keQ==".into(),
                integrated_time: 5,
                log_index: 7,
                log_id: "ab".into(),
            },
        };
        assert_eq!(
            b.canonical_payload(),
            r#"{"body":"Ym9keQ==","integratedTime":5,"logID":"ab","logIndex":7}"#
        );
        assert_eq!(
            b.bundle_json(),
            r#"{"SignedEntryTimestamp":"U0VU","Payload":{"body":"Ym9keQ==","integratedTime":5,"logIndex":7,"logID":"ab"}}"#
        );
        assert_eq!(Bundle::parse(&b.bundle_json()).unwrap(), b);
    }
}
