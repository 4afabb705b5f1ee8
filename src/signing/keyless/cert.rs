//! Fulcio certificates: the identity in the SAN, the OIDC issuer in Fulcio's extension, the
//! validity window, and who signed them.

use x509_parser::certificate::X509Certificate;
use x509_parser::extensions::GeneralName;
use x509_parser::prelude::FromDer as _;

use crate::signing::keys::{self, PublicKey};

/// Fulcio's OIDC issuer extension (a DER UTF8String), written since Fulcio 1.x.
const OID_ISSUER_V2: &str = "1.3.6.1.4.1.57264.1.8";
/// The legacy issuer extension (the raw string bytes), still in older certificates.
const OID_ISSUER_V1: &str = "1.3.6.1.4.1.57264.1.1";

/// Fulcio's deprecated GitHub workflow extensions (raw strings), which `cosign verify -o json`
/// still prints under these names.
const GITHUB_EXTENSIONS: [(&str, &str); 5] = [
    ("1.3.6.1.4.1.57264.1.2", "githubWorkflowTrigger"),
    ("1.3.6.1.4.1.57264.1.3", "githubWorkflowSha"),
    ("1.3.6.1.4.1.57264.1.4", "githubWorkflowName"),
    ("1.3.6.1.4.1.57264.1.5", "githubWorkflowRepository"),
    ("1.3.6.1.4.1.57264.1.6", "githubWorkflowRef"),
];

/// A certificate, kept as DER and parsed when asked (the parser borrows).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Certificate {
    // Private: `parsed` relies on these bytes having parsed once.
    der: Vec<u8>,
}

impl Certificate {
    pub fn from_der(der: Vec<u8>) -> Result<Certificate, String> {
        X509Certificate::from_der(&der).map_err(|e| format!("not an X.509 certificate: {e}"))?;
        Ok(Certificate { der })
    }

    /// The first `CERTIFICATE` block of `pem`.
    pub fn from_pem(pem: &str) -> Result<Certificate, String> {
        Certificate::all_from_pem(pem)?
            .into_iter()
            .next()
            .ok_or_else(|| "no PEM CERTIFICATE block".to_owned())
    }

    /// Every `CERTIFICATE` block of `pem`, in order.
    pub fn all_from_pem(pem: &str) -> Result<Vec<Certificate>, String> {
        let mut out = Vec::new();
        for block in x509_parser::pem::Pem::iter_from_buffer(pem.as_bytes()) {
            let block = block.map_err(|e| format!("bad PEM: {e}"))?;
            if block.label == "CERTIFICATE" {
                out.push(Certificate::from_der(block.contents)?);
            }
        }
        Ok(out)
    }

    pub fn der(&self) -> &[u8] {
        &self.der
    }

