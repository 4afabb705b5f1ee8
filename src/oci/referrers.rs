//! OCI 1.1 referrers: the manifests whose `subject` is an image (cosign v3's Sigstore bundles
//! among them), found through the registry's `GET /v2/<name>/referrers/<digest>` when it has
//! one, else through the referrers tag schema: an image index tagged `sha256-<hex>` that the
//! writers keep up to date. An `oci-layout:` folder uses the tag schema too.
//!
//! The tag schema has no compare-and-swap, so two writers can overwrite each other's update.
//! `add` therefore reads the index back after writing, once at once and once after a pause as
//! long as its own update took, and merges again whenever its entry is gone.

use std::time::{Duration, Instant};

use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::{OciError, Store, registry};
use crate::bundle::Digest;

/// Media type of an image index (the referrers list and the fallback tag's manifest).
pub const INDEX_MEDIA_TYPE: &str = "application/vnd.oci.image.index.v1+json";
/// At most this many referrers of one image are examined; the rest are ignored (and said so).
pub const MAX_REFERRERS: usize = 128;
/// A referrer manifest larger than this is not fetched.
pub const MAX_REFERRER_MANIFEST: u64 = 64 * 1024;
/// Merge attempts on the fallback tag before giving up.
const MERGE_ATTEMPTS: u32 = 8;

/// The referrers tag schema's tag for `digest`: `sha256-<hex>`.
pub fn fallback_tag(digest: &Digest) -> String {
    format!("sha256-{}", digest.hex())
}

/// One entry of a referrers list: a descriptor of a manifest that refers to the image.
#[derive(Debug, Clone, PartialEq)]
pub struct Referrer {
    pub digest: Digest,
    pub media_type: String,
    pub size: u64,
    /// What the list says it is; ggcr (so cosign) writes the config media type here, so it is
    /// a hint only: the manifest itself decides.
    pub artifact_type: Option<String>,
    pub annotations: Map<String, Value>,
}

impl Referrer {
    /// The descriptor of a referrer manifest, as the image-spec says a referrers list names it:
    /// `artifactType` is the manifest's, else its config's media type; annotations are the
    /// manifest's.
    pub fn describe(manifest: &[u8]) -> Result<Referrer, String> {
        let value: Value =
            serde_json::from_slice(manifest).map_err(|e| format!("not JSON: {e}"))?;
        let text = |p: &str| value.pointer(p).and_then(Value::as_str).map(str::to_owned);
        let media_type = text("/mediaType").ok_or("the manifest has no mediaType")?;
        Ok(Referrer {
            digest: Digest::of(manifest),
            media_type,
            size: manifest.len() as u64,
            artifact_type: text("/artifactType").or_else(|| text("/config/mediaType")),
            annotations: value
                .get("annotations")
                .and_then(Value::as_object)
                .cloned()
                .unwrap_or_default(),
        })
    }

