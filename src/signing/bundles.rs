//! Sigstore bundle signatures in a store, as cosign v3 keeps them: each bundle the one layer
//! of a referrer manifest of the image, found through the referrers API or the fallback tag
//! (`oci::referrers`). Read and judged beside the legacy `.sig` layers, which count alike.

use std::collections::BTreeMap;
use std::time::{SystemTime, UNIX_EPOCH};

use super::bundle::{self, Bundle, MAX_BUNDLE_BYTES, SIGN_PREDICATE_TYPE, referrer, statement};
use super::cosign::{self, Verdict};
use super::examine::{self, Examined, Limits};
use super::keys::{PrivateKey, PublicKey};
use super::{SignError, Trust};
use crate::bundle::{Digest, MANIFEST_MEDIA_TYPE};
use crate::oci::referrers::Referrer;
use crate::oci::{OciError, Store};

/// Media types a referrer manifest may have to be read for a bundle.
const IMAGE_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
/// The largest image manifest read back to describe it as a referrer's subject.
const MAX_SUBJECT_MANIFEST: u64 = 4 * 1024 * 1024;

/// One bundle found among the referrers: the referrer manifest's digest, and the parsed
/// bundle or why it cannot be judged (that is a verdict, not an error: other signatures may
/// still hold).
#[derive(Debug, Clone)]
pub struct StoredBundle {
    pub referrer: Digest,
    pub bundle: Result<Bundle, String>,
}

/// Every signature of an image: the legacy `.sig` layers examined (`examine`), then the
/// bundles.
#[derive(Debug, Clone, Default)]
pub struct Signatures {
    /// The first `legacy.len()` layers of the `.sig`; a refused one is a placeholder.
    pub legacy: Vec<cosign::SignatureLayer>,
    /// Legacy layers refused unfetched (by their declared size), by 1-based position.
    pub refused: BTreeMap<usize, String>,
    /// How much of the `.sig` was examined, when not all of it.
    pub note: Option<String>,
    pub bundles: Vec<StoredBundle>,
}

