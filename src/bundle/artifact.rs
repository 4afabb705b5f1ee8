//! OCI artifacts that carry a bundle: the image Config Sync syncs, Flux's OCIRepository format,
//! or a plain ORAS artifact.
//!
//! Every JSON document is serialised from structs and `BTreeMap`s in compact form, so the
//! manifest digest depends only on the tar and the annotations passed in.

use std::collections::BTreeMap;

use serde::Serialize;

use super::archive::Layer;
use super::digest::Digest;

/// Media type of every manifest kbundle writes.
pub const MANIFEST_MEDIA_TYPE: &str = "application/vnd.oci.image.manifest.v1+json";
/// `artifactType` of `--artifact oras` manifests.
pub const ORAS_ARTIFACT_TYPE: &str = "application/vnd.kbundle.manifests.v1";
/// Layer media type of `configsync` and `oras` artifacts.
pub const LAYER_MEDIA_TYPE: &str = "application/vnd.oci.image.layer.v1.tar+gzip";
pub const IMAGE_CONFIG_MEDIA_TYPE: &str = "application/vnd.oci.image.config.v1+json";
pub const FLUX_CONFIG_MEDIA_TYPE: &str = "application/vnd.cncf.flux.config.v1+json";
pub const FLUX_LAYER_MEDIA_TYPE: &str = "application/vnd.cncf.flux.content.v1.tar+gzip";
/// The OCI "empty descriptor" config, for artifacts that have no config of their own.
pub const EMPTY_MEDIA_TYPE: &str = "application/vnd.oci.empty.v1+json";
/// The layer title ORAS uses as the file name when it pulls the artifact.
pub const ORAS_LAYER_TITLE: &str = "manifests.tar.gz";

const CREATED: &str = "org.opencontainers.image.created";
const TITLE: &str = "org.opencontainers.image.title";

/// Which kind of OCI artifact to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum ArtifactKind {
    /// An OCI image with one tar+gzip layer, as `crane append` makes; what Config Sync's
    /// `spec.oci.image` syncs.
    #[default]
    Configsync,
    /// Flux's OCIRepository format (`flux push artifact` media types).
    Flux,
    /// An OCI artifact with an artifactType and the tarball as a titled layer, as `oras push`
    /// makes.
    Oras,
}

/// One blob of an artifact: its bytes and how the manifest refers to them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Blob {
    pub media_type: String,
    pub digest: Digest,
    pub data: Vec<u8>,
}

impl Blob {
    /// A blob of `data`, digest computed.
    pub fn new(media_type: &str, data: Vec<u8>) -> Blob {
        Blob {
            media_type: media_type.to_owned(),
            digest: Digest::of(&data),
            data,
        }
    }

    pub fn size(&self) -> u64 {
        self.data.len() as u64
    }
}

/// A complete artifact: the blobs to upload first, then the manifest that ties them together.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Artifact {
    pub config: Blob,
    pub layers: Vec<Blob>,
    /// The manifest JSON, exactly the bytes to upload (its digest is over these bytes).
    pub manifest: Vec<u8>,
    pub manifest_digest: Digest,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Manifest<'a> {
    schema_version: u32,
    media_type: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    artifact_type: Option<&'static str>,
    config: Descriptor<'a>,
    layers: Vec<Descriptor<'a>>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    annotations: &'a BTreeMap<String, String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Descriptor<'a> {
    media_type: &'a str,
    digest: &'a Digest,
    size: u64,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    annotations: BTreeMap<&'static str, &'static str>,
}

impl<'a> Descriptor<'a> {
    fn of(blob: &'a Blob, annotations: BTreeMap<&'static str, &'static str>) -> Descriptor<'a> {
        Descriptor {
            media_type: &blob.media_type,
            digest: &blob.digest,
            size: blob.size(),
            annotations,
        }
    }
}

/// The image config `crane append` would write for a one-layer image. Config Sync ignores it,
/// but registries and scanners that treat the artifact as an image need a real one.
#[derive(Serialize)]
struct ImageConfig<'a> {
    architecture: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    created: Option<&'a str>,
    os: &'static str,
    config: BTreeMap<String, String>,
    rootfs: RootFs,
    history: [History; 1],
}

