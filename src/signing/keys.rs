//! Cosign-compatible key pairs: the encrypted private key file (`cosign.key`), the PKIX public
//! key (`cosign.pub`), and signing and verifying the way cosign does.
//!
//! The private key file is a PEM block labelled `ENCRYPTED SIGSTORE PRIVATE KEY` (cosign ≥ 2.0)
//! or `ENCRYPTED COSIGN PRIVATE KEY` (older cosign) whose body is JSON:
//!
//! ```text
//! {"kdf":{"name":"scrypt","params":{"N":65536,"r":8,"p":1},"salt":"<b64>"},
//!  "cipher":{"name":"nacl/secretbox","nonce":"<b64, 24 bytes>"},
//!  "ciphertext":"<b64>"}
//! ```
//!
//! The secretbox key is scrypt(password, salt, N, r, p) → 32 bytes, and the plaintext is a
//! PKCS#8 DER private key (ECDSA P-256 by default; Ed25519 and RSA occur too).

use std::ffi::OsString;
use std::fmt;
use std::io::IsTerminal as _;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};
use getrandom::SysRng;
use getrandom::rand_core::UnwrapErr;
use p256::ecdsa::signature::{
    RandomizedSigner as _, SignatureEncoding as _, Signer as _, Verifier as _,
};
use p256::elliptic_curve::Generate as _;
use pkcs8::spki::{DecodePublicKey as _, EncodePublicKey as _, SubjectPublicKeyInfoRef};
use pkcs8::{DecodePrivateKey as _, EncodePrivateKey as _, ObjectIdentifier, PrivateKeyInfoRef};
use rsa::traits::PublicKeyParts as _;
use sha2::{Digest as _, Sha256};
use zeroize::Zeroizing;

use crate::auth::secret::Secret;

mod envelope;
#[cfg(test)]
mod tests;

#[cfg(test)]
use envelope::EncryptedKey;
use envelope::{decrypt, encrypt};

/// The PEM label cosign ≥ 2.0 writes.
const SIGSTORE_LABEL: &str = "ENCRYPTED SIGSTORE PRIVATE KEY";
/// The PEM label older cosign wrote; keys made then are still in use, so we read it too.
const COSIGN_LABEL: &str = "ENCRYPTED COSIGN PRIVATE KEY";
const PUBLIC_LABEL: &str = "PUBLIC KEY";

/// log2 of the scrypt N that `cosign generate-key-pair` uses today (65536).
const COSIGN_LOG_N: u8 = 16;
const OID_EC_PUBLIC_KEY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
const OID_P256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.3.1.7");
const OID_ED25519: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.101.112");
const OID_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");

/// A private signing key, as found inside a cosign key file.
pub enum PrivateKey {
    EcdsaP256(p256::ecdsa::SigningKey),
    Ed25519(ed25519_dalek::SigningKey),
    Rsa(Box<rsa::PrivateKey>),
}

/// A public key, as found in `cosign.pub` (PKIX SubjectPublicKeyInfo).
#[derive(Clone, Debug, PartialEq)]
pub enum PublicKey {
    EcdsaP256(p256::ecdsa::VerifyingKey),
    Ed25519(ed25519_dalek::VerifyingKey),
    Rsa(Box<rsa::PublicKey>),
}

