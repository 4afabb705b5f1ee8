//! The decision for an image Config Sync is about to sync: its cosign signatures checked
//! exactly as `kbundle verify` checks them (`signing::signatures` + `signing::judge`), with
//! verified digests cached and the registry's silence told apart from a bad signature.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use oci_client::{Reference, RegistryOperation};

use super::admission::{Decision, PinnedImage, Reason};
use super::cache::VerifiedCache;
use crate::oci::{Connect, ImageRef, OciError, Store};
use crate::signing::cosign::{self, Verdict};
use crate::signing::{self, SignError, Trust};

/// How to reach the registry of a reference: credentials looked up per registry host. It may
/// block (a metadata server round trip, a docker credential helper), so it runs off the
/// async workers.
pub type ConnectFn = dyn Fn(&Reference) -> Result<Connect, String> + Send + Sync;

/// What signatures must satisfy, and how to fetch them.
pub struct Policy {
    /// Cosign public keys, or a keyless (Fulcio certificate) policy.
    pub trust: Trust,
    /// Annotations every accepted signature's payload must carry (`--annotation`).
    pub required: BTreeMap<String, String>,
    pub connect: Arc<ConnectFn>,
    /// Allow, with a warning, when the registry cannot be asked.
    pub fail_open: bool,
    /// The longest a check may take before the answer is "unreachable": below the API server's
    /// webhook timeout, so the message is ours and not a generic timeout.
    pub timeout: Duration,
}

pub struct Verifier {
    policy: Policy,
    cache: VerifiedCache,
    stores: Stores,
}

/// Logged-in registry clients by repository, reused for a few minutes: a new one costs a TLS
/// trust store, a handshake and a token exchange, several times the check itself. Kept only
/// minutes so that a re-mounted docker config is picked up; short-lived Google tokens are
/// refreshed by the store itself (`Connect::refresh`). A registry error drops the client.
#[derive(Default)]
struct Stores(Mutex<HashMap<String, (Instant, Arc<Store>)>>);

const STORE_REUSE: Duration = Duration::from_secs(240);
const STORES_KEPT: usize = 64;

impl Stores {
    fn get(&self, repository: &str) -> Option<Arc<Store>> {
        let stores = self.0.lock().unwrap_or_else(|e| e.into_inner());
        match stores.get(repository) {
            Some((made, store)) if made.elapsed() < STORE_REUSE => Some(store.clone()),
            _ => None,
        }
    }

    fn forget(&self, reference: &Reference) {
        let mut stores = self.0.lock().unwrap_or_else(|e| e.into_inner());
        stores.remove(&repository(reference));
    }

    fn put(&self, repository: String, store: Arc<Store>) {
        let mut stores = self.0.lock().unwrap_or_else(|e| e.into_inner());
        stores.retain(|_, (made, _)| made.elapsed() < STORE_REUSE);
        if stores.len() >= STORES_KEPT {
            stores.clear();
        }
        stores.insert(repository, (Instant::now(), store));
    }
}

/// Why signatures could not be judged: the registry did not answer usefully.
struct Unreachable(String);

impl Verifier {
    pub fn new(policy: Policy, cache: VerifiedCache) -> Verifier {
        Verifier {
            policy,
            cache,
            stores: Stores::default(),
        }
    }

    pub async fn decide(&self, image: &PinnedImage) -> Decision {
        let name = image.name();
        if self.cache.contains(&name) {
            return Decision::allow(Reason::Cached, format!("{name}: signature verified"));
        }
        let checked = tokio::time::timeout(self.policy.timeout, self.check(image))
            .await
            .unwrap_or_else(|_| {
                Err(Unreachable(format!(
                    "the registry did not answer within {}s",
                    self.policy.timeout.as_secs_f64()
                )))
            });
        match checked {
            Ok(Ok(good)) => {
                self.cache.insert(name.clone());
                tracing::info!(image = %image.annotation, "verified: {good}");
                Decision::allow(Reason::Verified, format!("{name}: {good}"))
            }
            Ok(Err(why)) => {
                let message = format!(
                    "image {} (digest {}) is not signed by a trusted key: {why}",
                    image.annotation, image.digest
                );
                tracing::warn!(image = %image.annotation, "denied: {why}");
                Decision::deny(Reason::Unsigned, message)
            }
            Err(Unreachable(why)) if self.policy.fail_open => {
                let message = format!(
                    "image {} (digest {}) allowed unverified (--fail-open): cannot check its signatures: {why}",
                    image.annotation, image.digest
                );
                tracing::warn!(image = %image.annotation, "allowed unverified (--fail-open): {why}");
                Decision::allow(Reason::FailOpen, message.clone()).with_warning(message)
            }
            Err(Unreachable(why)) => {
                let message = format!(
                    "image {} (digest {}): cannot check its signatures, so it is refused: {why}",
                    image.annotation, image.digest
                );
                tracing::warn!(image = %image.annotation, "denied, registry unreachable: {why}");
                Decision::deny(Reason::Unreachable, message)
            }
        }
    }