impl Signatures {
    pub fn new(examined: Examined, bundles: Vec<StoredBundle>) -> Signatures {
        Signatures {
            note: examined.note(),
            legacy: examined.layers,
            refused: examined.refused,
            bundles,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.legacy.is_empty() && self.bundles.is_empty()
    }
}

/// The legacy signatures of `digest` within `limits`, and its bundles.
pub async fn all_signatures(
    store: &Store,
    digest: &Digest,
    limits: &Limits,
) -> Result<Signatures, SignError> {
    Ok(Signatures::new(
        examine::examine(store, digest, limits).await?,
        bundle_signatures(store, digest).await?,
    ))
}

/// The Sigstore bundles among the referrers of `digest` (other artifacts, an SBOM say, are
/// skipped). A registry that cannot be asked is an error; a bad referrer is a bad verdict.
pub async fn bundle_signatures(
    store: &Store,
    digest: &Digest,
) -> Result<Vec<StoredBundle>, SignError> {
    let referrers = store.referrers(digest).await?;
    read_bundles(store, digest, referrers).await
}

/// The bundles among `referrers` (as `Store::referrers` listed them), read and parsed.
pub async fn read_bundles(
    store: &Store,
    digest: &Digest,
    referrers: Vec<Referrer>,
) -> Result<Vec<StoredBundle>, SignError> {
    let mut found = Vec::new();
    for r in referrers {
        if r.media_type != IMAGE_MANIFEST {
            continue;
        }
        let manifest = match judged(store.referrer_manifest(&r).await)? {
            Ok(m) => m,
            Err(why) => {
                found.push(bad(&r, why));
                continue;
            }
        };
        let parsed = match referrer::parse(&manifest) {
            Ok(p) => p,
            Err(e) => {
                found.push(bad(&r, format!("referrer manifest: {e}")));
                continue;
            }
        };
        let is_bundle = parsed
            .artifact_type
            .as_deref()
            .is_some_and(|t| t.starts_with("application/vnd.dev.sigstore.bundle"))
            || parsed.bundle_layers().next().is_some();
        if !is_bundle {
            continue;
        }
        found.push(StoredBundle {
            referrer: r.digest.clone(),
            bundle: read_bundle(store, digest, &parsed).await?,
        });
    }
    Ok(found)
}

async fn read_bundle(
    store: &Store,
    digest: &Digest,
    parsed: &referrer::Referrer,
) -> Result<Result<Bundle, String>, SignError> {
    if parsed.subject.as_ref() != Some(digest) {
        let named = parsed
            .subject
            .as_ref()
            .map_or("no subject".to_owned(), Digest::to_string);
        return Ok(Err(format!(
            "the referrer names {named} as its subject, not {digest}"
        )));
    }
    let layers: Vec<_> = parsed.bundle_layers().collect();
    let [layer] = layers.as_slice() else {
        return Ok(Err(format!(
            "the referrer has {} bundle layers; cosign writes one",
            layers.len()
        )));
    };
    if layer.size > MAX_BUNDLE_BYTES {
        return Ok(Err(format!(
            "bundle {} declares {} bytes, over the {MAX_BUNDLE_BYTES}-byte limit",
            layer.digest, layer.size
        )));
    }
    let blob_ref = crate::oci::BlobRef {
        digest: layer.digest.clone(),
        size: layer.size,
    };
    let blob = match judged(store.read_blob(&blob_ref, MAX_BUNDLE_BYTES).await)? {
        Ok(b) => b,
        Err(why) => return Ok(Err(why)),
    };
    if blob.len() as u64 != layer.size {
        return Ok(Err(format!(
            "bundle {} is {} bytes, but the referrer declares {}",
            layer.digest,
            blob.len(),
            layer.size
        )));
    }
    Ok(bundle::parse(&blob).map_err(|e| e.to_string()))
}

/// Splits a store failure: bad content is a verdict (Ok(Err)), an unreachable store an error.
fn judged<T>(result: Result<T, OciError>) -> Result<Result<T, String>, SignError> {
    match result {
        Ok(v) => Ok(Ok(v)),
        Err(e @ (OciError::Content { .. } | OciError::Layout(_))) => Ok(Err(e.to_string())),
        Err(e) => Err(e.into()),
    }
}

fn bad(r: &Referrer, why: String) -> StoredBundle {
    StoredBundle {
        referrer: r.digest.clone(),
        bundle: Err(why),
    }
}

impl Trust {
    /// One verdict per signature: the legacy layers first (numbered as in the `.sig`
    /// manifest), then the bundles.
    pub fn judge_all(
        &self,
        signatures: &Signatures,
        digest: &Digest,
        required: &BTreeMap<String, String>,
    ) -> Vec<Verdict> {
        let mut verdicts = self.judge(&signatures.legacy, digest, required);
        for verdict in &mut verdicts {
            if let Some(why) = signatures.refused.get(&verdict.layer) {
                verdict.result = Err(why.clone());
                verdict.signer = None;
            }
        }
        let offset = signatures.legacy.len();
        for (i, stored) in signatures.bundles.iter().enumerate() {
            let (result, signer) = match &stored.bundle {
                Err(why) => (Err(why.clone()), None),
                Ok(b) => self.judge_bundle(b, digest, required),
            };
            verdicts.push(Verdict {
                layer: offset + i + 1,
                result: result.map_err(|why| format!("bundle {}: {why}", stored.referrer)),
                signer,
            });
        }
        verdicts
    }