#[derive(Serialize)]
struct RootFs {
    #[serde(rename = "type")]
    kind: &'static str,
    diff_ids: [Digest; 1],
}

#[derive(Serialize)]
struct History {
    created_by: &'static str,
}

/// Builds the artifact from an uncompressed tar; the layer is `gzip(tar)`.
///
/// `annotations` become the manifest's annotations as given; pass
/// `org.opencontainers.image.created` from a fixed source (commit time, `SOURCE_DATE_EPOCH`),
/// not the clock, or the digest changes on every run. For `configsync` it is also the image
/// config's `created`.
pub fn build(kind: ArtifactKind, tar: &[u8], annotations: &BTreeMap<String, String>) -> Artifact {
    build_layer(kind, Layer::of_tar(tar), annotations)
}

/// [`build`] from a layer already compressed ([`super::tar_gz`]).
pub fn build_layer(
    kind: ArtifactKind,
    layer: Layer,
    annotations: &BTreeMap<String, String>,
) -> Artifact {
    let Layer {
        gzip: compressed,
        tar_digest,
    } = layer;
    let (artifact_type, config, layer, layer_annotations) = match kind {
        ArtifactKind::Configsync => {
            let config = ImageConfig {
                architecture: "amd64",
                created: annotations.get(CREATED).map(String::as_str),
                os: "linux",
                config: BTreeMap::new(),
                rootfs: RootFs {
                    kind: "layers",
                    // diff_ids name the uncompressed layer, as in any image config.
                    diff_ids: [tar_digest],
                },
                history: [History {
                    created_by: "kbundle",
                }],
            };
            (
                None,
                Blob::new(IMAGE_CONFIG_MEDIA_TYPE, to_json(&config)),
                Blob::new(LAYER_MEDIA_TYPE, compressed),
                BTreeMap::new(),
            )
        }
        ArtifactKind::Flux => (
            None,
            Blob::new(FLUX_CONFIG_MEDIA_TYPE, b"{}".to_vec()),
            Blob::new(FLUX_LAYER_MEDIA_TYPE, compressed),
            BTreeMap::new(),
        ),
        ArtifactKind::Oras => (
            Some(ORAS_ARTIFACT_TYPE),
            Blob::new(EMPTY_MEDIA_TYPE, b"{}".to_vec()),
            Blob::new(LAYER_MEDIA_TYPE, compressed),
            BTreeMap::from([(TITLE, ORAS_LAYER_TITLE)]),
        ),
    };
    let manifest = to_json(&Manifest {
        schema_version: 2,
        media_type: MANIFEST_MEDIA_TYPE,
        artifact_type,
        config: Descriptor::of(&config, BTreeMap::new()),
        layers: vec![Descriptor::of(&layer, layer_annotations)],
        annotations,
    });
    Artifact {
        manifest_digest: Digest::of(&manifest),
        manifest,
        config,
        layers: vec![layer],
    }
}