    /// Ok(Ok(what held)), Ok(Err(why none held)), or Err when the registry could not be asked.
    async fn check(&self, image: &PinnedImage) -> Result<Result<String, String>, Unreachable> {
        let store = self.store(&image.reference).await?;
        // Legacy `.sig` layers and cosign v3's bundles (referrers) count alike.
        let signatures = match signing::all_signatures(&store, &image.digest).await {
            Ok(signatures) => signatures,
            Err(SignError::Store(OciError::Remote { message, .. })) => {
                // The next review starts afresh: new connection, new credentials.
                self.stores.forget(&image.reference);
                return Err(Unreachable(message));
            }
            Err(SignError::Store(OciError::Content { message, .. })) => return Ok(Err(message)),
            // Corrupt or unreadable signature data was served: judged, not a network failure.
            Err(e) => return Ok(Err(e.to_string())),
        };
        if signatures.is_empty() {
            return Ok(Err(format!(
                "no signatures (looked for tag {} and sigstore bundles among the referrers); sign it with `kbundle sign` or `cosign sign`",
                cosign::signature_tag(&image.digest)
            )));
        }
        let verdicts =
            self.policy
                .trust
                .judge_all(&signatures, &image.digest, &self.policy.required);
        Ok(summary(&verdicts))
    }
}

impl Verifier {
    /// A logged-in client for the image's repository, reused or made anew.
    async fn store(&self, reference: &Reference) -> Result<Arc<Store>, Unreachable> {
        let repository = repository(reference);
        if let Some(store) = self.stores.get(&repository) {
            return Ok(store);
        }
        let connect = self.policy.connect.clone();
        let owned = reference.clone();
        let credentials = tokio::task::spawn_blocking(move || connect(&owned))
            .await
            .map_err(|e| Unreachable(format!("credential lookup failed: {e}")))?
            .map_err(Unreachable)?;
        let store = Store::for_pull(&ImageRef::Registry(reference.clone()), credentials)
            .map_err(|e| Unreachable(e.to_string()))?;
        store
            .login(RegistryOperation::Pull)
            .await
            .map_err(|e| Unreachable(e.to_string()))?;
        let store = Arc::new(store);
        self.stores.put(repository, store.clone());
        Ok(store)
    }
}

fn repository(reference: &Reference) -> String {
    format!("{}/{}", reference.registry(), reference.repository())
}

fn summary(verdicts: &[Verdict]) -> Result<String, String> {
    if let Some(good) = verdicts.iter().find(|v| v.result.is_ok()) {
        return Ok(format!(
            "signature {} of {} verified",
            good.layer,
            verdicts.len()
        ));
    }
    let reasons: Vec<String> = verdicts
        .iter()
        .filter_map(|v| {
            v.result
                .as_ref()
                .err()
                .map(|why| format!("signature {}: {why}", v.layer))
        })
        .collect();
    Err(reasons.join("; "))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn verdict(layer: usize, result: Result<(), &str>) -> Verdict {
        Verdict {
            layer,
            result: result
                .map(|()| cosign::Payload {
                    docker_reference: "r.example/root".into(),
                    digest: "sha256:00".into(),
                    optional: BTreeMap::new(),
                })
                .map_err(str::to_owned),
            signer: None,
        }
    }

    #[test]
    fn one_good_signature_is_enough_and_every_bad_one_is_named() {
        let good = summary(&[verdict(1, Err("bad")), verdict(2, Ok(()))]);
        assert_eq!(good, Ok("signature 2 of 2 verified".to_owned()));
        let bad = summary(&[verdict(1, Err("one")), verdict(2, Err("two"))]);
        assert_eq!(bad, Err("signature 1: one; signature 2: two".to_owned()));
    }

    #[test]
    fn the_repository_names_the_registry_and_drops_tag_and_digest() {
        let image = PinnedImage::parse(&format!("r.example:5000/a/b:v1@sha256:{}", "e".repeat(64)))
            .expect("parses");
        assert_eq!(repository(&image.reference), "r.example:5000/a/b");
    }
}