    fn judge_bundle(
        &self,
        b: &Bundle,
        digest: &Digest,
        required: &BTreeMap<String, String>,
    ) -> (Result<cosign::Payload, String>, Option<String>) {
        match self {
            Trust::Keys(keys) => (judge_keyed(b, digest, keys, required), None),
            Trust::Keyless(policy) => {
                match bundle::verify::check_keyless(b, digest, policy, required) {
                    Ok((payload, signer)) => {
                        let who = format!("{} (issuer {})", signer.subject, signer.issuer);
                        (Ok(payload), Some(who))
                    }
                    Err(why) => (Err(why), None),
                }
            }
        }
    }
}

/// The first key that accepts the bundle wins; otherwise the reason of a key that made it
/// (the statement is wrong) beats "does not match key", as for legacy layers.
fn judge_keyed(
    b: &Bundle,
    digest: &Digest,
    keys: &[PublicKey],
    required: &BTreeMap<String, String>,
) -> Result<cosign::Payload, String> {
    let mut best: Option<String> = None;
    for key in keys {
        match bundle::verify::check_keyed(b, digest, key, required) {
            Ok(payload) => return Ok(payload),
            Err(why) => {
                let better = best.as_deref().is_none_or(|was| {
                    cosign::is_key_mismatch(was) && !cosign::is_key_mismatch(&why)
                });
                if better {
                    best = Some(why);
                }
            }
        }
    }
    Err(best.unwrap_or_else(|| "no keys to verify with".to_owned()))
}

/// `verify -o json` over legacy and bundle verdicts alike: each verified signature as cosign
/// prints it (v2's payload for a `.sig` layer, v3's statement form for a bundle, with
/// `reference` as given on the command line, as cosign v3 does).
pub fn verify_json_all(verdicts: &[Verdict], signatures: &Signatures, reference: &str) -> String {
    let legacy = signatures.legacy.len();
    let parts: Vec<String> = verdicts
        .iter()
        .filter_map(|v| {
            let payload = v.result.as_ref().ok()?;
            if v.layer <= legacy {
                let one = cosign::verify_json(std::slice::from_ref(v), &signatures.legacy);
                Some(one[1..one.len() - 1].to_owned())
            } else {
                Some(cosign::bundle_payload_json(
                    reference,
                    payload,
                    SIGN_PREDICATE_TYPE,
                ))
            }
        })
        .collect();
    format!("[{}]", parts.join(","))
}

/// What `sign_bundle` did.
#[derive(Debug, Clone, PartialEq)]
pub struct BundleSigned {
    /// The referrer manifest holding the bundle.
    pub referrer: Digest,
    /// False when an equal signature was already there, so nothing was written.
    pub added: bool,
}

/// Signs `digest` with a keyed bundle, as `cosign sign --key` (v3) does without a log.
/// Writes nothing when a bundle with the same statement already verifies with this key
/// (made by kbundle or by cosign), so signing again does not pile up referrers.
pub async fn sign_bundle(
    store: &Store,
    digest: &Digest,
    key: &PrivateKey,
    optional: &BTreeMap<String, String>,
) -> Result<BundleSigned, SignError> {
    let statement = statement::for_image(digest, optional);
    let public = key.public_key();
    let existing = bundle_signatures(store, digest).await?;
    let already = existing.iter().find(|s| {
        s.bundle.as_ref().is_ok_and(|b| {
            b.payload == statement
                && bundle::verify::check_keyed(b, digest, &public, &BTreeMap::new()).is_ok()
        })
    });
    if let Some(s) = already {
        return Ok(BundleSigned {
            referrer: s.referrer.clone(),
            added: false,
        });
    }
    let referrer = write_bundle(store, digest, &bundle::keyed(statement, key)).await?;
    Ok(BundleSigned {
        referrer,
        added: true,
    })
}

/// Stores a bundle as a referrer of `digest`: the empty config and the bundle blob, the
/// referrer manifest by digest (untagged), then the referrers list. Returns the referrer's
/// digest.
pub async fn write_bundle(
    store: &Store,
    digest: &Digest,
    bundle_bytes: &[u8],
) -> Result<Digest, SignError> {
    let subject = subject(store, digest).await?;
    let manifest = referrer::manifest(&subject, bundle_bytes, &now_rfc3339());
    let described = Referrer::describe(&manifest).map_err(|message| OciError::Content {
        image: digest.to_string(),
        message,
    })?;
    let mut attempt = 1;
    loop {
        let stored = async {
            for blob in [referrer::EMPTY_CONFIG, bundle_bytes] {
                let d = Digest::of(blob);
                if !store.has_blob(&d).await? {
                    store.put_blob(&d, blob).await?;
                }
            }
            store
                .put_referrer_manifest(&manifest, MANIFEST_MEDIA_TYPE)
                .await
        }
        .await;
        match stored {
            Ok(_) => break,
            Err(e) if attempt < 4 && super::concurrent_upload_race(&e) => {
                tracing::info!(
                    "{digest}: the registry lost a blob to a concurrent upload; writing the bundle again"
                );
                tokio::time::sleep(std::time::Duration::from_millis(50 << attempt)).await;
                attempt += 1;
            }
            Err(e) => return Err(e.into()),
        }
    }
    store
        .add_referrers(digest, std::slice::from_ref(&described))
        .await?;
    Ok(described.digest)
}

/// The image's descriptor, for the referrer's `subject`.
async fn subject(store: &Store, digest: &Digest) -> Result<referrer::Subject, SignError> {
    let manifest = store
        .manifest_by_digest(digest, MAX_SUBJECT_MANIFEST)
        .await?;
    let media_type = serde_json::from_slice::<serde_json::Value>(&manifest)
        .ok()
        .and_then(|v| v.get("mediaType")?.as_str().map(str::to_owned))
        .unwrap_or_else(|| MANIFEST_MEDIA_TYPE.to_owned());
    Ok(referrer::Subject {
        media_type,
        digest: digest.clone(),
        size: manifest.len() as u64,
    })
}

fn now_rfc3339() -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    chrono::DateTime::from_timestamp(secs, 0)
        .map(|t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string())
        .unwrap_or_default()
}
