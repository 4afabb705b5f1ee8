//! Adapter: cosign-compatible signatures on image digests, stored the way cosign stores them
//! (`sha256-<hex>.sig` in the image's repository), in a registry or an OCI layout.

pub mod bundle;
pub mod bundles;
pub mod cosign;
pub mod examine;
pub mod keyless;
pub mod keys;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use crate::bundle::{Digest, MANIFEST_MEDIA_TYPE};
use crate::oci::{OciError, Store};
use cosign::{CosignError, SignatureLayer, Verdict};
use keys::{PrivateKey, PublicKey};

pub use bundles::{
    BundleSigned, Signatures, StoredBundle, all_signatures, read_bundles, sign_bundle,
    verify_json_all,
};

#[derive(Debug, thiserror::Error)]
pub enum SignError {
    #[error(transparent)]
    Store(#[from] OciError),
    #[error("{tag}: {source}")]
    Format { tag: String, source: CosignError },
}

/// Every signature stored for a digest, each with its payload; none when there is no `.sig`.
/// For appending (`sign`), which must keep them all; verification reads a bounded part
/// instead ([`examine::examine`]). A `.sig` no cosign would read (past cosign's layer limit,
/// a payload over [`examine::MAX_PAYLOAD`]) is refused rather than fetched.
pub async fn signatures(store: &Store, digest: &Digest) -> Result<Vec<SignatureLayer>, SignError> {
    let Some(listing) = examine::list(store, digest).await? else {
        return Ok(Vec::new());
    };
    let tag = cosign::signature_tag(digest);
    let refuse = |why: String| SignError::Format {
        tag: tag.clone(),
        source: CosignError::Manifest(format!(
            "{why}; cosign would not read it either: delete the tag and sign again"
        )),
    };
    let listed = listing.layers.len();
    if listed > examine::COSIGN_MAX_LAYERS {
        return Err(refuse(format!(
            "{listed} layers, over cosign's limit of {}",
            examine::COSIGN_MAX_LAYERS
        )));
    }
    if let Some((i, big)) = listing
        .layers
        .iter()
        .enumerate()
        .find(|(_, l)| l.size > examine::MAX_PAYLOAD)
    {
        return Err(refuse(format!(
            "layer {} declares a {}-byte payload, over the 1 MiB limit",
            i + 1,
            big.size
        )));
    }
    let limits = examine::Limits {
        layers: listed,
        payload: examine::MAX_PAYLOAD,
        payloads: u64::MAX,
    };
    Ok(examine::fetch(store, listing, &limits).await?.layers)
}

/// Signs `digest` with `key`, keeping every signature already there. Returns false when an
/// equal signature (same key, same payload) exists, so nothing was written.
///
/// The registry has no compare-and-swap on tags, so a concurrent signer can overwrite the
/// `.sig` with a copy lacking this signature; `append_settled` reads back and appends again.
pub async fn sign(
    store: &Store,
    digest: &Digest,
    docker_reference: &str,
    key: &PrivateKey,
    optional: &BTreeMap<String, String>,
) -> Result<bool, SignError> {
    let payload = cosign::payload(docker_reference, digest, optional);
    let signature = key.sign(&payload);
    let layer = SignatureLayer::new(payload, &signature);
    let public = key.public_key();
    append_settled(store, digest, layer, |layers, layer| {
        cosign::append(layers, layer, &public)
    })
    .await
}

/// Attempts at appending a layer before giving up on concurrent writers.
const APPEND_ATTEMPTS: u32 = 8;

/// Appends `layer` with `append` (false: an equal one is there), writes the `.sig`, and reads
/// it back at once and again after a pause as long as the update took (a writer that read
/// before our write lands its stale copy within about that time). Appends again whenever the
/// layer is gone. Returns whether anything was written.
async fn append_settled(
    store: &Store,
    digest: &Digest,
    layer: SignatureLayer,
    append: impl Fn(&mut Vec<SignatureLayer>, SignatureLayer) -> bool,
) -> Result<bool, SignError> {
    // Present: an equal signature is there, whoever wrote it.
    let present = |layers: Vec<SignatureLayer>| !append(&mut layers.clone(), layer.clone());
    let mut wait = Duration::from_millis(20);
    let mut wrote = false;
    for attempt in 1..=APPEND_ATTEMPTS {
        let started = Instant::now();
        let mut layers = signatures(store, digest).await?;
        if append(&mut layers, layer.clone()) {
            // Read again just before writing: a change since the first read is merged first.
            let fresh = signatures(store, digest).await?;
            if fresh.len() + 1 != layers.len() || !layers.starts_with(&fresh) {
                continue;
            }
            match write_signatures(store, digest, &layers).await {
                Ok(()) => wrote = true,
                // distribution 2.8 can briefly call a blob another signer is uploading at the
                // same moment unknown or invalid; the next attempt reads and writes again.
                Err(e) if attempt < APPEND_ATTEMPTS && concurrent_upload_race(&e) => {
                    tracing::info!(
                        "{}: the registry lost a blob to a concurrent upload; writing again (attempt {attempt})",
                        cosign::signature_tag(digest)
                    );
                    store.settle(started.elapsed(), wait).await;
                    wait *= 2;
                    continue;
                }
                Err(e) => return Err(e),
            }
        } else if !wrote {
            return Ok(false);
        }
        let took = started.elapsed();
        if present(signatures(store, digest).await?) {
            store.settle(took, wait).await;
            if present(signatures(store, digest).await?) {
                return Ok(true);
            }
        }
        tracing::info!(
            "{}: a concurrent signer dropped this signature; appending again (attempt {attempt})",
            cosign::signature_tag(digest)
        );
        wait *= 2;
    }
    Err(SignError::Store(OciError::Content {
        image: cosign::signature_tag(digest),
        message: format!(
            "concurrent signers kept overwriting the signatures after {APPEND_ATTEMPTS} attempts; sign again"
        ),
    }))
}

/// Whether a failed write is the registry's answer to two uploads of one blob racing
/// (`MANIFEST_BLOB_UNKNOWN` or `DIGEST_INVALID` on the manifest), which a retry resolves.
fn concurrent_upload_race(e: &dyn std::fmt::Display) -> bool {
    let text = e.to_string();
    text.contains("MANIFEST_BLOB_UNKNOWN") || text.contains("DIGEST_INVALID")
}

/// Stores a `.sig` image: its config, one payload blob per signature, then the manifest.
pub async fn write_signatures(
    store: &Store,
    digest: &Digest,
    layers: &[SignatureLayer],
) -> Result<(), SignError> {
    let (config, manifest) = cosign::signature_manifest(layers);
    store.put_blob(&Digest::of(&config), &config).await?;
    for layer in layers {
        let d = Digest::of(&layer.payload);
        if !store.has_blob(&d).await? {
            store.put_blob(&d, &layer.payload).await?;
        }
    }
    let tag = cosign::signature_tag(digest);
    store
        .put_manifest(&manifest, MANIFEST_MEDIA_TYPE, Some(&tag))
        .await?;
    Ok(())
}

/// Verifies the signatures of `digest` with any of `keys`: one verdict per signature layer,
/// the first key that accepts it wins. When none does, the reason kept is that of a key that
/// made the signature (say, a required annotation is missing) over "does not match key".
pub fn judge(
    layers: &[SignatureLayer],
    digest: &Digest,
    keys: &[PublicKey],
    required: &BTreeMap<String, String>,
) -> Vec<Verdict> {
    let mut best: Vec<Verdict> = Vec::new();
    for key in keys {
        let verdicts = cosign::verify(layers, digest, key, required);
        if best.is_empty() {
            best = verdicts;
            continue;
        }
        for (b, v) in best.iter_mut().zip(verdicts) {
            let better = match (&b.result, &v.result) {
                (Err(_), Ok(_)) => true,
                (Err(was), Err(now)) => {
                    cosign::is_key_mismatch(was) && !cosign::is_key_mismatch(now)
                }
                _ => false,
            };
            if better {
                *b = v;
            }
        }
    }
    best
}

/// Appends a keyless signature layer to the signatures of `digest`. Each keyless signature has
/// its own certificate, so there is nothing to deduplicate.
pub async fn add_layer(
    store: &Store,
    digest: &Digest,
    layer: SignatureLayer,
) -> Result<(), SignError> {
    append_settled(store, digest, layer, |layers, layer| {
        if layers.contains(&layer) {
            return false;
        }
        layers.push(layer);
        true
    })
    .await
    .map(|_| ())
}

/// Verifies the signatures of `digest` keylessly against `policy`: one verdict per layer.
/// A verified payload gets the certificate's `Subject`, `Issuer` and GitHub workflow fields in
/// `optional`, as `cosign verify` prints them.
/// What signatures are checked against: cosign keys, or a keyless policy.
pub enum Trust {
    Keys(Vec<PublicKey>),
    Keyless(Box<keyless::verify::Policy>),
}

impl Trust {
    /// One verdict per signature layer, as `kbundle verify` prints them.
    pub fn judge(
        &self,
        layers: &[SignatureLayer],
        digest: &Digest,
        required: &BTreeMap<String, String>,
    ) -> Vec<Verdict> {
        match self {
            Trust::Keys(keys) => judge(layers, digest, keys, required),
            Trust::Keyless(policy) => judge_keyless(layers, digest, policy, required),
        }
    }
}

pub fn judge_keyless(
    layers: &[SignatureLayer],
    digest: &Digest,
    policy: &keyless::verify::Policy,
    required: &BTreeMap<String, String>,
) -> Vec<Verdict> {
    layers
        .iter()
        .enumerate()
        .map(|(i, layer)| {
            let checked = keyless::verify::check(layer, digest, policy, required);
            let signer = checked
                .as_ref()
                .ok()
                .map(|(_, s)| format!("{} (issuer {})", s.subject, s.issuer));
            Verdict {
                layer: i + 1,
                result: checked.map(|(mut payload, signer)| {
                    let optional = &mut payload.optional;
                    optional.insert("Subject".into(), signer.subject.into());
                    optional.insert("Issuer".into(), signer.issuer.into());
                    for (name, value) in signer.github_workflow {
                        optional.insert(name.into(), value.into());
                    }
                    payload
                }),
                signer,
            }
        })
        .collect()
}