    fn to_json(&self) -> Value {
        let mut d = Map::new();
        d.insert("mediaType".into(), self.media_type.clone().into());
        d.insert("size".into(), self.size.into());
        d.insert("digest".into(), self.digest.as_str().into());
        if let Some(t) = &self.artifact_type {
            d.insert("artifactType".into(), t.clone().into());
        }
        if !self.annotations.is_empty() {
            d.insert(
                "annotations".into(),
                Value::Object(self.annotations.clone()),
            );
        }
        Value::Object(d)
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawIndex {
    schema_version: u32,
    #[serde(default)]
    media_type: Option<String>,
    #[serde(default)]
    manifests: Vec<RawDescriptor>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawDescriptor {
    media_type: String,
    digest: String,
    size: u64,
    #[serde(default)]
    artifact_type: Option<String>,
    #[serde(default)]
    annotations: Option<Map<String, Value>>,
}

/// Reads a referrers list (the API's answer or the fallback tag's index). Entries whose digest
/// is not sha256 are skipped: nothing here can fetch them.
pub fn parse_index(bytes: &[u8]) -> Result<Vec<Referrer>, String> {
    let raw: RawIndex =
        serde_json::from_slice(bytes).map_err(|e| format!("not an OCI image index: {e}"))?;
    if raw.schema_version != 2 {
        return Err(format!("schemaVersion is {}, not 2", raw.schema_version));
    }
    if let Some(m) = raw.media_type.as_deref().filter(|m| *m != INDEX_MEDIA_TYPE) {
        return Err(format!("media type is {m}, not {INDEX_MEDIA_TYPE}"));
    }
    Ok(raw
        .manifests
        .into_iter()
        .filter_map(|d| {
            Some(Referrer {
                digest: d.digest.parse().ok()?,
                media_type: d.media_type,
                size: d.size,
                artifact_type: d.artifact_type,
                annotations: d.annotations.unwrap_or_default(),
            })
        })
        .collect())
}

/// The fallback index with `added` merged in: nothing dropped, no digest twice, sorted by
/// digest as go-containerregistry (so cosign) sorts it. Other fields of `current` are kept.
pub fn merge_index(current: Option<&[u8]>, added: &[Referrer]) -> Result<Vec<u8>, String> {
    let mut index: Map<String, Value> = match current {
        Some(bytes) => {
            parse_index(bytes)?;
            serde_json::from_slice(bytes).map_err(|e| e.to_string())?
        }
        None => Map::new(),
    };
    let mut entries: Vec<Value> = index
        .remove("manifests")
        .and_then(|m| match m {
            Value::Array(a) => Some(a),
            _ => None,
        })
        .unwrap_or_default();
    for r in added {
        let listed = entries
            .iter()
            .any(|e| e.get("digest").and_then(Value::as_str) == Some(r.digest.as_str()));
        if !listed {
            entries.push(r.to_json());
        }
    }
    entries.sort_by(|a, b| {
        let key = |v: &Value| {
            v.get("digest")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned()
        };
        key(a).cmp(&key(b))
    });
    let mut out = Map::new();
    out.insert("schemaVersion".into(), json!(2));
    out.insert("mediaType".into(), json!(INDEX_MEDIA_TYPE));
    out.insert("manifests".into(), Value::Array(entries));
    for (k, v) in index {
        if k != "schemaVersion" && k != "mediaType" {
            out.insert(k, v);
        }
    }
    serde_json::to_vec(&Value::Object(out)).map_err(|e| e.to_string())
}

impl Store {
    /// The referrers of `subject`, at most `MAX_REFERRERS` of them: the registry's referrers
    /// API when it answers, else (and for layouts) the fallback tag's index.
    pub async fn referrers(&self, subject: &Digest) -> Result<Vec<Referrer>, OciError> {
        let mut found = match self {
            Store::Registry(r) => match r.referrers(subject).await {
                Ok(bytes) => parse_index(&bytes).map_err(|e| self.referrers_error(subject, &e))?,
                // oci-client falls back to the tag only on a 404; registries also answer an
                // endpoint they lack with 400, 405 or 406 (go-containerregistry accepts those
                // too), or with a body that is no index. Legacy signatures must not fail then.
                Err(e) if !registry::unreachable_or_refused(&e) => {
                    tracing::debug!("referrers API unusable ({e}); reading the fallback tag");
                    self.fallback_index(subject).await?.1
                }
                Err(e) => return Err(self.remote(e)),
            },
            Store::Layout { .. } => self.fallback_index(subject).await?.1,
        };
        if found.len() > MAX_REFERRERS {
            tracing::warn!(
                "{}: {} referrers of {subject}; only the first {MAX_REFERRERS} are examined",
                self.name(),
                found.len()
            );
            found.truncate(MAX_REFERRERS);
        }
        Ok(found)
    }

    /// A referrer's manifest, checked against its digest and `MAX_REFERRER_MANIFEST`.
    pub async fn referrer_manifest(&self, r: &Referrer) -> Result<Vec<u8>, OciError> {
        if r.size > MAX_REFERRER_MANIFEST {
            return Err(OciError::Content {
                image: self.name(),
                message: format!(
                    "referrer {} declares {} bytes, over the {MAX_REFERRER_MANIFEST}-byte limit for a referrer manifest",
                    r.digest, r.size
                ),
            });
        }
        self.manifest_by_digest(&r.digest, MAX_REFERRER_MANIFEST)
            .await
    }

    /// A manifest of this repository by digest, whatever its type, checked against the
    /// digest and refused past `limit` bytes.
    pub async fn manifest_by_digest(
        &self,
        digest: &Digest,
        limit: u64,
    ) -> Result<Vec<u8>, OciError> {
        let bytes = match self {
            Store::Registry(reg) => reg
                .manifest_by_digest(digest)
                .await
                .map_err(|e| self.remote(e))?,
            Store::Layout { layout, .. } => layout.manifest(digest.as_str())?.2,
        };
        if bytes.len() as u64 > limit {
            return Err(OciError::Content {
                image: self.name(),
                message: format!("manifest {digest} is over the {limit}-byte limit"),
            });
        }
        if Digest::of(&bytes) != *digest {
            return Err(OciError::Content {
                image: self.name(),
                message: format!(
                    "manifest {digest} does not match its digest; the registry is serving corrupt data"
                ),
            });
        }
        Ok(bytes)
    }

    /// Stores a referrer manifest by digest, untagged. In a layout folder it is a blob only,
    /// reachable through the fallback tag's index: listing it in index.json untagged would make
    /// the folder ambiguous to tools that pick "the" image of a layout (skopeo's `oci:DIR`).
    pub async fn put_referrer_manifest(
        &self,
        manifest: &[u8],
        media_type: &str,
    ) -> Result<Digest, OciError> {
        match self {
            Store::Registry(_) => self.put_manifest(manifest, media_type, None).await,
            Store::Layout { layout, .. } => {
                let digest = Digest::of(manifest);
                layout.put_blob(&digest, manifest)?;
                Ok(digest)
            }
        }
    }

    /// Makes `added` (referrer manifests already stored by digest) findable as referrers of
    /// `subject`. A registry that lists them itself is left alone; otherwise they are merged
    /// into the fallback tag's index, read back, and merged again if a concurrent writer's
    /// update dropped them.
    pub async fn add_referrers(
        &self,
        subject: &Digest,
        added: &[Referrer],
    ) -> Result<(), OciError> {
        if added.is_empty() {
            return Ok(());
        }
        if let Store::Registry(r) = self {
            // The referrers API lists a pushed manifest with a subject by itself; the tag
            // schema cannot have it yet (nobody merged it), so a listing means the API.
            let listed = r.referrers(subject).await.map_err(|e| self.remote(e))?;
            if parse_index(&listed).is_ok_and(|list| lists_all(&list, added)) {
                return Ok(());
            }
        }
        let tag = fallback_tag(subject);
        let mut wait = Duration::from_millis(20);
        for attempt in 1..=MERGE_ATTEMPTS {
            let started = Instant::now();
            let (current, _) = self.fallback_index(subject).await?;
            let merged = merge_index(current.as_deref(), added)
                .map_err(|e| self.referrers_error(subject, &e))?;
            if current.as_deref() != Some(merged.as_slice()) {
                // Read again just before writing: a change since the first read is merged first.
                if self.fallback_index(subject).await?.0 != current {
                    continue;
                }
                self.put_manifest(&merged, INDEX_MEDIA_TYPE, Some(&tag))
                    .await?;
            }
            // Once at once, once after a pause as long as this update took: a writer that
            // read before our write lands its stale index within about that time.
            let took = started.elapsed();
            if self.fallback_lists(subject, added).await? {
                self.settle(took, wait).await;
                if self.fallback_lists(subject, added).await? {
                    return Ok(());
                }
            }
            tracing::info!(
                "{}: the referrers index {tag} lost an entry to a concurrent writer; merging again (attempt {attempt})",
                self.name()
            );
            wait *= 2;
        }
        Err(OciError::Content {
            image: self.name(),
            message: format!(
                "the referrers index {tag} kept losing entries to concurrent writers after {MERGE_ATTEMPTS} merges; sign again"
            ),
        })
    }

    /// Waits before the second read-back of a tag update: twice as long as the update took
    /// (at most 2 s) plus `extra`, since a writer that read before our write lands its stale
    /// copy within about that time. A layout folder has a single writer, so no wait.
    pub async fn settle(&self, took: Duration, extra: Duration) {
        if let Store::Registry(_) = self {
            tokio::time::sleep((took * 2).min(Duration::from_secs(2)) + extra).await;
        }
    }

    async fn fallback_lists(&self, subject: &Digest, added: &[Referrer]) -> Result<bool, OciError> {
        Ok(lists_all(&self.fallback_index(subject).await?.1, added))
    }

    /// The fallback tag's index bytes (when there is one) and its entries.
    async fn fallback_index(
        &self,
        subject: &Digest,
    ) -> Result<(Option<Vec<u8>>, Vec<Referrer>), OciError> {
        let Some((_, bytes)) = self.manifest_at(&fallback_tag(subject)).await? else {
            return Ok((None, Vec::new()));
        };
        let list = parse_index(&bytes).map_err(|e| self.referrers_error(subject, &e))?;
        Ok((Some(bytes), list))
    }

    fn referrers_error(&self, subject: &Digest, reason: &str) -> OciError {
        OciError::Content {
            image: self.name(),
            message: format!(
                "the referrers of {subject} ({}) cannot be read: {reason}",
                fallback_tag(subject)
            ),
        }
    }
}

/// Copies every referrer of `subject` (bundles, attestations, SBOMs: up to `MAX_REFERRERS`)
/// from `src` to `dst` byte for byte, blobs first, each manifest by digest, then lists them in
/// the destination's referrers without dropping what it lists already. Returns how many.
pub async fn copy_referrers(src: &Store, dst: &Store, subject: &Digest) -> Result<usize, OciError> {
    let mut copied = Vec::new();
    for r in src.referrers(subject).await? {
        let manifest = src.referrer_manifest(&r).await?;
        let value: Value = serde_json::from_slice(&manifest).map_err(|e| OciError::Content {
            image: src.name(),
            message: format!("referrer {} is not JSON: {e}", r.digest),
        })?;
        let config = value.get("config").into_iter();
        let layers = value
            .get("layers")
            .and_then(Value::as_array)
            .into_iter()
            .flatten();
        for blob in config.chain(layers) {
            let digest = blob
                .get("digest")
                .and_then(Value::as_str)
                .and_then(|d| d.parse::<Digest>().ok())
                .ok_or_else(|| OciError::Content {
                    image: src.name(),
                    message: format!("referrer {} names a blob without a sha256 digest", r.digest),
                })?;
            dst.copy_blob_from(src, &digest).await?;
        }
        dst.put_referrer_manifest(&manifest, &r.media_type).await?;
        copied.push(r);
    }
    dst.add_referrers(subject, &copied).await?;
    Ok(copied.len())
}

fn lists_all(list: &[Referrer], added: &[Referrer]) -> bool {
    added
        .iter()
        .all(|a| list.iter().any(|r| r.digest == a.digest))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn referrer(n: u8) -> Referrer {
        Referrer {
            digest: Digest::of(&[n]),
            media_type: "application/vnd.oci.image.manifest.v1+json".into(),
            size: 10,
            artifact_type: Some("application/vnd.oci.empty.v1+json".into()),
            annotations: Map::new(),
        }
    }

    #[test]
    fn merging_keeps_every_entry_once_sorted_and_other_fields() {
        let first = merge_index(None, &[referrer(1)]).unwrap();
        let mut with_extra: Value = serde_json::from_slice(&first).unwrap();
        with_extra["annotations"] = json!({"k": "v"});
        let with_extra = serde_json::to_vec(&with_extra).unwrap();
        let merged = merge_index(Some(&with_extra), &[referrer(2), referrer(1)]).unwrap();
        let list = parse_index(&merged).unwrap();
        let mut want = vec![referrer(1).digest, referrer(2).digest];
        want.sort_by(|a, b| a.as_str().cmp(b.as_str()));
        assert_eq!(
            list.iter().map(|r| r.digest.clone()).collect::<Vec<_>>(),
            want
        );
        let value: Value = serde_json::from_slice(&merged).unwrap();
        assert_eq!(value["annotations"]["k"], "v");
        assert_eq!(value["mediaType"], INDEX_MEDIA_TYPE);
    }

    #[test]
    fn a_fallback_tag_that_is_not_an_index_is_refused() {
        let image = br#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","layers":[]}"#;
        assert!(parse_index(image).unwrap_err().contains("media type"));
        assert!(merge_index(Some(b"{"), &[referrer(1)]).is_err());
    }

    #[test]
    fn the_descriptor_of_a_referrer_takes_its_artifact_type() {
        let m = br#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.empty.v1+json"},"artifactType":"application/vnd.dev.sigstore.bundle.v0.3+json","annotations":{"a":"b"}}"#;
        let r = Referrer::describe(m).unwrap();
        assert_eq!(
            r.artifact_type.as_deref(),
            Some("application/vnd.dev.sigstore.bundle.v0.3+json")
        );
        assert_eq!(r.digest, Digest::of(m));
        assert_eq!(r.annotations["a"], "b");
    }
}