/// Why a key could not be read, written or used. Messages are lower-case and read well after
/// "<file>: ", which the caller adds.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("no PEM block found (expected -----BEGIN {expected}-----)")]
    NoPem { expected: &'static str },
    #[error("malformed PEM block {label:?}: {detail}")]
    Pem { label: String, detail: String },
    #[error("expected a {expected} PEM block, found {found:?}{hint}")]
    WrongLabel {
        expected: &'static str,
        found: String,
        hint: &'static str,
    },
    #[error("not a cosign private key: {0}")]
    Format(String),
    #[error("unsupported scrypt parameters N={n}, r={r}, p={p}: {why}")]
    KdfParams {
        n: u64,
        r: u32,
        p: u32,
        why: &'static str,
    },
    #[error(
        "wrong password? the key did not decrypt (check COSIGN_PASSWORD or the password typed; \
         an empty password is a password too)"
    )]
    WrongPassword,
    #[error("unsupported key type {0} (kbundle, like cosign, uses ECDSA P-256, Ed25519 or RSA)")]
    Unsupported(String),
    #[error("invalid {what}: {detail}")]
    Invalid { what: &'static str, detail: String },
    #[error("signature does not verify with public key {fingerprint}")]
    BadSignature { fingerprint: String },
    #[error("malformed {kind} signature: {detail}")]
    MalformedSignature { kind: &'static str, detail: String },
    #[error("the operating system's random number generator failed: {0}")]
    Random(String),
    #[error("no password: set COSIGN_PASSWORD (it may be empty) or run on a terminal to be asked")]
    NoPassword,
    #[error("COSIGN_PASSWORD is not valid UTF-8")]
    PasswordNotUtf8,
    #[error("cannot read the password from the terminal: {0}")]
    Terminal(#[source] std::io::Error),
}

impl PrivateKey {
    /// Decrypts a cosign private key file's text.
    pub fn from_cosign_pem(pem: &str, password: &[u8]) -> Result<PrivateKey, KeyError> {
        let (label, body) = pem_decode(pem, SIGSTORE_LABEL)?;
        if label != SIGSTORE_LABEL && label != COSIGN_LABEL {
            let hint = match label.as_str() {
                PUBLIC_LABEL => " (that is a public key; pass the private key, e.g. cosign.key)",
                l if l.ends_with("PRIVATE KEY") => {
                    " (an unencrypted key: `cosign import-key-pair` turns it into a cosign key)"
                }
                _ => "",
            };
            return Err(KeyError::WrongLabel {
                expected: SIGSTORE_LABEL,
                found: label,
                hint,
            });
        }
        let der = decrypt(&body, password)?;
        private_key_from_pkcs8(&der)
    }

    /// A new ECDSA P-256 key (cosign's default), from the OS RNG.
    pub fn generate() -> PrivateKey {
        // A key pair cannot be made without randomness, and an OS whose RNG fails is one we must
        // not go on signing on: panicking there (inside UnwrapErr) is the right outcome.
        PrivateKey::EcdsaP256(p256::ecdsa::SigningKey::generate_from_rng(&mut UnwrapErr(
            SysRng,
        )))
    }

    /// Encrypts in cosign's format: label ENCRYPTED SIGSTORE PRIVATE KEY, scrypt N=65536 r=8
    /// p=1, random 32-byte salt and 24-byte nonce, PKCS#8 DER inside. Lines of 64 chars.
    pub fn to_cosign_pem(&self, password: &[u8]) -> Result<String, KeyError> {
        encrypt(&self.to_pkcs8_der()?, password, COSIGN_LOG_N)
    }

    pub fn public_key(&self) -> PublicKey {
        match self {
            PrivateKey::EcdsaP256(k) => PublicKey::EcdsaP256(*k.verifying_key()),
            PrivateKey::Ed25519(k) => PublicKey::Ed25519(k.verifying_key()),
            PrivateKey::Rsa(k) => PublicKey::Rsa(Box::new(k.to_public_key())),
        }
    }

    /// Signs like cosign: ECDSA P-256 over SHA-256, DER-encoded signature; Ed25519 raw 64-byte
    /// signature of the message; RSA PKCS#1 v1.5 with SHA-256.
    pub fn sign(&self, message: &[u8]) -> Vec<u8> {
        match self {
            // RFC 6979 deterministic nonces: no RNG needed, and no nonce reuse risk.
            PrivateKey::EcdsaP256(k) => {
                let sig: p256::ecdsa::DerSignature = k.sign(message);
                sig.to_vec()
            }
            PrivateKey::Ed25519(k) => k.sign(message).to_bytes().to_vec(),
            PrivateKey::Rsa(k) => {
                let signer = rsa::pkcs1v15::SigningKey::<Sha256>::new((**k).clone());
                // The randomized signer blinds the private-key operation, which the plain
                // `Signer` does not; that matters against timing attacks on RSA. The RNG
                // failing is as fatal as in `generate`.
                signer
                    .sign_with_rng(&mut UnwrapErr(SysRng), message)
                    .to_vec()
            }
        }
    }

    fn to_pkcs8_der(&self) -> Result<Zeroizing<Vec<u8>>, KeyError> {
        let doc = match self {
            PrivateKey::EcdsaP256(k) => k.to_pkcs8_der(),
            PrivateKey::Ed25519(k) => k.to_pkcs8_der(),
            PrivateKey::Rsa(k) => k.to_pkcs8_der(),
        }
        .map_err(|e| KeyError::Invalid {
            what: "private key",
            detail: format!("cannot encode it as PKCS#8: {e}"),
        })?;
        Ok(Zeroizing::new(doc.as_bytes().to_vec()))
    }
}

impl fmt::Debug for PrivateKey {
    /// Only the public fingerprint: a private key must never reach a log line.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let public = self.public_key();
        write!(
            f,
            "PrivateKey({}, public {})",
            public.kind(),
            public.sha256()
        )
    }
}

impl PublicKey {
    pub fn from_pem(pem: &str) -> Result<PublicKey, KeyError> {
        let (label, der) = pem_decode(pem, PUBLIC_LABEL)?;
        if label != PUBLIC_LABEL {
            let hint = if label.ends_with("PRIVATE KEY") {
                " (that is a private key; pass the public key, e.g. cosign.pub)"
            } else {
                ""
            };
            return Err(KeyError::WrongLabel {
                expected: PUBLIC_LABEL,
                found: label,
                hint,
            });
        }
        public_key_from_spki(&der)
    }

    /// "-----BEGIN PUBLIC KEY-----" PKIX, LF line endings, trailing newline.
    pub fn to_pem(&self) -> String {
        pem_encode(PUBLIC_LABEL, &self.to_spki_der())
    }

    /// Verifies a signature made by `sign` (for ECDSA accept DER; also accept the 64-byte fixed
    /// form).
    pub fn verify(&self, message: &[u8], signature: &[u8]) -> Result<(), KeyError> {
        let malformed = |kind, e: &dyn fmt::Display| KeyError::MalformedSignature {
            kind,
            detail: e.to_string(),
        };
        let verified = match self {
            PublicKey::EcdsaP256(k) => {
                // cosign writes DER; some tools hand over the fixed 64-byte r‖s form. DER is
                // tried first because it is what cosign makes; a 64-byte DER blob is possible.
                let sig = p256::ecdsa::Signature::from_der(signature)
                    .or_else(|der_err| {
                        if signature.len() == 64 {
                            p256::ecdsa::Signature::from_slice(signature)
                        } else {
                            Err(der_err)
                        }
                    })
                    .map_err(|e| malformed("ecdsa-p256", &e))?;
                k.verify(message, &sig).is_ok()
            }
            PublicKey::Ed25519(k) => {
                let sig = ed25519_dalek::Signature::from_slice(signature)
                    .map_err(|e| malformed("ed25519", &e))?;
                k.verify(message, &sig).is_ok()
            }
            PublicKey::Rsa(k) => {
                let sig = rsa::pkcs1v15::Signature::try_from(signature)
                    .map_err(|e| malformed("rsa", &e))?;
                let verifier = rsa::pkcs1v15::VerifyingKey::<Sha256>::new((**k).clone());
                verifier.verify(message, &sig).is_ok()
            }
        };
        if verified {
            Ok(())
        } else {
            Err(KeyError::BadSignature {
                fingerprint: self.fingerprint(),
            })
        }
    }

    /// A short, stable identity for messages: "ecdsa-p256 SHA256:<base64 of sha256 of the SPKI
    /// DER, no padding>" (like ssh fingerprints).
    pub fn fingerprint(&self) -> String {
        format!("{} {}", self.kind(), self.sha256())
    }

    /// "ecdsa-p256", "ed25519" or "rsa-<bits>".
    fn kind(&self) -> String {
        match self {
            PublicKey::EcdsaP256(_) => "ecdsa-p256".to_owned(),
            PublicKey::Ed25519(_) => "ed25519".to_owned(),
            PublicKey::Rsa(k) => format!("rsa-{}", k.size() * 8),
        }
    }

    fn sha256(&self) -> String {
        format!(
            "SHA256:{}",
            STANDARD_NO_PAD.encode(Sha256::digest(self.to_spki_der()))
        )
    }

    pub fn to_spki_der(&self) -> Vec<u8> {
        let doc = match self {
            PublicKey::EcdsaP256(k) => k.to_public_key_der(),
            PublicKey::Ed25519(k) => k.to_public_key_der(),
            PublicKey::Rsa(k) => k.to_public_key_der(),
        };
        // Encoding a key that already exists in memory only fails on a bug in the DER encoder
        // (every field has a fixed, valid shape), so there is no error a caller could act on.
        #[allow(clippy::expect_used)]
        doc.expect("a valid public key always encodes as SubjectPublicKeyInfo")
            .into_vec()
    }
}

/// Gets the password for a private key: `env` is `std::env::var_os("COSIGN_PASSWORD")`; set
/// (even empty) it wins, like cosign; otherwise the terminal is asked, without echo.
pub fn read_password(env: Option<OsString>, what: &str) -> Result<Secret, KeyError> {
    if let Some(value) = env {
        return value
            .into_string()
            .map(Secret::new)
            .map_err(|_| KeyError::PasswordNotUtf8);
    }
    // Without a terminal (CI, a pipe) a prompt would hang or read the wrong thing.
    if !std::io::stdin().is_terminal() {
        return Err(KeyError::NoPassword);
    }
    rpassword::prompt_password(format!("Enter password for {what}: "))
        .map(Secret::new)
        .map_err(KeyError::Terminal)
}

/// The first PEM block in `text`: its label and decoded body. Text around it is ignored and CRLF
/// line endings are accepted, like Go's `pem.Decode` (some of cosign's own fixtures have CRLF).
fn pem_decode(text: &str, expected: &'static str) -> Result<(String, Vec<u8>), KeyError> {
    let mut lines = text.lines().map(str::trim);
    let label = lines
        .by_ref()
        .find_map(|l| l.strip_prefix("-----BEGIN ")?.strip_suffix("-----"))
        .ok_or(KeyError::NoPem { expected })?
        .to_owned();
    let end = format!("-----END {label}-----");
    let mut body = String::new();
    let mut ended = false;
    for line in lines {
        if line == end {
            ended = true;
            break;
        }
        body.push_str(line);
    }
    let pem_error = |detail: String| KeyError::Pem {
        label: label.clone(),
        detail,
    };
    if !ended {
        return Err(pem_error(format!("no {end} line")));
    }
    let der = STANDARD
        .decode(body.as_bytes())
        .map_err(|e| pem_error(format!("bad base64: {e}")))?;
    Ok((label, der))
}

/// A PEM block with 64-character lines and LF endings, as Go's `pem.Encode` writes it.
fn pem_encode(label: &str, der: &[u8]) -> String {
    let b64 = STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    // Base64 output is ASCII, so splitting the bytes at any index keeps valid UTF-8.
    for chunk in b64.as_bytes().chunks(64) {
        out.push_str(&String::from_utf8_lossy(chunk));
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

fn private_key_from_pkcs8(der: &[u8]) -> Result<PrivateKey, KeyError> {
    let invalid = |e: &dyn fmt::Display| KeyError::Invalid {
        what: "PKCS#8 private key",
        detail: e.to_string(),
    };
    let info = PrivateKeyInfoRef::try_from(der).map_err(|e| invalid(&e))?;
    match info.algorithm.oid {
        OID_EC_PUBLIC_KEY => match info.algorithm.parameters_oid() {
            Ok(OID_P256) => p256::ecdsa::SigningKey::from_pkcs8_der(der)
                .map(PrivateKey::EcdsaP256)
                .map_err(|e| invalid(&e)),
            Ok(curve) => Err(KeyError::Unsupported(format!("ECDSA on curve {curve}"))),
            Err(e) => Err(invalid(&e)),
        },
        OID_ED25519 => ed25519_dalek::SigningKey::from_pkcs8_der(der)
            .map(PrivateKey::Ed25519)
            .map_err(|e| invalid(&e)),
        OID_RSA => rsa::PrivateKey::from_pkcs8_der(der)
            .map(|k| PrivateKey::Rsa(Box::new(k)))
            .map_err(|e| invalid(&e)),
        other => Err(KeyError::Unsupported(format!("with algorithm OID {other}"))),
    }
}

pub(crate) fn public_key_from_spki(der: &[u8]) -> Result<PublicKey, KeyError> {
    let invalid = |e: &dyn fmt::Display| KeyError::Invalid {
        what: "public key",
        detail: e.to_string(),
    };
    let info = SubjectPublicKeyInfoRef::try_from(der).map_err(|e| invalid(&e))?;
    match info.algorithm.oid {
        OID_EC_PUBLIC_KEY => match info.algorithm.parameters_oid() {
            Ok(OID_P256) => p256::ecdsa::VerifyingKey::from_public_key_der(der)
                .map(PublicKey::EcdsaP256)
                .map_err(|e| invalid(&e)),
            Ok(curve) => Err(KeyError::Unsupported(format!("ECDSA on curve {curve}"))),
            Err(e) => Err(invalid(&e)),
        },
        OID_ED25519 => ed25519_dalek::VerifyingKey::from_public_key_der(der)
            .map(PublicKey::Ed25519)
            .map_err(|e| invalid(&e)),
        OID_RSA => rsa::PublicKey::from_public_key_der(der)
            .map(|k| PublicKey::Rsa(Box::new(k)))
            .map_err(|e| invalid(&e)),
        other => Err(KeyError::Unsupported(format!("with algorithm OID {other}"))),
    }
}
