//! What keyless verification trusts: Fulcio CA certificates and Rekor public keys. By default
//! the Sigstore public-good instance's, from sigstore/root-signing's `trusted_root.json`
//! (embedded verbatim); `--certificate-chain` and `--rekor-public-key` replace them for a
//! private Sigstore.

use std::path::Path;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::Value;

use super::cert::Certificate;
use crate::signing::keys::{self, PublicKey};

const PUBLIC_GOOD: &str = include_str!("trusted_root.json");

/// Longest chain we follow from a leaf to a trusted certificate.
const MAX_DEPTH: usize = 5;

#[derive(Debug, Clone)]
pub struct TrustRoot {
    /// Trusted CA certificates: a chain ending at any of them is accepted.
    pub cas: Vec<Certificate>,
    pub rekor_keys: Vec<PublicKey>,
}

impl TrustRoot {
    /// Sigstore's public-good Fulcio CAs and Rekor key.
    pub fn public_good() -> Result<TrustRoot, String> {
        let root: Value = serde_json::from_str(PUBLIC_GOOD).map_err(|e| e.to_string())?;
        let raw = |v: &Value| -> Result<Vec<u8>, String> {
            v.get("rawBytes")
                .and_then(Value::as_str)
                .and_then(|b| STANDARD.decode(b).ok())
                .ok_or_else(|| "embedded trusted_root.json: bad rawBytes".to_owned())
        };
        let list = |k: &str| {
            root.get(k)
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default()
        };
        let mut cas = Vec::new();
        for ca in list("certificateAuthorities") {
            let certs = ca
                .pointer("/certChain/certificates")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            for c in &certs {
                cas.push(Certificate::from_der(raw(c)?)?);
            }
        }
        let mut rekor_keys = Vec::new();
        for log in list("tlogs") {
            let key = log
                .get("publicKey")
                .ok_or("embedded trusted_root.json: no publicKey")?;
            rekor_keys.push(keys::public_key_from_spki(&raw(key)?).map_err(|e| e.to_string())?);
        }
        Ok(TrustRoot { cas, rekor_keys })
    }

    /// The default, with each part a flag names replaced by the file's contents. Errors name
    /// the flag.
    pub fn load(chain: Option<&Path>, rekor_key: Option<&Path>) -> Result<TrustRoot, String> {
        let mut root = TrustRoot::public_good()?;
        if let Some(path) = chain {
            let flag = format!("--certificate-chain {}", path.display());
            let pem = std::fs::read_to_string(path).map_err(|e| format!("{flag}: {e}"))?;
            root.cas = Certificate::all_from_pem(&pem).map_err(|e| format!("{flag}: {e}"))?;
            if root.cas.is_empty() {
                return Err(format!("{flag}: no PEM CERTIFICATE blocks"));
            }
        }
        if let Some(path) = rekor_key {
            let flag = format!("--rekor-public-key {}", path.display());
            let pem = std::fs::read_to_string(path).map_err(|e| format!("{flag}: {e}"))?;
            let key = PublicKey::from_pem(&pem).map_err(|e| format!("{flag}: {e}"))?;
            root.rekor_keys = vec![key];
        }
        Ok(root)
    }

    /// Follows `leaf` up through `intermediates` (from the layer, untrusted) to a trusted CA.
    /// Every issuer must be a CA valid at `at` (the Rekor integrated time: the moment of
    /// signing, not now, so expired short-lived certificates still verify).
    pub fn verify_chain(
        &self,
        leaf: &Certificate,
        intermediates: &[Certificate],
        at: i64,
    ) -> Result<(), String> {
        let usable = |c: &Certificate| {
            let (from, until) = c.validity();
            c.is_ca() && from <= at && at <= until
        };
        let mut current = leaf;
        for _ in 0..MAX_DEPTH {
            if self.cas.iter().any(|t| current.issued_by(t) && usable(t)) {
                return Ok(());
            }
            match intermediates
                .iter()
                .find(|c| current.issued_by(c) && usable(c))
            {
                Some(next) => current = next,
                None => break,
            }
        }
        Err(format!(
            "certificate ({}) does not chain to a trusted fulcio root (--certificate-chain)",
            leaf.subject_or_identity()
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_public_good_root_loads() {
        let root = TrustRoot::public_good().unwrap();
        assert_eq!(root.cas.len(), 3);
        assert_eq!(root.rekor_keys.len(), 1);
        // The intermediate is signed by the 2021-10 root.
        assert!(root.cas[2].issued_by(&root.cas[1]));
        assert!(root.cas[1].is_ca());
    }
}