    /// `from_der` checked that these bytes parse and they never change, so this is always
    /// `Some`; callers still fall back to "nothing found" rather than panic.
    fn parsed(&self) -> Option<X509Certificate<'_>> {
        X509Certificate::from_der(&self.der).ok().map(|(_, c)| c)
    }

    /// The DER SubjectPublicKeyInfo.
    pub fn public_key_der(&self) -> Vec<u8> {
        self.parsed()
            .map(|c| c.public_key().raw.to_vec())
            .unwrap_or_default()
    }

    pub fn public_key(&self) -> Result<PublicKey, String> {
        keys::public_key_from_spki(&self.public_key_der()).map_err(|e| e.to_string())
    }

    /// The SAN's e-mail addresses and URIs: what `--certificate-identity` is compared with.
    pub fn identities(&self) -> Vec<String> {
        let Some(cert) = self.parsed() else {
            return Vec::new();
        };
        let Ok(Some(san)) = cert.subject_alternative_name() else {
            return Vec::new();
        };
        san.value
            .general_names
            .iter()
            .filter_map(|n| match n {
                GeneralName::RFC822Name(s) | GeneralName::URI(s) => Some((*s).to_owned()),
                _ => None,
            })
            .collect()
    }

    /// The OIDC issuer Fulcio recorded.
    pub fn issuer_claim(&self) -> Option<String> {
        let cert = self.parsed()?;
        let ext = |oid: &str| {
            cert.extensions()
                .iter()
                .find(|e| e.oid.to_id_string() == oid)
                .map(|e| e.value)
        };
        if let Some(v) = ext(OID_ISSUER_V2) {
            return der_utf8(v);
        }
        ext(OID_ISSUER_V1).and_then(|v| String::from_utf8(v.to_vec()).ok())
    }

    /// The GitHub workflow extensions present, by cosign's names.
    pub fn github_workflow(&self) -> Vec<(&'static str, String)> {
        let Some(cert) = self.parsed() else {
            return Vec::new();
        };
        GITHUB_EXTENSIONS
            .iter()
            .filter_map(|(oid, name)| {
                let ext = cert
                    .extensions()
                    .iter()
                    .find(|e| e.oid.to_id_string() == *oid)?;
                let value = String::from_utf8(ext.value.to_vec()).ok()?;
                Some((*name, value))
            })
            .collect()
    }

    /// notBefore and notAfter as Unix seconds.
    /// An unreadable certificate gets an empty window, so every time check fails.
    pub fn validity(&self) -> (i64, i64) {
        match self.parsed() {
            Some(c) => (
                c.validity().not_before.timestamp(),
                c.validity().not_after.timestamp(),
            ),
            None => (i64::MAX, i64::MIN),
        }
    }

    /// Whether the extended key usage allows code signing, as Fulcio sets and cosign requires.
    pub fn is_for_code_signing(&self) -> bool {
        self.parsed().is_some_and(
            |c| matches!(c.extended_key_usage(), Ok(Some(eku)) if eku.value.code_signing),
        )
    }

    pub fn is_ca(&self) -> bool {
        self.parsed()
            .is_some_and(|c| matches!(c.basic_constraints(), Ok(Some(bc)) if bc.value.ca))
    }

    /// Whether `issuer` issued this certificate: names match and its key verifies our
    /// signature.
    pub fn issued_by(&self, issuer: &Certificate) -> bool {
        let (Some(me), Some(them)) = (self.parsed(), issuer.parsed()) else {
            return false;
        };
        me.issuer().as_raw() == them.subject().as_raw()
            && me.verify_signature(Some(them.public_key())).is_ok()
    }

    /// The SAN identity, else the subject: how messages name a certificate.
    pub fn subject_or_identity(&self) -> String {
        self.identities()
            .into_iter()
            .next()
            .or_else(|| self.parsed().map(|c| c.subject().to_string()))
            .unwrap_or_default()
    }
}

/// A DER UTF8String (tag 12) with a short or long length.
fn der_utf8(v: &[u8]) -> Option<String> {
    let (&tag, rest) = v.split_first()?;
    if tag != 0x0c {
        return None;
    }
    let (&first, rest) = rest.split_first()?;
    let (len, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 || rest.len() < n {
            return None;
        }
        let len = rest[..n]
            .iter()
            .fold(0usize, |a, b| (a << 8) | usize::from(*b));
        (len, &rest[n..])
    };
    String::from_utf8(rest.get(..len)?.to_vec()).ok()
}

/// PEM text of DER certificate bytes.
pub fn to_pem(der: &[u8]) -> String {
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let mut out = String::from("-----BEGIN CERTIFICATE-----\n");
    for chunk in b64.as_bytes().chunks(64) {
        out.push_str(&String::from_utf8_lossy(chunk));
        out.push('\n');
    }
    out.push_str("-----END CERTIFICATE-----\n");
    out
}

#[cfg(test)]
mod tests {
    use super::der_utf8;

    #[test]
    fn issuer_extension_is_a_der_utf8_string() {
        assert_eq!(der_utf8(b"\x0c\x03abc").as_deref(), Some("abc"));
        assert_eq!(der_utf8(b"\x0c\x81\x03abc").as_deref(), Some("abc"));
        assert_eq!(der_utf8(b"\x13\x03abc"), None);
        assert_eq!(der_utf8(b"\x0c\x05abc"), None);
    }
}
