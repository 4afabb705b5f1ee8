//! The `.sig` image: the OCI manifest and config cosign pushes next to a signed image.
//!
//! cosign builds it with go-containerregistry (`mutate.Append` on an empty image), so the
//! bytes follow ggcr's struct field order and Go's escaping. Writing the same bytes means a
//! signature pushed by kbundle and one pushed by cosign look the same to every tool.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::gojson::write_string;
use super::{CosignError, SIMPLE_SIGNING_MEDIA_TYPE, SignatureLayer};
use crate::bundle::Digest;

/// Media type of the `.sig` manifest (cosign's `empty.Signatures()` is an OCI image).
pub const MANIFEST_MEDIA_TYPE: &str = "application/vnd.oci.image.manifest.v1+json";
/// Media type of the `.sig` image's config blob.
pub const CONFIG_MEDIA_TYPE: &str = "application/vnd.oci.image.config.v1+json";

/// ggcr's zero `v1.Time`, which cosign leaves in every timestamp so the config is reproducible.
const ZERO_TIME: &str = "0001-01-01T00:00:00Z";

/// The `.sig` image for `layers`: returns (config bytes, manifest bytes), the same for the same
/// layers.
///
/// The config is ggcr's `ConfigFile` in its field order (`architecture`, `created`, `history`,
/// `os`, `rootfs`, `config`) with one history entry and one diff_id per layer, as
/// `mutate.Append` adds them; a layer's diff_id is its digest because payloads are not
/// compressed.
pub fn signature_manifest(layers: &[SignatureLayer]) -> (Vec<u8>, Vec<u8>) {
    let digests: Vec<Digest> = layers.iter().map(|l| Digest::of(&l.payload)).collect();

    let mut config = format!(r#"{{"architecture":"","created":"{ZERO_TIME}","#);
    // `history` is `omitempty` in ggcr, so an image without layers has none.
    if !layers.is_empty() {
        let entry = format!(r#"{{"created":"{ZERO_TIME}"}}"#);
        config.push_str(&format!(
            r#""history":[{}],"#,
            vec![entry; layers.len()].join(",")
        ));
    }
    let diff_ids: Vec<String> = digests.iter().map(|d| format!("\"{d}\"")).collect();
    config.push_str(&format!(
        r#""os":"","rootfs":{{"type":"layers","diff_ids":[{}]}},"config":{{}}}}"#,
        diff_ids.join(",")
    ));

    let mut manifest = format!(
        r#"{{"schemaVersion":2,"mediaType":"{MANIFEST_MEDIA_TYPE}","config":{{"mediaType":"{CONFIG_MEDIA_TYPE}","size":{},"digest":"{}"}},"layers":["#,
        config.len(),
        Digest::of(config.as_bytes()),
    );
    for (i, (layer, digest)) in layers.iter().zip(&digests).enumerate() {
        if i > 0 {
            manifest.push(',');
        }
        manifest.push_str(&format!(
            r#"{{"mediaType":"{SIMPLE_SIGNING_MEDIA_TYPE}","size":{},"digest":"{digest}""#,
            layer.payload.len()
        ));
        // Descriptor annotations are `omitempty`; Go writes map keys sorted, as BTreeMap does.
        if !layer.annotations.is_empty() {
            manifest.push_str(r#","annotations":{"#);
            for (j, (key, value)) in layer.annotations.iter().enumerate() {
                if j > 0 {
                    manifest.push(',');
                }
                write_string(&mut manifest, key);
                manifest.push(':');
                write_string(&mut manifest, value);
            }
            manifest.push('}');
        }
        manifest.push('}');
    }
    manifest.push_str("]}");
    (config.into_bytes(), manifest.into_bytes())
}

/// One layer of a `.sig` manifest: where its payload blob is and the annotations that carry
/// the signature.
#[derive(Clone, Debug, PartialEq)]
pub struct LayerRef {
    /// Digest of the payload blob, to fetch it.
    pub digest: Digest,
    /// Size of the payload blob as the manifest declares it.
    pub size: u64,
    /// The layer's annotations, the signature among them.
    pub annotations: BTreeMap<String, String>,
}

impl LayerRef {
    /// Pairs the fetched payload blob with this layer's annotations, after checking the blob is
    /// the one the manifest names (a registry or a folder on disk is not trusted to be right).
    pub fn into_layer(self, payload: Vec<u8>) -> Result<SignatureLayer, CosignError> {
        let actual = Digest::of(&payload);
        if actual != self.digest {
            return Err(CosignError::BlobMismatch {
                expected: self.digest,
                actual,
            });
        }
        Ok(SignatureLayer {
            payload,
            annotations: self.annotations,
        })
    }
}

#[derive(Deserialize)]
struct RawManifest {
    #[serde(rename = "schemaVersion")]
    schema_version: u32,
    #[serde(default)]
    layers: Vec<RawDescriptor>,
}

#[derive(Deserialize)]
struct RawDescriptor {
    #[serde(rename = "mediaType")]
    media_type: String,
    digest: String,
    size: u64,
    // Go writes `null` for a nil map, so accept it as "no annotations".
    #[serde(default)]
    annotations: Option<BTreeMap<String, String>>,
}

/// Reads a `.sig` manifest: for each layer its payload digest, size and annotations, in order.
pub fn read_signature_manifest(manifest: &[u8]) -> Result<Vec<LayerRef>, CosignError> {
    let raw: RawManifest = serde_json::from_slice(manifest)
        .map_err(|e| CosignError::Manifest(format!("not an OCI image manifest: {e}")))?;
    if raw.schema_version != 2 {
        return Err(CosignError::Manifest(format!(
            "schemaVersion is {}, not 2",
            raw.schema_version
        )));
    }
    raw.layers
        .into_iter()
        .enumerate()
        .map(|(i, layer)| {
            let index = i + 1;
            // Anything else under a `.sig` tag is not something we know how to verify; saying
            // so beats silently dropping it (and losing it on the next append).
            if layer.media_type != SIMPLE_SIGNING_MEDIA_TYPE {
                return Err(CosignError::Manifest(format!(
                    "layer {index} has media type {:?}, not {SIMPLE_SIGNING_MEDIA_TYPE}",
                    layer.media_type
                )));
            }
            let digest = layer
                .digest
                .parse()
                .map_err(|e| CosignError::Manifest(format!("layer {index}: {e}")))?;
            Ok(LayerRef {
                digest,
                size: layer.size,
                annotations: layer.annotations.unwrap_or_default(),
            })
        })
        .collect()
}
