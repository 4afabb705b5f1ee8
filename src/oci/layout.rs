//! An OCI image layout folder (`oci-layout`, `index.json`, `blobs/sha256/<hex>`), the offline
//! stand-in for a registry that skopeo (`oci:DIR:TAG`) and oras (`--oci-layout`) also read.
//!
//! Concurrency: a single writer is assumed (no locking). Readers never see partial files, because
//! every blob and every index.json is written to a temporary file in the same folder and renamed
//! into place, and index.json is only rewritten after the blobs it names are complete.

use crate::bundle::Digest;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::fs;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

const LAYOUT_FILE: &str = "oci-layout";
const INDEX_FILE: &str = "index.json";
const INDEX_TMP: &str = "index.json.tmp";
const INDEX_MEDIA_TYPE: &str = "application/vnd.oci.image.index.v1+json";
const REF_NAME: &str = "org.opencontainers.image.ref.name";
/// The largest manifest read, as the distribution registry's default limit: a bundle's is a
/// few hundred bytes, and a hostile layout must not make a pull read gigabytes first.
const MAX_MANIFEST: u64 = 4 << 20;

#[derive(Debug, thiserror::Error)]
pub enum LayoutError {
    #[error("cannot {action} {}: {source}", path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        source: io::Error,
    },
    #[error(
        "{} is not an OCI image layout ({reason}); pass a new or empty folder, or one written by kbundle, skopeo or oras",
        dir.display()
    )]
    NotALayout { dir: PathBuf, reason: String },
    #[error("{} is not a valid OCI image index: {reason}; fix or delete it", path.display())]
    BadIndex { path: PathBuf, reason: String },
    #[error("refusing to store blob {expected} in {}: its bytes hash to {actual}; the data is damaged or the digest is wrong", dir.display())]
    DigestMismatch {
        dir: PathBuf,
        expected: Digest,
        actual: Digest,
    },
    #[error("blob {digest} at {} is corrupt (its bytes hash to {actual}); delete it and write the image again", path.display())]
    CorruptBlob {
        path: PathBuf,
        digest: Digest,
        actual: Digest,
    },
    #[error("blob {digest} is missing from layout {}; write the image into the layout again", dir.display())]
    MissingBlob { dir: PathBuf, digest: Digest },
    #[error("blob {digest} at {} is not a regular file; write the image into the layout again", path.display())]
    NotAFile { path: PathBuf, digest: Digest },
    #[error("manifest {digest} in {} is {size} bytes, more than its descriptor says or the 4 MiB a manifest may have", dir.display())]
    ManifestTooLarge {
        dir: PathBuf,
        digest: Digest,
        size: u64,
    },
    #[error("manifest {digest} in {} is not valid: {reason}", dir.display())]
    BadManifest {
        dir: PathBuf,
        digest: Digest,
        reason: String,
    },
    #[error("invalid tag {tag:?}: {reason}")]
    InvalidTag { tag: String, reason: &'static str },
    #[error("tag {tag:?} not found in layout {}; {}", dir.display(), tag_list(tags))]
    UnknownTag {
        dir: PathBuf,
        tag: String,
        tags: Vec<String>,
    },
}

fn tag_list(tags: &[String]) -> String {
    if tags.is_empty() {
        "the layout has no tags yet".to_string()
    } else {
        format!("tags present: {}", tags.join(", "))
    }
}

/// `index.json`. Unknown fields are kept so that rewriting an index made by another tool
/// (annotations, subject, artifactType) loses nothing.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Index {
    schema_version: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    media_type: Option<String>,
    #[serde(default)]
    manifests: Vec<Descriptor>,
    #[serde(flatten)]
    extra: Map<String, Value>,
}

/// The digest stays a string so that an index holding other algorithms still loads.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Descriptor {
    media_type: String,
    digest: String,
    size: u64,
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    annotations: Map<String, Value>,
    #[serde(flatten)]
    extra: Map<String, Value>,
}

