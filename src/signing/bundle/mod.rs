//! Sigstore bundles (v0.3) as cosign v3 stores an image signature, as pure code: a DSSE
//! envelope (`application/vnd.in-toto+json`) over an in-toto Statement v1 whose subject is the
//! image digest and whose predicate type is `https://sigstore.dev/cosign/sign/v1`, with the
//! key's hint or the Fulcio certificate and any Rekor entries beside it. The bundle is the one
//! layer of an OCI referrer manifest (`referrer`) whose `subject` is the image.
//!
//! Parsing is strict, as sigstore-go's (proto3 JSON, unknown fields refused, through
//! `sigstore_protobuf_specs`), and the signed payload is verified as the bytes it is, never
//! re-serialised.

pub mod keyless;
pub mod referrer;
pub mod rekor;
pub mod statement;
#[cfg(test)]
mod tests;
pub mod verify;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use prost_reflect::{DynamicMessage, ReflectMessage as _};
use sha2::{Digest as _, Sha256};
use sigstore_protobuf_specs::dev::sigstore::bundle::v1::{
    Bundle as ProtoBundle, VerificationMaterial, bundle, verification_material,
};
use sigstore_protobuf_specs::dev::sigstore::common::v1::PublicKeyIdentifier;
use sigstore_protobuf_specs::dev::sigstore::rekor::v1::TransparencyLogEntry;
use sigstore_protobuf_specs::io::intoto::{Envelope, Signature};

use crate::signing::keys::{PrivateKey, PublicKey};

/// The bundle's media type, the referrer's artifactType and its layer's media type.
pub const BUNDLE_MEDIA_TYPE: &str = "application/vnd.dev.sigstore.bundle.v0.3+json";
/// The predicate type of a cosign image signature; any other is an attestation.
pub const SIGN_PREDICATE_TYPE: &str = "https://sigstore.dev/cosign/sign/v1";
/// The DSSE payload type of an in-toto statement.
pub const INTOTO_PAYLOAD_TYPE: &str = "application/vnd.in-toto+json";
/// A bundle blob larger than this is not fetched (cosign's are under 10 KiB).
pub const MAX_BUNDLE_BYTES: u64 = 1024 * 1024;

/// Media types a bundle may declare (the spec's older spellings included).
const ACCEPTED_MEDIA_TYPES: [&str; 4] = [
    BUNDLE_MEDIA_TYPE,
    "application/vnd.dev.sigstore.bundle+json;version=0.3",
    "application/vnd.dev.sigstore.bundle+json;version=0.2",
    "application/vnd.dev.sigstore.bundle+json;version=0.1",
];

/// What identifies the signer.
#[derive(Debug, Clone, PartialEq)]
pub enum Material {
    /// A key the verifier holds; the hint (base64 SHA-256 of its DER SubjectPublicKeyInfo,
    /// as cosign writes it) is unauthenticated.
    PublicKey { hint: String },
    /// A Fulcio certificate (DER), leaf first, and any intermediates the signer added.
    Certificates(Vec<Vec<u8>>),
}

/// A parsed bundle holding a DSSE envelope with exactly one signature.
#[derive(Debug, Clone)]
pub struct Bundle {
    pub payload_type: String,
    /// The envelope's payload: the statement bytes the signature covers.
    pub payload: Vec<u8>,
    pub signature: Vec<u8>,
    pub material: Material,
    pub tlog_entries: Vec<TransparencyLogEntry>,
    /// RFC 3161 signed timestamps (DER), when a TSA was used.
    pub timestamps: Vec<Vec<u8>>,
}

/// Why bytes are not a bundle kbundle can judge.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum BundleError {
    #[error("not a sigstore bundle: {0}")]
    Parse(String),
    #[error("bundle media type {0:?} is not a sigstore bundle v0.1 to v0.3")]
    MediaType(String),
    #[error(
        "bundle holds a message signature, not a DSSE envelope: not an image signature cosign writes"
    )]
    NotDsse,
    #[error("bundle has no verification material")]
    NoMaterial,
    #[error("the DSSE envelope has {0} signatures; a bundle's must have exactly one")]
    Signatures(usize),
}

