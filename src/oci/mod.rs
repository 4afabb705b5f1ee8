//! Adapter: where bundles are stored. A registry (through `oci-client`) or an OCI image
//! layout folder, behind one small interface, so every command works offline too.

pub mod blob;
pub mod denied;
pub mod grammar;
pub mod layout;
pub mod reference;
pub mod referrers;
pub mod registry;
mod retry;
mod token;

use indicatif::ProgressBar;
use oci_client::RegistryOperation;
use oci_client::errors::OciDistributionError;

pub use blob::BlobRef;
pub use reference::ImageRef;

use std::sync::Arc;

use crate::auth::Refresh;
use crate::auth::docker::Credential;
use crate::bundle::{Artifact, Digest};
use layout::{Layout, LayoutError};
use registry::Registry;

/// Why a registry or layout operation failed. Messages name the image and say what to do;
/// they never carry credentials.
#[derive(Debug, thiserror::Error)]
pub enum OciError {
    #[error("{image}: {message}")]
    Remote { image: String, message: String },
    #[error(transparent)]
    Layout(#[from] LayoutError),
    #[error("{image}: {message}")]
    Content { image: String, message: String },
    /// A descriptor's size is past what the caller allows; nothing was read.
    #[error("{image}: blob {digest} is {}, more than the {} limit", bytesize::ByteSize(*size).display().iec(), bytesize::ByteSize(*limit).display().iec())]
    TooLarge {
        image: String,
        digest: Digest,
        size: u64,
        limit: u64,
    },
}

/// How to reach a registry.
#[derive(Default)]
pub struct Connect {
    /// Use HTTP instead of HTTPS (loopback registries always do).
    pub plain_http: bool,
    pub credential: Option<Credential>,
    /// For short-lived credentials: asked before each operation, and a new credential makes
    /// the registry log in again.
    pub refresh: Option<Arc<dyn Refresh>>,
}

/// An opened image store.
pub enum Store {
    Registry(Registry),
    Layout { layout: Layout, reference: String },
}

/// The media types of a single-image manifest.
const IMAGE_MANIFESTS: [&str; 2] = [
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
];

impl Store {
    /// Opens the target of a push; a layout folder is created when missing.
    pub fn for_push(image: &ImageRef, connect: Connect) -> Result<Store, OciError> {
        Store::open(image, connect, Layout::create)
    }

    /// Opens the source of a pull; a layout folder must exist.
    pub fn for_pull(image: &ImageRef, connect: Connect) -> Result<Store, OciError> {
        Store::open(image, connect, Layout::open)
    }

    fn open(
        image: &ImageRef,
        connect: Connect,
        open_layout: fn(&std::path::Path) -> Result<Layout, LayoutError>,
    ) -> Result<Store, OciError> {
        Ok(match image {
            ImageRef::Registry(r) => Store::Registry(Registry::new(
                r.clone(),
                connect.plain_http,
                connect.credential,
                connect.refresh,
            )),
            ImageRef::Layout { dir, reference } => Store::Layout {
                layout: open_layout(dir)?,
                reference: reference.clone(),
            },
        })
    }

    fn name(&self) -> String {
        match self {
            Store::Registry(r) => r.reference().whole(),
            Store::Layout { layout, reference } => {
                format!("oci-layout:{}:{reference}", layout.dir().display())
            }
        }
    }

    fn remote(&self, e: OciDistributionError) -> OciError {
        self.remote_as(e, denied::Access::Pull)
    }

    /// `access`: what the request needed, for the words when the registry refuses it.
    fn remote_as(&self, e: OciDistributionError, access: denied::Access) -> OciError {
        const LOG_IN: &str =
            "log in (docker login, a credential helper, or --username with --password-stdin)";
        if let (Store::Registry(r), Some(said)) = (self, denied::refusal(&e)) {
            return OciError::Remote {
                image: self.name(),
                message: denied::explain(
                    r.reference().resolve_registry(),
                    r.reference().repository(),
                    access,
                    &said,
                ),
            };
        }
        let message = match &e {
            // Our own messages (a credential refresh that failed, a bad digest) are complete.
            OciDistributionError::GenericError(Some(m)) => m.clone(),
            OciDistributionError::AuthenticationFailure(_)
            | OciDistributionError::UnauthorizedError { .. } => format!("{e}; {LOG_IN}"),
            OciDistributionError::RequestError(r)
                if r.status()
                    .is_some_and(|s| s.as_u16() == 401 || s.as_u16() == 403) =>
            {
                format!("{e}; {LOG_IN}")
            }
            OciDistributionError::RequestError(r) if r.status().is_none() => format!(
                "{e}; check that the registry is reachable (use --plain-http for an HTTP registry)"
            ),
            _ => e.to_string(),
        };
        OciError::Remote {
            image: self.name(),
            message,
        }
    }