impl Descriptor {
    fn ref_name(&self) -> Option<&str> {
        self.annotations.get(REF_NAME).and_then(Value::as_str)
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct LayoutFile {
    image_layout_version: String,
}

#[derive(Debug, Clone)]
pub struct Layout {
    dir: PathBuf,
}

impl Layout {
    /// Opens a layout folder, creating it (and its oci-layout file and an empty index) if
    /// missing. An existing non-empty folder that is not a layout is an error.
    pub fn create(dir: &Path) -> Result<Layout, LayoutError> {
        let layout = Layout {
            dir: dir.to_path_buf(),
        };
        if dir.join(LAYOUT_FILE).is_file() {
            // A create interrupted between the two files leaves oci-layout alone; finish it.
            if !dir.join(INDEX_FILE).exists() {
                layout.write_index(&empty_index())?;
            }
            return Layout::open(dir);
        }
        match fs::read_dir(dir) {
            Ok(mut entries) => {
                if entries.next().is_some() {
                    return Err(not_a_layout(
                        dir,
                        "the folder is not empty and has no oci-layout file",
                    ));
                }
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                fs::create_dir_all(dir).map_err(io_err("create folder", dir))?;
            }
            Err(e) if dir.exists() && !dir.is_dir() => {
                return Err(not_a_layout(dir, &format!("it is not a folder: {e}")));
            }
            Err(e) => return Err(io_err("read folder", dir)(e)),
        }
        let blobs = layout.blobs_dir();
        fs::create_dir_all(&blobs).map_err(io_err("create folder", &blobs))?;
        write_atomic(&dir.join(LAYOUT_FILE), br#"{"imageLayoutVersion":"1.0.0"}"#)?;
        layout.write_index(&empty_index())?;
        Ok(layout)
    }

    /// Opens an existing layout; an error if the folder is not one.
    pub fn open(dir: &Path) -> Result<Layout, LayoutError> {
        let bytes = read_if_present(&dir.join(LAYOUT_FILE))?
            .ok_or_else(|| not_a_layout(dir, "it has no oci-layout file"))?;
        let version = serde_json::from_slice::<LayoutFile>(&bytes)
            .map_err(|e| not_a_layout(dir, &format!("oci-layout is not valid: {e}")))?
            .image_layout_version;
        // Minor versions of the layout spec only add optional things.
        if !version.starts_with("1.") {
            let reason = format!("unsupported imageLayoutVersion {version:?}, expected 1.0.0");
            return Err(not_a_layout(dir, &reason));
        }
        let layout = Layout {
            dir: dir.to_path_buf(),
        };
        layout.read_index()?;
        Ok(layout)
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn has_blob(&self, digest: &Digest) -> bool {
        self.blob_path(digest).is_file()
    }

    /// Writes a blob atomically after checking that the bytes hash to `digest`. A blob that is
    /// already present is left alone: its name is its content.
    pub fn put_blob(&self, digest: &Digest, data: &[u8]) -> Result<(), LayoutError> {
        let actual = Digest::of(data);
        if &actual != digest {
            return Err(LayoutError::DigestMismatch {
                dir: self.dir.clone(),
                expected: digest.clone(),
                actual,
            });
        }
        if self.has_blob(digest) {
            return Ok(());
        }
        let blobs = self.blobs_dir();
        fs::create_dir_all(&blobs).map_err(io_err("create folder", &blobs))?;
        write_atomic(&self.blob_path(digest), data)
    }

    /// Reads a blob and checks its digest, so a corrupt layout never yields wrong bytes.
    pub fn get_blob(&self, digest: &Digest) -> Result<Vec<u8>, LayoutError> {
        let path = self.blob_path(digest);
        let data = read_if_present(&path)?.ok_or_else(|| LayoutError::MissingBlob {
            dir: self.dir.clone(),
            digest: digest.clone(),
        })?;
        let actual = Digest::of(&data);
        if &actual != digest {
            return Err(LayoutError::CorruptBlob {
                path,
                digest: digest.clone(),
                actual,
            });
        }
        Ok(data)
    }

    /// Opens a blob for a bounded read (see `oci::blob`): the file and its length. Only a
    /// regular file is read, so a blob replaced by a FIFO or a link to a device cannot hang
    /// or flood the reader.
    pub fn open_blob(&self, digest: &Digest) -> Result<(fs::File, u64), LayoutError> {
        let path = self.blob_path(digest);
        let file = match fs::File::open(&path) {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return Err(LayoutError::MissingBlob {
                    dir: self.dir.clone(),
                    digest: digest.clone(),
                });
            }
            Err(e) => return Err(io_err("read", &path)(e)),
        };
        let meta = file.metadata().map_err(io_err("read", &path))?;
        if !meta.is_file() {
            return Err(LayoutError::NotAFile {
                path,
                digest: digest.clone(),
            });
        }
        Ok((file, meta.len()))
    }

    /// A manifest blob, read only when it is at most `size` bytes (its descriptor's, when an
    /// index gives one) and `MAX_MANIFEST`, then checked against its digest.
    fn read_manifest(&self, digest: &Digest, size: Option<u64>) -> Result<Vec<u8>, LayoutError> {
        let (file, len) = self.open_blob(digest)?;
        let max = size.unwrap_or(MAX_MANIFEST).min(MAX_MANIFEST);
        let too_large = |size| LayoutError::ManifestTooLarge {
            dir: self.dir.clone(),
            digest: digest.clone(),
            size,
        };
        if len > max {
            return Err(too_large(len));
        }
        let mut data = Vec::with_capacity(len as usize);
        let path = self.blob_path(digest);
        // The file may grow after the length was read; never read past the bound.
        file.take(max + 1)
            .read_to_end(&mut data)
            .map_err(io_err("read", &path))?;
        if data.len() as u64 > max {
            return Err(too_large(data.len() as u64));
        }
        let actual = Digest::of(&data);
        if &actual != digest {
            return Err(LayoutError::CorruptBlob {
                path,
                digest: digest.clone(),
                actual,
            });
        }
        Ok(data)
    }

    /// Stores a manifest blob, then points `tag` at it in index.json (replacing any entry with the
    /// same ref.name, in place). With no tag the manifest is listed untagged unless its digest is
    /// already listed. The index is rewritten last so it never names a missing blob.
    pub fn put_manifest(
        &self,
        manifest: &[u8],
        media_type: &str,
        tag: Option<&str>,
    ) -> Result<Digest, LayoutError> {
        if let Some(tag) = tag {
            validate_tag(tag)?;
        }
        let digest = Digest::of(manifest);
        // The index descriptor must not lie about the bytes it points at.
        let bad = |reason: String| LayoutError::BadManifest {
            dir: self.dir.clone(),
            digest: digest.clone(),
            reason,
        };
        let value: Value = serde_json::from_slice(manifest).map_err(|e| bad(e.to_string()))?;
        let field = |name| value.get(name).and_then(Value::as_str);
        if let Some(declared) = field("mediaType").filter(|d| *d != media_type) {
            return Err(bad(format!(
                "it declares mediaType {declared:?} but was given {media_type:?}"
            )));
        }
        self.put_blob(&digest, manifest)?;

        let mut index = self.read_index()?;
        let mut desc = Descriptor {
            media_type: media_type.to_string(),
            digest: digest.to_string(),
            size: manifest.len() as u64,
            annotations: Map::new(),
            extra: Map::new(),
        };
        // Registries list artifactType in index descriptors (image-spec 1.1); oras filters on it.
        if let Some(t) = field("artifactType") {
            desc.extra.insert("artifactType".into(), t.into());
        }
        match tag {
            Some(tag) => {
                desc.annotations
                    .insert(REF_NAME.into(), Value::String(tag.to_string()));
                // Replaced in place so `tags()` keeps its order. An untagged entry for this
                // digest is dropped: it is now redundant and would make skopeo's `oci:DIR`
                // (no tag) ambiguous.
                let mut entries = Vec::with_capacity(index.manifests.len() + 1);
                let mut new = Some(desc);
                for d in index.manifests.drain(..) {
                    if d.ref_name() == Some(tag) {
                        entries.extend(new.take());
                    } else if !(d.ref_name().is_none() && d.digest == digest.as_str()) {
                        entries.push(d);
                    }
                }
                entries.extend(new);
                index.manifests = entries;
            }
            None => {
                if !index.manifests.iter().any(|d| d.digest == desc.digest) {
                    index.manifests.push(desc);
                }
            }
        }
        self.write_index(&index)?;
        Ok(digest)
    }

    /// Finds a manifest by tag or by digest ("sha256:..."); returns (digest, media type, bytes).
    /// A digest that is not in index.json but whose blob exists (a child of an image index) is
    /// found too, taking its media type from the manifest itself.
    pub fn manifest(&self, reference: &str) -> Result<(Digest, String, Vec<u8>), LayoutError> {
        let index = self.read_index()?;
        if let Ok(digest) = reference.parse::<Digest>() {
            let listed = index
                .manifests
                .iter()
                .find(|d| d.digest == digest.as_str())
                .map(|d| (d.media_type.clone(), d.size));
            let bytes = self.read_manifest(&digest, listed.as_ref().map(|l| l.1))?;
            let listed = listed.map(|l| l.0);
            let declared = serde_json::from_slice::<Value>(&bytes).ok().and_then(|v| {
                v.get("mediaType")
                    .and_then(Value::as_str)
                    .map(str::to_string)
            });
            let media_type = match listed.or(declared) {
                Some(m) => m,
                None => Err(LayoutError::BadManifest {
                    dir: self.dir.clone(),
                    digest: digest.clone(),
                    reason: "it is not in index.json and has no mediaType field".into(),
                })?,
            };
            return Ok((digest, media_type, bytes));
        }
        // Another tool may have listed a tag twice; the first entry wins, as in skopeo.
        let Some(desc) = index
            .manifests
            .iter()
            .find(|d| d.ref_name() == Some(reference))
        else {
            return Err(LayoutError::UnknownTag {
                dir: self.dir.clone(),
                tag: reference.to_string(),
                tags: tags_of(&index),
            });
        };
        let digest: Digest = desc.digest.parse().map_err(|e| LayoutError::BadIndex {
            path: self.dir.join(INDEX_FILE),
            reason: format!("tag {reference:?}: {e}"),
        })?;
        let bytes = self.read_manifest(&digest, Some(desc.size))?;
        Ok((digest, desc.media_type.clone(), bytes))
    }

    pub fn tags(&self) -> Result<Vec<String>, LayoutError> {
        Ok(tags_of(&self.read_index()?))
    }

    fn blobs_dir(&self) -> PathBuf {
        self.dir.join("blobs").join("sha256")
    }

    fn blob_path(&self, digest: &Digest) -> PathBuf {
        self.blobs_dir().join(digest.hex())
    }

    fn read_index(&self) -> Result<Index, LayoutError> {
        let path = self.dir.join(INDEX_FILE);
        let bytes = read_if_present(&path)?
            .ok_or_else(|| not_a_layout(&self.dir, "it has no index.json"))?;
        serde_json::from_slice(&bytes).map_err(|e| LayoutError::BadIndex {
            path,
            reason: e.to_string(),
        })
    }

    /// index.json.tmp + rename: the fixed name is safe because there is a single writer.
    fn write_index(&self, index: &Index) -> Result<(), LayoutError> {
        let path = self.dir.join(INDEX_FILE);
        let tmp = self.dir.join(INDEX_TMP);
        let mut bytes = serde_json::to_vec_pretty(index).map_err(|e| LayoutError::BadIndex {
            path: path.clone(),
            reason: e.to_string(),
        })?;
        bytes.push(b'\n');
        let write = || -> io::Result<()> {
            let mut f = fs::File::create(&tmp)?;
            f.write_all(&bytes)?;
            f.sync_all()
        };
        write().map_err(io_err("write", &tmp))?;
        fs::rename(&tmp, &path).map_err(io_err("replace", &path))
    }
}

fn empty_index() -> Index {
    Index {
        schema_version: 2,
        media_type: Some(INDEX_MEDIA_TYPE.to_string()),
        manifests: Vec::new(),
        extra: Map::new(),
    }
}

fn tags_of(index: &Index) -> Vec<String> {
    index
        .manifests
        .iter()
        .filter_map(|d| d.ref_name().map(str::to_string))
        .collect()
}

/// The image-layout ref.name grammar, which skopeo enforces for `oci:DIR:TAG`:
/// components of alphanumerics joined by `-._:@+` or `--`, separated by `/`.
fn validate_tag(tag: &str) -> Result<(), LayoutError> {
    let invalid = |reason| LayoutError::InvalidTag {
        tag: tag.to_string(),
        reason,
    };
    if tag.parse::<Digest>().is_ok() {
        return Err(invalid("a tag must not look like a digest"));
    }
    // Folding `--` to `-` first lets one split check both separator forms.
    let ok = tag.split('/').all(|component| {
        component
            .replace("--", "-")
            .split(['-', '.', '_', ':', '@', '+'])
            .all(|part| !part.is_empty() && part.bytes().all(|b| b.is_ascii_alphanumeric()))
    });
    if ok {
        Ok(())
    } else {
        Err(invalid(
            "use letters and digits joined by one of - . _ : @ + (or --), with / between components",
        ))
    }
}

/// Writes into a temporary file beside `path` and renames it, so readers see all or nothing.
fn write_atomic(path: &Path, data: &[u8]) -> Result<(), LayoutError> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut builder = tempfile::Builder::new();
    builder.prefix(".tmp-");
    // tempfile defaults to 0600; blobs must stay readable by whoever reads the layout.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(fs::Permissions::from_mode(0o644));
    }
    let mut tmp = builder
        .tempfile_in(dir)
        .map_err(io_err("create a file in", dir))?;
    tmp.write_all(data).map_err(io_err("write", tmp.path()))?;
    tmp.as_file().sync_all().map_err(io_err("write", path))?;
    tmp.persist(path)
        .map_err(|e| io_err("write", path)(e.error))?;
    Ok(())
}

fn read_if_present(path: &Path) -> Result<Option<Vec<u8>>, LayoutError> {
    match fs::read(path) {
        Ok(b) => Ok(Some(b)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(io_err("read", path)(e)),
    }
}

fn io_err(action: &'static str, path: &Path) -> impl FnOnce(io::Error) -> LayoutError {
    let path = path.to_path_buf();
    move |source| LayoutError::Io {
        action,
        path,
        source,
    }
}

fn not_a_layout(dir: &Path, reason: &str) -> LayoutError {
    LayoutError::NotALayout {
        dir: dir.to_path_buf(),
        reason: reason.to_string(),
    }
}

#[cfg(test)]
mod tests;
