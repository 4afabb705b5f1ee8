//! The OCI referrer manifest that carries a bundle, in the shape and field order cosign v3
//! (go-containerregistry) writes: empty config, one bundle layer, cosign's annotations, the
//! image as `subject`, `artifactType` the bundle media type.

use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::{BUNDLE_MEDIA_TYPE, SIGN_PREDICATE_TYPE};
use crate::bundle::{Digest, MANIFEST_MEDIA_TYPE};

/// The empty config (`{}`) every OCI artifact without a config points at.
pub const EMPTY_CONFIG: &[u8] = b"{}";
pub const EMPTY_MEDIA_TYPE: &str = "application/vnd.oci.empty.v1+json";
/// cosign's annotation naming the bundle's content and predicate type.
pub const CONTENT_ANNOTATION: &str = "dev.sigstore.bundle.content";
pub const PREDICATE_ANNOTATION: &str = "dev.sigstore.bundle.predicateType";
const CREATED_ANNOTATION: &str = "org.opencontainers.image.created";

/// The image a referrer points at.
#[derive(Debug, Clone, PartialEq)]
pub struct Subject {
    pub media_type: String,
    pub digest: Digest,
    pub size: u64,
}

/// The referrer manifest for `bundle` on `subject`, created at `created` (RFC 3339 UTC).
pub fn manifest(subject: &Subject, bundle: &[u8], created: &str) -> Vec<u8> {
    let value = json!({
        "schemaVersion": 2,
        "mediaType": MANIFEST_MEDIA_TYPE,
        "config": {
            "mediaType": EMPTY_MEDIA_TYPE,
            "size": EMPTY_CONFIG.len(),
            "digest": Digest::of(EMPTY_CONFIG).as_str(),
            "artifactType": BUNDLE_MEDIA_TYPE,
        },
        "layers": [{
            "mediaType": BUNDLE_MEDIA_TYPE,
            "size": bundle.len(),
            "digest": Digest::of(bundle).as_str(),
        }],
        "annotations": {
            CONTENT_ANNOTATION: "dsse-envelope",
            PREDICATE_ANNOTATION: SIGN_PREDICATE_TYPE,
            CREATED_ANNOTATION: created,
        },
        "subject": {
            "mediaType": subject.media_type,
            "size": subject.size,
            "digest": subject.digest.as_str(),
        },
        "artifactType": BUNDLE_MEDIA_TYPE,
    });
    serde_json::to_vec(&value).unwrap_or_default()
}

/// A blob a manifest names.
#[derive(Debug, Clone, PartialEq)]
pub struct Blob {
    pub media_type: String,
    pub digest: Digest,
    pub size: u64,
}

/// What a referrer manifest holds, as far as signatures go.
#[derive(Debug, Clone, PartialEq)]
pub struct Referrer {
    pub subject: Option<Digest>,
    pub artifact_type: Option<String>,
    pub config: Option<Blob>,
    pub layers: Vec<Blob>,
    pub annotations: Map<String, Value>,
}

impl Referrer {
    /// The layers holding a Sigstore bundle (cosign: media type starting with
    /// `application/vnd.dev.sigstore.bundle`).
    pub fn bundle_layers(&self) -> impl Iterator<Item = &Blob> {
        self.layers.iter().filter(|l| {
            l.media_type
                .starts_with("application/vnd.dev.sigstore.bundle")
        })
    }

    /// Every blob to copy with the manifest: config, then layers.
    pub fn blobs(&self) -> impl Iterator<Item = &Blob> {
        self.config.iter().chain(&self.layers)
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawManifest {
    schema_version: u32,
    #[serde(default)]
    artifact_type: Option<String>,
    #[serde(default)]
    config: Option<RawBlob>,
    #[serde(default)]
    layers: Vec<RawBlob>,
    #[serde(default)]
    subject: Option<RawBlob>,
    #[serde(default)]
    annotations: Option<Map<String, Value>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawBlob {
    media_type: String,
    digest: String,
    size: u64,
}

impl RawBlob {
    fn parse(self, what: &str) -> Result<Blob, String> {
        Ok(Blob {
            digest: self.digest.parse().map_err(|e| format!("{what}: {e}"))?,
            media_type: self.media_type,
            size: self.size,
        })
    }
}

pub fn parse(manifest: &[u8]) -> Result<Referrer, String> {
    let raw: RawManifest =
        serde_json::from_slice(manifest).map_err(|e| format!("not an OCI image manifest: {e}"))?;
    if raw.schema_version != 2 {
        return Err(format!("schemaVersion is {}, not 2", raw.schema_version));
    }
    let layers = raw
        .layers
        .into_iter()
        .enumerate()
        .map(|(i, l)| l.parse(&format!("layer {}", i + 1)))
        .collect::<Result<_, _>>()?;
    Ok(Referrer {
        subject: raw
            .subject
            .map(|s| s.parse("subject").map(|b| b.digest))
            .transpose()?,
        artifact_type: raw.artifact_type,
        config: raw.config.map(|c| c.parse("config")).transpose()?,
        layers,
        annotations: raw.annotations.unwrap_or_default(),
    })
}