    /// Answers the registry's login challenge once, before any transfer.
    pub async fn login(&self, operation: RegistryOperation) -> Result<(), OciError> {
        match self {
            Store::Registry(r) => r.login(operation).await.map_err(|e| self.remote(e)),
            Store::Layout { .. } => Ok(()),
        }
    }

    pub async fn has_blob(&self, digest: &Digest) -> Result<bool, OciError> {
        match self {
            Store::Registry(r) => r.has_blob(digest).await.map_err(|e| self.remote(e)),
            Store::Layout { layout, .. } => Ok(layout.has_blob(digest)),
        }
    }

    pub async fn put_blob(&self, digest: &Digest, data: &[u8]) -> Result<(), OciError> {
        match self {
            Store::Registry(r) => r
                .put_blob(digest, data)
                .await
                .map_err(|e| self.remote_as(e, denied::Access::Push)),
            Store::Layout { layout, .. } => Ok(layout.put_blob(digest, data)?),
        }
    }

    /// Reads a blob whose size is not known and checks it against its digest. Unbounded:
    /// prefer `read_blob` wherever a descriptor gives the size.
    pub async fn get_blob(&self, digest: &Digest) -> Result<Vec<u8>, OciError> {
        let data = match self {
            Store::Registry(r) => r.get_blob(digest).await.map_err(|e| self.remote(e))?,
            Store::Layout { layout, .. } => layout.get_blob(digest)?,
        };
        if Digest::of(&data) != *digest {
            return Err(OciError::Content {
                image: self.name(),
                message: format!(
                    "blob {digest} does not match its digest; the registry is serving corrupt data"
                ),
            });
        }
        Ok(data)
    }

    /// Stores a manifest by digest and then, last, under `tag`.
    pub async fn put_manifest(
        &self,
        manifest: &[u8],
        media_type: &str,
        tag: Option<&str>,
    ) -> Result<Digest, OciError> {
        let digest = Digest::of(manifest);
        match self {
            Store::Registry(r) => r
                .put_manifest(manifest, media_type, &digest, tag)
                .await
                .map_err(|e| self.remote_as(e, denied::Access::Push))?,
            Store::Layout { layout, .. } => {
                layout.put_manifest(manifest, media_type, tag)?;
            }
        }
        Ok(digest)
    }

    /// The image manifest the reference names: (digest, bytes). An image index is refused
    /// with a hint, since a bundle is a single image.
    pub async fn manifest(&self) -> Result<(Digest, Vec<u8>), OciError> {
        let (digest, media_type, bytes) = match self {
            Store::Registry(r) => r.manifest().await.map_err(|e| self.remote(e))?,
            Store::Layout { layout, reference } => layout.manifest(reference)?,
        };
        if !IMAGE_MANIFESTS.contains(&media_type.as_str()) {
            return Err(OciError::Content {
                image: self.name(),
                message: format!(
                    "is a {media_type}, not an image manifest; name one image of it by digest"
                ),
            });
        }
        Ok((digest, bytes))
    }
}

impl Store {
    /// The manifest under another tag of the same repository (a `.sig` tag), if any:
    /// (digest, bytes), whatever its media type.
    pub async fn manifest_at(&self, tag: &str) -> Result<Option<(Digest, Vec<u8>)>, OciError> {
        match self {
            Store::Registry(r) => Ok(r
                .manifest_at(tag)
                .await
                .map_err(|e| self.remote(e))?
                .map(|(d, _, b)| (d, b))),
            Store::Layout { layout, .. } => match layout.manifest(tag) {
                Ok((d, _, b)) => Ok(Some((d, b))),
                Err(LayoutError::UnknownTag { .. }) => Ok(None),
                Err(e) => Err(e.into()),
            },
        }
    }

    /// Whether the credential is short-lived and refreshed during the run.
    fn refreshes(&self) -> bool {
        matches!(self, Store::Registry(r) if r.refreshes())
    }

    /// Whether `tag` already names the manifest `digest` (false when unsure or untagged).
    async fn tag_names(&self, tag: Option<&str>, digest: &Digest) -> bool {
        let Some(tag) = tag else {
            return false;
        };
        match self {
            Store::Registry(r) => r.tag_digest(tag).await.as_deref() == Some(digest.as_str()),
            Store::Layout { layout, .. } => {
                matches!(layout.manifest(tag), Ok((d, _, _)) if d == *digest)
            }
        }
    }

    /// Copies a blob from another store, by cross-repository mount when both are
    /// repositories of the same registry, else by download and upload.
    pub async fn copy_blob_from(&self, source: &Store, digest: &Digest) -> Result<(), OciError> {
        if self.has_blob(digest).await? {
            return Ok(());
        }
        if let (Store::Registry(to), Store::Registry(from)) = (self, source) {
            if to.reference().resolve_registry() == from.reference().resolve_registry()
                && to.mount_blob(from.reference(), digest).await
                && self.has_blob(digest).await?
            {
                tracing::debug!("mounted {digest} from {}", from.reference().repository());
                return Ok(());
            }
        }
        let data = source.get_blob(digest).await?;
        self.put_blob(digest, &data).await
    }
}

/// What a push did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct PushStats {
    pub uploaded: usize,
    pub already_there: usize,
    pub bytes: u64,
}