fn to_json(value: &impl Serialize) -> Vec<u8> {
    // Only strings, numbers and maps with string keys: serialisation cannot fail.
    match serde_json::to_vec(value) {
        Ok(bytes) => bytes,
        Err(err) => unreachable!("serialising an OCI document failed: {err}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bundle::gzip;
    use serde_json::{Value, json};

    const TAR: &[u8] = b"not really a tar, but build does not look inside";

    fn annotations() -> BTreeMap<String, String> {
        BTreeMap::from([
            (
                "org.opencontainers.image.source".into(),
                "https://github.com/o/r".into(),
            ),
            ("org.opencontainers.image.revision".into(), "abc123".into()),
            (CREATED.into(), "2024-01-02T03:04:05Z".into()),
        ])
    }

    fn parse(bytes: &[u8]) -> Value {
        serde_json::from_slice(bytes).unwrap()
    }

    fn check_blobs(artifact: &Artifact) -> Value {
        let manifest = parse(&artifact.manifest);
        assert_eq!(artifact.manifest_digest, Digest::of(&artifact.manifest));
        assert_eq!(manifest["schemaVersion"], 2);
        assert_eq!(manifest["mediaType"], MANIFEST_MEDIA_TYPE);
        assert_eq!(
            manifest["config"]["digest"],
            artifact.config.digest.as_str()
        );
        assert_eq!(manifest["config"]["size"], artifact.config.data.len());
        assert_eq!(artifact.layers.len(), 1);
        let layer = &artifact.layers[0];
        assert_eq!(layer.data, gzip(TAR));
        assert_eq!(manifest["layers"][0]["digest"], layer.digest.as_str());
        assert_eq!(manifest["layers"][0]["size"], layer.data.len());
        manifest
    }

    #[test]
    fn configsync_is_a_real_image() {
        let artifact = build(ArtifactKind::Configsync, TAR, &annotations());
        let manifest = check_blobs(&artifact);
        assert_eq!(manifest["config"]["mediaType"], IMAGE_CONFIG_MEDIA_TYPE);
        assert_eq!(manifest["layers"][0]["mediaType"], LAYER_MEDIA_TYPE);
        assert!(manifest.get("artifactType").is_none());
        assert!(manifest["layers"][0].get("annotations").is_none());
        assert_eq!(manifest["annotations"], json!(annotations()));
        let config = parse(&artifact.config.data);
        assert_eq!(config["rootfs"]["type"], "layers");
        assert_eq!(
            config["rootfs"]["diff_ids"],
            json!([Digest::of(TAR).as_str()])
        );
        assert_eq!(config["created"], "2024-01-02T03:04:05Z");
        assert_eq!(
            (&config["os"], &config["architecture"]),
            (&json!("linux"), &json!("amd64"))
        );
        assert_eq!(config["config"], json!({}));
    }

    #[test]
    fn configsync_without_created_omits_it() {
        let artifact = build(ArtifactKind::Configsync, TAR, &BTreeMap::new());
        assert!(parse(&artifact.config.data).get("created").is_none());
        let manifest = check_blobs(&artifact);
        assert!(manifest.get("annotations").is_none());
    }

    #[test]
    fn flux_uses_flux_media_types() {
        let artifact = build(ArtifactKind::Flux, TAR, &annotations());
        let manifest = check_blobs(&artifact);
        assert_eq!(manifest["config"]["mediaType"], FLUX_CONFIG_MEDIA_TYPE);
        assert_eq!(artifact.config.data, b"{}");
        assert_eq!(manifest["layers"][0]["mediaType"], FLUX_LAYER_MEDIA_TYPE);
        assert!(manifest.get("artifactType").is_none());
    }

    #[test]
    fn oras_has_artifact_type_empty_config_and_titled_layer() {
        let artifact = build(ArtifactKind::Oras, TAR, &annotations());
        let manifest = check_blobs(&artifact);
        assert_eq!(manifest["artifactType"], ORAS_ARTIFACT_TYPE);
        assert_eq!(
            manifest["config"],
            json!({
                "mediaType": EMPTY_MEDIA_TYPE,
                "digest": "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a",
                "size": 2
            })
        );
        assert_eq!(manifest["layers"][0]["mediaType"], LAYER_MEDIA_TYPE);
        assert_eq!(
            manifest["layers"][0]["annotations"],
            json!({ "org.opencontainers.image.title": "manifests.tar.gz" })
        );
    }

    #[test]
    fn manifest_bytes_are_compact_ordered_and_reproducible() {
        let one = build(ArtifactKind::Oras, TAR, &annotations());
        let two = build(ArtifactKind::Oras, TAR, &annotations());
        assert_eq!(one, two);
        let text = String::from_utf8(one.manifest).unwrap();
        assert!(!text.contains([' ', '\n']), "{text}");
        let keys = [
            "schemaVersion",
            "mediaType",
            "artifactType",
            "config",
            "layers",
            "annotations",
        ];
        let at: Vec<usize> = keys
            .iter()
            .map(|k| text.find(&format!("\"{k}\"")).unwrap())
            .collect();
        assert!(at.windows(2).all(|w| w[0] < w[1]), "{text}");
        // Annotation keys sorted: created < revision < source.
        let c = text.find("image.created").unwrap();
        let r = text.find("image.revision").unwrap();
        let s = text.find("image.source").unwrap();
        assert!(c < r && r < s, "{text}");
        // A different annotation gives a different digest.
        let mut other = annotations();
        other.insert("x".into(), "y".into());
        assert_ne!(
            build(ArtifactKind::Oras, TAR, &other).manifest_digest,
            two.manifest_digest
        );
    }
}
