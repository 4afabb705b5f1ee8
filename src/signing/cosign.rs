//! cosign's signature format, as pure code: the simple-signing payload, the signature layers of
//! the `.sig` image, and the checks `cosign verify --key` makes.
//!
//! No network and no files: the caller fetches or stores manifests and blobs (`oci`), holds the
//! key (`keys`) and decides what a failed verdict means. Bytes written here are the bytes cosign
//! writes (Go's `json.Marshal` rules, see `gojson`), so our signatures and cosign's are
//! interchangeable in both directions.

use std::collections::BTreeMap;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::Deserialize;
use serde_json::Value;

use crate::bundle::Digest;
use crate::signing::keys::PublicKey;

mod gojson;
mod manifest;
#[cfg(test)]
mod tests;

use gojson::{Held, write_string, write_value};
pub use manifest::{
    CONFIG_MEDIA_TYPE, LayerRef, MANIFEST_MEDIA_TYPE, read_signature_manifest, signature_manifest,
};

/// Media type of a signature layer: the simple-signing payload.
pub const SIMPLE_SIGNING_MEDIA_TYPE: &str = "application/vnd.dev.cosign.simplesigning.v1+json";
/// Layer annotation holding the base64 signature over the payload bytes.
pub const SIGNATURE_ANNOTATION: &str = "dev.cosignproject.cosign/signature";
/// Layer annotation cosign adds with the Rekor bundle; `verify -o json` shows it as `Bundle`.
pub const BUNDLE_ANNOTATION: &str = "dev.sigstore.cosign/bundle";
/// The `critical.type` of every cosign image signature.
pub const SIGNATURE_TYPE: &str = "cosign container image signature";

/// Errors reading cosign data.
#[derive(Debug, thiserror::Error)]
pub enum CosignError {
    /// The payload is not JSON of the simple-signing shape, or its type is not cosign's.
    #[error("payload is not a cosign simple-signing document: {0}")]
    Payload(String),
    /// The layer has no `dev.cosignproject.cosign/signature` annotation.
    #[error("no signature annotation ({SIGNATURE_ANNOTATION})")]
    NoSignature,
    /// The signature annotation is not standard base64.
    #[error("signature annotation {SIGNATURE_ANNOTATION} is not base64: {0}")]
    SignatureEncoding(String),
    /// The `.sig` manifest cannot be read as cosign's.
    #[error("signature manifest: {0}")]
    Manifest(String),
    /// A fetched payload blob is not the one the manifest names.
    #[error("signature payload blob is {actual}, but the manifest names {expected}")]
    BlobMismatch { expected: Digest, actual: Digest },
}

/// cosign's tag for the signatures of a digest: `sha256-<hex>.sig`.
pub fn signature_tag(digest: &Digest) -> String {
    format!("sha256-{}.sig", digest.hex())
}

/// The simple-signing payload bytes exactly as cosign writes them (Go's `json.Marshal` of
/// `payload.SimpleContainerImage`): `{"critical":{"identity":{"docker-reference":…},"image":
/// {"docker-manifest-digest":…},"type":"cosign container image signature"},"optional":…}`,
/// compact, with `"optional":null` when there are no annotations and sorted keys otherwise.
pub fn payload(
    docker_reference: &str,
    digest: &Digest,
    optional: &BTreeMap<String, String>,
) -> Vec<u8> {
    let values: Vec<(&str, Value)> = optional
        .iter()
        .map(|(k, v)| (k.as_str(), Value::String(v.clone())))
        .collect();
    let optional = values
        .iter()
        .map(|(k, v)| (*k, (v, Held::Interface)))
        .collect();
    encode_payload(docker_reference, digest.as_str(), &optional).into_bytes()
}

/// Shared by `payload` and `verify_json`, which both marshal cosign's struct. `optional` maps
/// each key to its value and how Go held it (most values are `interface{}`; the Rekor bundle is
/// a struct). Sorted keys, as Go writes a map.
fn encode_payload(
    docker_reference: &str,
    digest: &str,
    optional: &BTreeMap<&str, (&Value, Held)>,
) -> String {
    // cosign leaves the map nil when no annotation is given, and Go writes nil as null.
    let optional = Some(optional).filter(|o| !o.is_empty());
    encode_typed(docker_reference, digest, SIGNATURE_TYPE, optional)
}

/// What `cosign verify -o json` (v3) prints for a verified Sigstore bundle: the statement
/// turned into cosign's struct, `type` its predicate type, `optional` the subject's
/// annotations (`{}` when there are none: protobuf's `AsMap` is never nil).
pub fn bundle_payload_json(
    docker_reference: &str,
    payload: &Payload,
    predicate_type: &str,
) -> String {
    let optional: BTreeMap<&str, (&Value, Held)> = payload
        .optional
        .iter()
        .map(|(k, v)| (k.as_str(), (v, Held::Interface)))
        .collect();
    encode_typed(
        docker_reference,
        &payload.digest,
        predicate_type,
        Some(&optional),
    )
}

