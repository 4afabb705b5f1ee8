//! Keyless signing and verification, as cosign does it with Sigstore: an OIDC ID token buys a
//! ten-minute Fulcio certificate for an ephemeral key, the signature goes into the Rekor
//! transparency log, and the `.sig` layer carries the certificate, its chain and the Rekor
//! bundle so that a verifier can check all of it offline, long after the certificate expired.
//!
//! `oidc` finds the token, `fulcio` and `rekor` speak the two services' published APIs,
//! `cert` reads Fulcio certificates, `tlog` checks a Rekor bundle, `trust` holds the roots and
//! `verify` judges a layer.

pub mod cert;
pub mod dsse;
pub mod fulcio;
pub mod oidc;
pub mod rekor;
pub mod tlog;
pub mod trust;
pub mod verify;

use std::time::Duration;

use crate::auth::secret::Secret;
use crate::signing::cosign::SignatureLayer;
use crate::signing::keys::PrivateKey;

/// Layer annotation with the leaf certificate (PEM), as cosign writes it.
pub const CERTIFICATE_ANNOTATION: &str = "dev.sigstore.cosign/certificate";
/// Layer annotation with the rest of the chain (PEM, concatenated), as cosign writes it.
pub const CHAIN_ANNOTATION: &str = "dev.sigstore.cosign/chain";

/// The public-good instances, cosign's defaults.
pub const DEFAULT_FULCIO_URL: &str = "https://fulcio.sigstore.dev";
pub const DEFAULT_REKOR_URL: &str = "https://rekor.sigstore.dev";

/// Where to get a certificate and where to log the signature.
#[derive(Debug, Clone)]
pub struct Endpoints {
    pub fulcio: String,
    pub rekor: String,
}

/// What a keyless signature was made as, for the caller's message.
#[derive(Debug, Clone)]
pub struct Signed {
    pub layer: SignatureLayer,
    pub identity: String,
    pub issuer: String,
    pub log_index: i64,
}

pub(crate) fn agent() -> ureq::Agent {
    crate::http::agent(Duration::from_secs(60))
}

/// Waits before the second and third attempt of a request the service could not answer.
const BACKOFF: [Duration; 2] = [Duration::from_millis(500), Duration::from_secs(2)];

/// POSTs JSON and returns the status and body. With `retry`, 429, 5xx and transport failures
/// are tried again with backoff: safe for Fulcio (a new certificate each time), not for Rekor,
/// whose entry may have been logged before the answer was lost.
pub(crate) fn post_json(
    agent: &ureq::Agent,
    url: &str,
    body: &str,
    flag: &str,
    retry: bool,
) -> Result<(u16, String), String> {
    let waits: &[Duration] = if retry { &BACKOFF } else { &[] };
    let result = crate::http::retrying(flag, waits, || {
        agent
            .post(url)
            .header("Content-Type", "application/json")
            .header("Accept", "application/json")
            .send(body)
    });
    let mut response = result.map_err(|e| format!("{flag}: {e}"))?;
    let status = response.status().as_u16();
    let text = response.body_mut().read_to_string().unwrap_or_default();
    Ok((status, text))
}

/// Signs `payload` keylessly: ephemeral key → Fulcio certificate → signature → Rekor entry,
/// and returns the `.sig` layer with every annotation cosign writes. The key lives only for
/// this call; nothing can sign with the certificate afterwards.
pub fn sign(
    agent: &ureq::Agent,
    endpoints: &Endpoints,
    token: &Secret,
    payload: Vec<u8>,
) -> Result<Signed, String> {
    let key = PrivateKey::generate();
    let chain = fulcio::signing_cert(agent, &endpoints.fulcio, token, &key)?;
    let leaf = cert::Certificate::from_pem(&chain.leaf).map_err(|e| {
        format!(
            "--fulcio-url {}: the issued certificate: {e}",
            endpoints.fulcio
        )
    })?;
    if leaf.public_key_der() != key.public_key().to_spki_der() {
        return Err(format!(
            "--fulcio-url {}: the issued certificate is for another public key than the one sent",
            endpoints.fulcio
        ));
    }
    let signature = key.sign(&payload);
    let entry = rekor::upload(agent, &endpoints.rekor, &payload, &signature, &chain.leaf)?;
    let mut layer = SignatureLayer::new(payload, &signature);
    layer
        .annotations
        .insert(CERTIFICATE_ANNOTATION.to_owned(), chain.leaf.clone());
    layer
        .annotations
        .insert(CHAIN_ANNOTATION.to_owned(), chain.rest.concat());
    layer.annotations.insert(
        crate::signing::cosign::BUNDLE_ANNOTATION.to_owned(),
        entry.bundle_json(),
    );
    Ok(Signed {
        layer,
        identity: leaf.identities().into_iter().next().unwrap_or_default(),
        issuer: leaf.issuer_claim().unwrap_or_default(),
        log_index: entry.log_index(),
    })
}