/// What a push has to write, found by asking the store (which writes nothing).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// Per blob (the config, then the layers): whether the store has it already.
    present: Vec<bool>,
    /// Whether the tag already names this manifest.
    tagged: bool,
}

/// Pushes an artifact: logs in, asks what is there ([`plan`]), then writes ([`write`]).
pub async fn push(
    store: &Store,
    artifact: &Artifact,
    tag: Option<&str>,
    progress: &ProgressBar,
) -> Result<(Digest, PushStats), OciError> {
    store.login(RegistryOperation::Push).await?;
    let plan = plan(store, artifact, tag).await?;
    write(store, artifact, &plan, tag, progress).await
}

/// Asks which blobs the store lacks (all at once) and whether the tag names the manifest
/// already. Log in for push first.
pub async fn plan(store: &Store, artifact: &Artifact, tag: Option<&str>) -> Result<Plan, OciError> {
    use futures_util::future::{join, try_join_all};
    let blobs = blobs(artifact);
    let manifest_digest = Digest::of(&artifact.manifest);
    // A short-lived credential is swapped (and the client with it) as it runs out: one
    // request at a time then, so that none goes out with a credential already replaced.
    let (present, tagged) = if store.refreshes() {
        let mut present = Vec::new();
        for b in &blobs {
            present.push(store.has_blob(&b.digest).await?);
        }
        (present, store.tag_names(tag, &manifest_digest).await)
    } else {
        let (present, tagged) = join(
            try_join_all(blobs.iter().map(|b| store.has_blob(&b.digest))),
            store.tag_names(tag, &manifest_digest),
        )
        .await;
        (present?, tagged)
    };
    Ok(Plan { present, tagged })
}

/// Uploads the blobs `plan` found missing (concurrently), then the manifest under `tag`.
/// Nothing is written when the tag already names this manifest and every blob is there.
pub async fn write(
    store: &Store,
    artifact: &Artifact,
    plan: &Plan,
    tag: Option<&str>,
    progress: &ProgressBar,
) -> Result<(Digest, PushStats), OciError> {
    use futures_util::future::try_join_all;
    let mut stats = PushStats::default();
    let blobs = blobs(artifact);
    progress.set_length(blobs.iter().map(|b| b.data.len() as u64).sum());
    let mut missing = Vec::new();
    for (blob, there) in blobs.iter().zip(&plan.present) {
        if *there {
            stats.already_there += 1;
            progress.inc(blob.data.len() as u64);
        } else {
            missing.push(*blob);
        }
    }
    if store.refreshes() {
        for blob in &missing {
            store.put_blob(&blob.digest, &blob.data).await?;
            progress.inc(blob.data.len() as u64);
        }
    } else {
        try_join_all(missing.iter().map(|blob| async move {
            store.put_blob(&blob.digest, &blob.data).await?;
            progress.inc(blob.data.len() as u64);
            Ok::<_, OciError>(())
        }))
        .await?;
    }
    stats.uploaded = missing.len();
    stats.bytes = missing.iter().map(|b| b.data.len() as u64).sum();
    let manifest_digest = Digest::of(&artifact.manifest);
    if plan.tagged && missing.is_empty() {
        return Ok((manifest_digest, stats));
    }
    let digest = store
        .put_manifest(&artifact.manifest, crate::bundle::MANIFEST_MEDIA_TYPE, tag)
        .await?;
    Ok((digest, stats))
}

fn blobs(artifact: &Artifact) -> Vec<&crate::bundle::Blob> {
    std::iter::once(&artifact.config)
        .chain(&artifact.layers)
        .collect()
}

/// The image a store's reference names: its manifest digest and its layers, in order.
pub async fn image_layers(store: &Store) -> Result<(Digest, Vec<BlobRef>), OciError> {
    store.login(RegistryOperation::Pull).await?;
    let (digest, manifest) = store.manifest().await?;
    let layers = blob::layers_of(&manifest).map_err(|message| OciError::Content {
        image: store.name(),
        message,
    })?;
    Ok((digest, layers))
}

/// Fetches the layers of the image a store's reference names into memory, in manifest
/// order, each checked against its descriptor; refused when together they are over the
/// default limit on unpacked size (`kbundle pull` streams them to disk instead).
pub async fn pull_layers(store: &Store) -> Result<(Digest, Vec<Vec<u8>>), OciError> {
    let (digest, blobs) = image_layers(store).await?;
    let mut left = crate::bundle::Limits::DEFAULT.max_unpacked;
    let mut layers = Vec::with_capacity(blobs.len());
    for blob in &blobs {
        layers.push(store.read_blob(blob, left).await?);
        left -= blob.size;
    }
    Ok((digest, layers))
}