fn encode_typed(
    docker_reference: &str,
    digest: &str,
    kind: &str,
    optional: Option<&BTreeMap<&str, (&Value, Held)>>,
) -> String {
    let mut out = String::from(r#"{"critical":{"identity":{"docker-reference":"#);
    write_string(&mut out, docker_reference);
    out.push_str(r#"},"image":{"docker-manifest-digest":"#);
    write_string(&mut out, digest);
    out.push_str(r#"},"type":"#);
    write_string(&mut out, kind);
    out.push_str(r#"},"optional":"#);
    if let Some(optional) = optional {
        out.push('{');
        for (i, (key, (value, held))) in optional.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            write_string(&mut out, key);
            out.push(':');
            write_value(&mut out, value, *held);
        }
        out.push('}');
    } else {
        out.push_str("null");
    }
    out.push('}');
    out
}

/// A parsed simple-signing payload.
#[derive(Clone, Debug, PartialEq)]
pub struct Payload {
    /// `critical.identity.docker-reference`: the repository that was signed (not checked by
    /// `cosign verify`, kept for display).
    pub docker_reference: String,
    /// `critical.image.docker-manifest-digest`, as written (compared as a string, as cosign does).
    pub digest: String,
    /// The `optional` annotations; empty when absent or null.
    pub optional: BTreeMap<String, Value>,
}

#[derive(Deserialize)]
struct RawPayload {
    critical: RawCritical,
    #[serde(default)]
    optional: Option<BTreeMap<String, Value>>,
}

#[derive(Deserialize)]
struct RawCritical {
    #[serde(default)]
    identity: Option<RawIdentity>,
    image: RawImage,
    #[serde(rename = "type")]
    kind: String,
}

#[derive(Deserialize)]
struct RawIdentity {
    #[serde(rename = "docker-reference", default)]
    docker_reference: Option<String>,
}

#[derive(Deserialize)]
struct RawImage {
    #[serde(rename = "docker-manifest-digest")]
    docker_manifest_digest: String,
}

/// Parses a simple-signing payload. Unknown fields are ignored (as Go's decoder does); a wrong
/// `type` or a missing digest is an error.
pub fn parse_payload(bytes: &[u8]) -> Result<Payload, CosignError> {
    let raw: RawPayload =
        serde_json::from_slice(bytes).map_err(|e| CosignError::Payload(e.to_string()))?;
    if raw.critical.kind != SIGNATURE_TYPE {
        return Err(CosignError::Payload(format!(
            "type is {:?}, not {SIGNATURE_TYPE:?}",
            raw.critical.kind
        )));
    }
    Ok(Payload {
        docker_reference: raw
            .critical
            .identity
            .and_then(|i| i.docker_reference)
            .unwrap_or_default(),
        digest: raw.critical.image.docker_manifest_digest,
        optional: raw.optional.unwrap_or_default(),
    })
}

/// One signature: the payload blob and the annotations of its layer.
///
/// The signature is the base64 `SIGNATURE_ANNOTATION`; annotations cosign adds beside it
/// (`dev.sigstore.cosign/bundle`, `dev.sigstore.cosign/certificate`, …) are kept untouched so
/// copying or appending signatures never drops them.
#[derive(Clone, Debug, PartialEq)]
pub struct SignatureLayer {
    pub payload: Vec<u8>,
    pub annotations: BTreeMap<String, String>,
}

impl SignatureLayer {
    /// A layer carrying `signature` (raw DER bytes) over `payload`.
    pub fn new(payload: Vec<u8>, signature: &[u8]) -> SignatureLayer {
        let annotations =
            BTreeMap::from([(SIGNATURE_ANNOTATION.to_owned(), STANDARD.encode(signature))]);
        SignatureLayer {
            payload,
            annotations,
        }
    }

    /// The raw signature bytes from the annotation.
    pub fn signature(&self) -> Result<Vec<u8>, CosignError> {
        let text = self
            .annotations
            .get(SIGNATURE_ANNOTATION)
            .ok_or(CosignError::NoSignature)?;
        STANDARD
            .decode(text)
            .map_err(|e| CosignError::SignatureEncoding(e.to_string()))
    }
}

/// Adds `new` to the existing signatures without losing any (sigstore-rs replaces the
/// manifest; cosign and we append). Returns false, leaving `existing` alone, when a layer with
/// the same payload already has a signature that verifies with `key`: ECDSA signatures are
/// randomised, so re-signing gives new bytes for what is the same signature, and piling them
/// up on every pipeline run would only make the `.sig` image grow.
pub fn append(existing: &mut Vec<SignatureLayer>, new: SignatureLayer, key: &PublicKey) -> bool {
    let already = existing.iter().any(|layer| {
        layer.payload == new.payload
            && layer
                .signature()
                .is_ok_and(|sig| key.verify(&layer.payload, &sig).is_ok())
    });
    if already {
        return false;
    }
    existing.push(new);
    true
}

/// How a verdict's reason starts when the key did not make the signature at all.
const KEY_MISMATCH: &str = "signature does not match key";

/// Whether a failed verdict says only that this key did not sign the layer; with several keys,
/// another key's reason (a missing annotation, another digest) says more.
pub fn is_key_mismatch(reason: &str) -> bool {
    reason.starts_with(KEY_MISMATCH)
}

/// The outcome of checking one signature layer.
#[derive(Debug, Clone, PartialEq)]
pub struct Verdict {
    /// 1-based position of the layer in the `.sig` manifest.
    pub layer: usize,
    /// The verified payload, or why this layer does not count.
    pub result: Result<Payload, String>,
    /// Who signed, when a certificate says so (keyless): "IDENTITY (issuer URL)".
    pub signer: Option<String>,
}

/// Checks every layer against the image digest and the key: the signature must verify over the
/// payload bytes, the payload must name `image`, and every `required` annotation must be in
/// `optional` with that value. One verdict per layer, in order; the image is verified when at
/// least one verdict is `Ok`, as with `cosign verify`.
pub fn verify(
    layers: &[SignatureLayer],
    image: &Digest,
    key: &PublicKey,
    required: &BTreeMap<String, String>,
) -> Vec<Verdict> {
    layers
        .iter()
        .enumerate()
        .map(|(i, layer)| Verdict {
            layer: i + 1,
            result: check(layer, image, key, required),
            signer: None,
        })
        .collect()
}

fn check(
    layer: &SignatureLayer,
    image: &Digest,
    key: &PublicKey,
    required: &BTreeMap<String, String>,
) -> Result<Payload, String> {
    // The signature first: nothing in an unsigned payload is worth reporting.
    let signature = layer.signature().map_err(|e| e.to_string())?;
    key.verify(&layer.payload, &signature)
        .map_err(|_| format!("{KEY_MISMATCH} {}", key.fingerprint()))?;
    check_claims(layer, image, required)
}

/// The checks after the signature: the payload names `image` and carries every `required`
/// annotation. Keyless verification shares them.
pub fn check_claims(
    layer: &SignatureLayer,
    image: &Digest,
    required: &BTreeMap<String, String>,
) -> Result<Payload, String> {
    let payload = parse_payload(&layer.payload).map_err(|e| e.to_string())?;
    if payload.digest != image.as_str() {
        return Err(format!("payload is for {} not {image}", payload.digest));
    }
    let problems: Vec<String> = required
        .iter()
        .filter_map(|(name, want)| match payload.optional.get(name) {
            Some(Value::String(have)) if have == want => None,
            Some(Value::String(have)) => Some(format!(
                "annotation {name}={want} required but payload has {name}={have}"
            )),
            Some(other) => Some(format!(
                "annotation {name}={want} required but payload has {name}={other}"
            )),
            None => Some(format!("annotation {name}={want} required but missing")),
        })
        .collect();
    if !problems.is_empty() {
        return Err(problems.join("; "));
    }
    Ok(payload)
}

/// What `cosign verify -o json` prints for the verified layers: one compact JSON array line
/// (without the newline) of the payloads, each re-marshalled from cosign's struct as cosign
/// does, so unknown fields are dropped, and with the layer's Rekor bundle, when it has one,
/// under `optional.Bundle`. Failed verdicts are left out; `[]` when none passed (cosign
/// prints nothing then and fails, which is the caller's exit code to give).
pub fn verify_json(verdicts: &[Verdict], layers: &[SignatureLayer]) -> String {
    let mut out = String::from("[");
    let verified = verdicts
        .iter()
        .filter_map(|v| Some((v.layer, v.result.as_ref().ok()?)));
    for (i, (index, payload)) in verified.enumerate() {
        if i > 0 {
            out.push(',');
        }
        let bundle = index
            .checked_sub(1)
            .and_then(|n| layers.get(n))
            .and_then(|layer| layer.annotations.get(BUNDLE_ANNOTATION))
            .and_then(|text| serde_json::from_str::<Value>(text).ok());
        let mut optional: BTreeMap<&str, (&Value, Held)> = payload
            .optional
            .iter()
            .map(|(k, v)| (k.as_str(), (v, Held::Interface)))
            .collect();
        if let Some(bundle) = &bundle {
            // cosign's `RekorBundle` is a Go struct: field order and int64s are kept.
            optional.insert("Bundle", (bundle, Held::Struct));
        }
        out.push_str(&encode_payload(
            &payload.docker_reference,
            &payload.digest,
            &optional,
        ));
    }
    out.push(']');
    out
}
