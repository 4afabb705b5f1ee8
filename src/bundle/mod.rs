//! Deterministic bundles of manifest folders and the OCI artifacts that carry them.
//!
//! Pure code, no network: `archive` picks the files and writes a reproducible tar and gzip,
//! `artifact` wraps them in an OCI manifest of the requested kind, `digest` names the blobs,
//! `unpack` extracts layers the way Config Sync's oci-sync does.
//! The same input gives the same bytes, so the same manifest digest, on any machine.

mod archive;
mod artifact;
mod digest;
mod unpack;

pub use archive::{BundleError, Entry, IGNORE_FILE, Layer, Options, entries, gzip, tar, tar_gz};
pub use artifact::{
    Artifact, ArtifactKind, Blob, EMPTY_MEDIA_TYPE, FLUX_CONFIG_MEDIA_TYPE, FLUX_LAYER_MEDIA_TYPE,
    IMAGE_CONFIG_MEDIA_TYPE, LAYER_MEDIA_TYPE, MANIFEST_MEDIA_TYPE, ORAS_ARTIFACT_TYPE,
    ORAS_LAYER_TITLE, build, build_layer,
};
pub use digest::{Digest, DigestError, DigestWriter};
pub use unpack::{
    Cleanup, Limits, STAGING_PREFIX, Staging, UnpackError, Unpacker, remove_stale, unpack,
};
