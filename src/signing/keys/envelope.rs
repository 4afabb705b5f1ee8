//! The cosign private key envelope: scrypt derives a key from the password, nacl/secretbox
//! seals the PKCS#8 DER, and JSON with base64 fields carries both (see the parent module).

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use crypto_secretbox::aead::{Aead as _, KeyInit as _};
use crypto_secretbox::{Key, Nonce, XSalsa20Poly1305};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use super::{KeyError, SIGSTORE_LABEL, pem_encode};

/// Largest scrypt work factor we accept. 2^20 with r=8 is 1 GiB of memory: well above what any
/// cosign release writes (2^15 – 2^17), low enough that a hostile key file cannot make us
/// allocate without bound.
const MAX_LOG_N: u8 = 20;
/// Memory scrypt needs is 128·r·N bytes; cap it at the same 1 GiB whatever r is.
const MAX_SCRYPT_MEMORY: u64 = 1 << 30;

/// The JSON inside a cosign private key PEM. Field order matches cosign's Go structs, so what we
/// write is byte-for-byte the shape cosign writes.
#[derive(Serialize, Deserialize)]
pub(super) struct EncryptedKey {
    pub(super) kdf: KdfSpec,
    pub(super) cipher: CipherSpec,
    pub(super) ciphertext: String,
}

#[derive(Serialize, Deserialize)]
pub(super) struct KdfSpec {
    pub(super) name: String,
    pub(super) params: ScryptParams,
    pub(super) salt: String,
}

#[derive(Serialize, Deserialize)]
pub(super) struct ScryptParams {
    #[serde(rename = "N")]
    pub(super) n: u64,
    pub(super) r: u32,
    pub(super) p: u32,
}

#[derive(Serialize, Deserialize)]
pub(super) struct CipherSpec {
    pub(super) name: String,
    pub(super) nonce: String,
}

/// Checks a key file's scrypt parameters against our limits before any memory is spent on them.
fn scrypt_params(p: &ScryptParams) -> Result<scrypt::Params, KeyError> {
    let err = |why| KeyError::KdfParams {
        n: p.n,
        r: p.r,
        p: p.p,
        why,
    };
    if !p.n.is_power_of_two() || p.n < 2 {
        return Err(err("N must be a power of two"));
    }
    // trailing_zeros of a power of two is its log2; at most 63, so the cast is lossless.
    let log_n = p.n.trailing_zeros() as u8;
    if log_n > MAX_LOG_N {
        return Err(err(
            "N above 2^20 is refused, it would take too much memory and time",
        ));
    }
    if !(1..=16).contains(&p.r) || !(1..=16).contains(&p.p) {
        return Err(err("r and p must be between 1 and 16"));
    }
    if 128 * u64::from(p.r) * p.n > MAX_SCRYPT_MEMORY {
        return Err(err("128·r·N above 1 GiB is refused"));
    }
    scrypt::Params::new(log_n, p.r, p.p).map_err(|_| err("rejected by scrypt"))
}

fn derive_key(
    password: &[u8],
    salt: &[u8],
    params: &scrypt::Params,
) -> Result<Zeroizing<[u8; 32]>, KeyError> {
    let mut key = Zeroizing::new([0u8; 32]);
    // Only an empty or absurdly long output is refused, and ours is 32 bytes.
    scrypt::scrypt(password, salt, params, key.as_mut()).map_err(|e| KeyError::Invalid {
        what: "scrypt output length",
        detail: e.to_string(),
    })?;
    Ok(key)
}

/// Opens the JSON body of a cosign private key PEM and returns the PKCS#8 DER inside.
pub(super) fn decrypt(body: &[u8], password: &[u8]) -> Result<Zeroizing<Vec<u8>>, KeyError> {
    let format = |what: &str, e: &dyn fmt::Display| KeyError::Format(format!("{what}: {e}"));
    let enc: EncryptedKey =
        serde_json::from_slice(body).map_err(|e| format("bad JSON in the PEM body", &e))?;
    if enc.kdf.name != "scrypt" {
        return Err(KeyError::Format(format!(
            "key derivation {:?}, expected \"scrypt\"",
            enc.kdf.name
        )));
    }
    if enc.cipher.name != "nacl/secretbox" {
        return Err(KeyError::Format(format!(
            "cipher {:?}, expected \"nacl/secretbox\"",
            enc.cipher.name
        )));
    }
    let params = scrypt_params(&enc.kdf.params)?;
    let salt = STANDARD
        .decode(&enc.kdf.salt)
        .map_err(|e| format("bad base64 in kdf.salt", &e))?;
    let nonce: [u8; 24] = STANDARD
        .decode(&enc.cipher.nonce)
        .map_err(|e| format("bad base64 in cipher.nonce", &e))?
        .try_into()
        .map_err(|v: Vec<u8>| {
            KeyError::Format(format!("cipher.nonce is {} bytes, expected 24", v.len()))
        })?;
    let ciphertext = STANDARD
        .decode(&enc.ciphertext)
        .map_err(|e| format("bad base64 in ciphertext", &e))?;

    let key = derive_key(password, &salt, &params)?;
    let cipher = XSalsa20Poly1305::new(Key::from_slice(key.as_ref()));
    // Authentication failure is the only way open fails; with a well-formed file that means
    // the password is wrong (or the ciphertext was altered).
    cipher
        .decrypt(&Nonce::from(nonce), ciphertext.as_slice())
        .map(Zeroizing::new)
        .map_err(|_| KeyError::WrongPassword)
}

/// Encrypts PKCS#8 DER into a cosign private key PEM with scrypt N = 2^log_n, r=8, p=1.
pub(super) fn encrypt(der: &[u8], password: &[u8], log_n: u8) -> Result<String, KeyError> {
    let mut salt = [0u8; 32];
    let mut nonce = [0u8; 24];
    getrandom::fill(&mut salt).map_err(|e| KeyError::Random(e.to_string()))?;
    getrandom::fill(&mut nonce).map_err(|e| KeyError::Random(e.to_string()))?;
    let spec = ScryptParams {
        n: 1 << log_n,
        r: 8,
        p: 1,
    };
    let key = derive_key(password, &salt, &scrypt_params(&spec)?)?;
    let cipher = XSalsa20Poly1305::new(Key::from_slice(key.as_ref()));
    let ciphertext = cipher
        .encrypt(&Nonce::from(nonce), der)
        .map_err(|e| KeyError::Invalid {
            what: "plaintext for secretbox",
            detail: e.to_string(),
        })?;
    let enc = EncryptedKey {
        kdf: KdfSpec {
            name: "scrypt".to_owned(),
            params: spec,
            salt: STANDARD.encode(salt),
        },
        cipher: CipherSpec {
            name: "nacl/secretbox".to_owned(),
            nonce: STANDARD.encode(nonce),
        },
        ciphertext: STANDARD.encode(ciphertext),
    };
    let json = serde_json::to_vec(&enc).map_err(|e| KeyError::Invalid {
        what: "encrypted key JSON",
        detail: e.to_string(),
    })?;
    Ok(pem_encode(SIGSTORE_LABEL, &json))
}