/// DSSE's pre-authentication encoding, which is what the signature covers:
/// `DSSEv1 <len(type)> <type> <len(payload)> <payload>`.
pub fn pae(payload_type: &str, payload: &[u8]) -> Vec<u8> {
    let mut out = format!(
        "DSSEv1 {} {payload_type} {} ",
        payload_type.len(),
        payload.len()
    )
    .into_bytes();
    out.extend_from_slice(payload);
    out
}

/// cosign's key hint: base64 of the SHA-256 of the DER SubjectPublicKeyInfo.
pub fn key_hint(key: &PublicKey) -> String {
    STANDARD.encode(Sha256::digest(key.to_spki_der()))
}

/// Parses bundle JSON strictly (proto3 JSON mapping; unknown fields are errors).
pub fn parse(bytes: &[u8]) -> Result<Bundle, BundleError> {
    let descriptor = ProtoBundle::default().descriptor();
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let dynamic = DynamicMessage::deserialize(descriptor, &mut de)
        .and_then(|m| de.end().map(|()| m))
        .map_err(|e| BundleError::Parse(e.to_string()))?;
    let proto: ProtoBundle = dynamic
        .transcode_to()
        .map_err(|e| BundleError::Parse(e.to_string()))?;
    if !ACCEPTED_MEDIA_TYPES.contains(&proto.media_type.as_str()) {
        return Err(BundleError::MediaType(proto.media_type));
    }
    let envelope = match proto.content {
        Some(bundle::Content::DsseEnvelope(e)) => e,
        Some(bundle::Content::MessageSignature(_)) => return Err(BundleError::NotDsse),
        None => return Err(BundleError::Parse("no content (dsseEnvelope)".into())),
    };
    let [signature] = <[Signature; 1]>::try_from(envelope.signatures)
        .map_err(|all| BundleError::Signatures(all.len()))?;
    let vm = proto.verification_material.ok_or(BundleError::NoMaterial)?;
    let material = match vm.content.ok_or(BundleError::NoMaterial)? {
        verification_material::Content::PublicKey(k) => Material::PublicKey { hint: k.hint },
        verification_material::Content::Certificate(c) => Material::Certificates(vec![c.raw_bytes]),
        verification_material::Content::X509CertificateChain(chain) => Material::Certificates(
            chain
                .certificates
                .into_iter()
                .map(|c| c.raw_bytes)
                .collect(),
        ),
    };
    if matches!(&material, Material::Certificates(c) if c.is_empty()) {
        return Err(BundleError::NoMaterial);
    }
    let timestamps = vm
        .timestamp_verification_data
        .map(|t| {
            t.rfc3161_timestamps
                .into_iter()
                .map(|t| t.signed_timestamp)
                .collect()
        })
        .unwrap_or_default();
    Ok(Bundle {
        payload_type: envelope.payload_type,
        payload: envelope.payload,
        signature: signature.sig,
        material,
        tlog_entries: vm.tlog_entries,
        timestamps,
    })
}

/// A keyed bundle, as `cosign sign --key` without a transparency log writes it: `statement`
/// signed over its PAE, the key's hint, no log entries.
pub fn keyed(statement: Vec<u8>, key: &PrivateKey) -> Vec<u8> {
    let signature = key.sign(&pae(INTOTO_PAYLOAD_TYPE, &statement));
    let hint = key_hint(&key.public_key());
    encode(
        statement,
        signature,
        verification_material::Content::PublicKey(PublicKeyIdentifier { hint }),
        Vec::new(),
    )
}

/// A bundle around a signature made elsewhere (keyless: the certificate and the Rekor entry).
pub fn encode(
    statement: Vec<u8>,
    signature: Vec<u8>,
    material: verification_material::Content,
    tlog_entries: Vec<TransparencyLogEntry>,
) -> Vec<u8> {
    let proto = ProtoBundle {
        media_type: BUNDLE_MEDIA_TYPE.to_owned(),
        verification_material: Some(VerificationMaterial {
            tlog_entries,
            timestamp_verification_data: None,
            content: Some(material),
        }),
        content: Some(bundle::Content::DsseEnvelope(Envelope {
            payload: statement,
            payload_type: INTOTO_PAYLOAD_TYPE.to_owned(),
            signatures: vec![Signature {
                sig: signature,
                keyid: String::new(),
            }],
        })),
    };
    // Serialising a message whose every field is set by us cannot fail.
    serde_json::to_vec(&proto).unwrap_or_default()
}
