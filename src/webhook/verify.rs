//! The decision for an image Config Sync is about to sync: its cosign signatures checked
//! exactly as `kbundle verify` checks them (`signing::signatures` + `signing::judge`), with
//! verified digests cached and the registry's silence told apart from a bad signature.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use oci_client::{Reference, RegistryOperation};
use tokio::sync::Semaphore;

use super::admission::{Decision, PinnedImage, Reason};
use super::cache::VerifiedCache;
use crate::oci::referrers::Referrer;
use crate::oci::{Connect, ImageRef, OciError, Store};
use crate::signing::cosign::{self, Verdict};
use crate::signing::examine::{self, Limits};
use crate::signing::{self, SignError, Signatures, Trust};

/// How to reach the registry of a reference: credentials looked up per registry host. It may
/// block (a metadata server round trip, a docker credential helper), so it runs off the
/// async workers.
pub type ConnectFn = dyn Fn(&Reference) -> Result<Connect, String> + Send + Sync;

/// What signatures must satisfy, and how to fetch them.
pub struct Policy {
    /// Cosign public keys, or a keyless (Fulcio certificate) policy.
    pub trust: Arc<Trust>,
    /// Annotations every accepted signature's payload must carry (`--annotation`).
    pub required: Arc<BTreeMap<String, String>>,
    pub connect: Arc<ConnectFn>,
    /// Allow, with a warning, when the registry cannot be asked.
    pub fail_open: bool,
    /// The longest a check may take: below the API server's webhook timeout, so the message
    /// is ours and not a generic timeout. Only the registry's silence until then is
    /// "unreachable"; slowness after it answered is a denial.
    pub timeout: Duration,
    /// How much of a `.sig` is examined.
    pub limits: Limits,
    /// Checks that talk to registries at once (`--max-checks`); the others wait for a turn.
    pub max_checks: usize,
}

pub struct Verifier {
    policy: Policy,
    cache: VerifiedCache,
    stores: Stores,
    checks: Semaphore,
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

/// What a check came to. Only `Unreachable` may be let through by `--fail-open`: it means the
/// registry never told us which signatures exist. Once it has (the `.sig` manifest arrived, or
/// its absence), everything that follows is a judgement of what it sent, even when that is
/// too much, too slow or broken, because that is what whoever pushed the `.sig` controls.
#[derive(Debug, PartialEq, Eq)]
enum Checked {
    /// Login, credentials or the `.sig` lookup failed or did not finish within `--timeout`.
    Unreachable(String),
    /// The signatures were judged: what held, or why none did.
    Judged(Result<String, String>),
    /// Too many checks were already running for this one to start within half of
    /// `--timeout`: our overload, not the registry's silence.
    Busy,
}

impl Verifier {
    pub fn new(policy: Policy, cache: VerifiedCache) -> Verifier {
        let checks = Semaphore::new(policy.max_checks.max(1));
        Verifier {
            policy,
            cache,
            stores: Stores::default(),
            checks,
        }
    }

    pub async fn decide(&self, image: &PinnedImage) -> Decision {
        let name = image.name();
        if self.cache.contains(&name) {
            return Decision::allow(Reason::Cached, format!("{name}: signature verified"));
        }
        let deadline = tokio::time::Instant::now() + self.policy.timeout;
        let checked = self.check(image, deadline).await;
        match checked {
            Checked::Judged(Ok(good)) => {
                self.cache.insert(name.clone());
                tracing::info!(image = %image.annotation, "verified: {good}");
                Decision::allow(Reason::Verified, format!("{name}: {good}"))
            }
            Checked::Judged(Err(why)) => {
                let message = format!(
                    "image {} (digest {}) is not signed by a trusted key: {why}",
                    image.annotation, image.digest
                );
                tracing::warn!(image = %image.annotation, "denied: {why}");
                Decision::deny(Reason::Unsigned, message)
            }
            Checked::Busy => {
                let message = format!(
                    "image {} (digest {}): not checked: {} signature checks (--max-checks) were \
                     still running after {}s; the API server will ask again",
                    image.annotation,
                    image.digest,
                    self.policy.max_checks,
                    self.policy.timeout.as_secs_f64() / 2.0
                );
                tracing::warn!(image = %image.annotation, "denied, too many checks running");
                Decision::deny(Reason::Busy, message)
            }
            Checked::Unreachable(why) if self.policy.fail_open => {
                let message = format!(
                    "image {} (digest {}) allowed unverified (--fail-open): cannot check its signatures: {why}",
                    image.annotation, image.digest
                );
                tracing::warn!(image = %image.annotation, "allowed unverified (--fail-open): {why}");
                Decision::allow(Reason::FailOpen, message.clone()).with_warning(message)
            }
            Checked::Unreachable(why) => {
                let message = format!(
                    "image {} (digest {}): cannot check its signatures, so it is refused: {why}",
                    image.annotation, image.digest
                );
                tracing::warn!(image = %image.annotation, "denied, registry unreachable: {why}");
                Decision::deny(Reason::Unreachable, message)
            }
        }
    }

    /// Asks the registry, then judges, all before `deadline`; at most `--max-checks` at once,
    /// so that concurrent hostile reviews hold a fixed amount of memory between them.
    ///
    /// A review waits at most half of `--timeout` for its turn, so the registry always gets
    /// the other half: otherwise a flood of reviews could make a queued one's registry look
    /// silent, and `--fail-open` let an unsigned image through.
    async fn check(&self, image: &PinnedImage, deadline: tokio::time::Instant) -> Checked {
        let turn = deadline - self.policy.timeout / 2;
        let Ok(Ok(_permit)) = tokio::time::timeout_at(turn, self.checks.acquire()).await else {
            return Checked::Busy;
        };
        let timeout = self.policy.timeout.as_secs_f64();
        let (store, listing, referrers) =
            match tokio::time::timeout_at(deadline, self.list(image)).await {
                Err(_) => {
                    return Checked::Unreachable(format!(
                        "the registry did not answer within {timeout}s"
                    ));
                }
                Ok(Err(e)) => return e,
                Ok(Ok(listed)) => listed,
            };
        let listed = listing.as_ref().map_or(0, |l| l.layers.len());
        // From here on the registry has answered: only what it sent is left to judge.
        let limits = self.policy.limits;
        let read = async {
            let examined = match listing {
                Some(listing) => examine::fetch(&store, listing, &limits).await?,
                None => examine::Examined::default(),
            };
            let bundles = signing::read_bundles(&store, &image.digest, referrers).await?;
            Ok::<_, SignError>(Signatures::new(examined, bundles))
        };
        let signatures = match tokio::time::timeout_at(deadline, read).await {
            Err(_) => {
                return Checked::Judged(Err(format!(
                    "the registry listed {listed} signature layer(s) and the referrers, but the \
                     signatures did not arrive within --timeout {timeout}s"
                )));
            }
            Ok(Err(e)) => {
                self.stores.forget(&image.reference);
                return Checked::Judged(Err(format!("cannot read the signatures: {e}")));
            }
            Ok(Ok(signatures)) => signatures,
        };
        if signatures.is_empty() {
            return Checked::Judged(Err(format!(
                "no signatures (looked for tag {} and sigstore bundles among the referrers); sign it with `kbundle sign` or `cosign sign`",
                cosign::signature_tag(&image.digest)
            )));
        }
        let trust = self.policy.trust.clone();
        let required = self.policy.required.clone();
        let digest = image.digest.clone();
        let judged = tokio::task::spawn_blocking(move || {
            let verdicts = trust.judge_all(&signatures, &digest, &required);
            summary(&verdicts, signatures.note)
        });
        match tokio::time::timeout_at(deadline, judged).await {
            Ok(Ok(judged)) => Checked::Judged(judged),
            Ok(Err(e)) => Checked::Judged(Err(format!("the signature check failed: {e}"))),
            Err(_) => Checked::Judged(Err(format!(
                "checking {listed} signature layer(s) took longer than --timeout {timeout}s"
            ))),
        }
    }

    /// The `.sig` manifest and the referrers: the questions whose silence means "unreachable".
    async fn list(&self, image: &PinnedImage) -> Result<Listed, Checked> {
        let store = self
            .store(&image.reference)
            .await
            .map_err(Checked::Unreachable)?;
        let listed = async {
            let listing = examine::list(&store, &image.digest).await?;
            let referrers = store.referrers(&image.digest).await?;
            Ok::<_, SignError>((listing, referrers))
        };
        match listed.await {
            Ok((listing, referrers)) => Ok((store, listing, referrers)),
            Err(SignError::Store(OciError::Remote { message, .. })) => {
                // The next review starts afresh: new connection, new credentials.
                self.stores.forget(&image.reference);
                Err(Checked::Unreachable(message))
            }
            // A manifest that is corrupt, too large or not cosign's: judged, not a network failure.
            Err(e) => Err(Checked::Judged(Err(e.to_string()))),
        }
    }
}

/// What the registry listed: a logged-in client, the `.sig` manifest (if any) and the
/// referrers of the image.
type Listed = (Arc<Store>, Option<examine::Listing>, Vec<Referrer>);

impl Verifier {
    /// A logged-in client for the image's repository, reused or made anew.
    async fn store(&self, reference: &Reference) -> Result<Arc<Store>, String> {
        let repository = repository(reference);
        if let Some(store) = self.stores.get(&repository) {
            return Ok(store);
        }
        let connect = self.policy.connect.clone();
        let owned = reference.clone();
        let credentials = tokio::task::spawn_blocking(move || connect(&owned))
            .await
            .map_err(|e| format!("credential lookup failed: {e}"))??;
        let store = Store::for_pull(&ImageRef::Registry(reference.clone()), credentials)
            .map_err(|e| e.to_string())?;
        store
            .login(RegistryOperation::Pull)
            .await
            .map_err(|e| e.to_string())?;
        let store = Arc::new(store);
        self.stores.put(repository, store.clone());
        Ok(store)
    }
}

fn repository(reference: &Reference) -> String {
    format!("{}/{}", reference.registry(), reference.repository())
}

/// What held, or every reason none did, with how much of a larger `.sig` was examined.
fn summary(verdicts: &[Verdict], note: Option<String>) -> Result<String, String> {
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
    let mut why = reasons.join("; ");
    if let Some(note) = note {
        why = format!("{note}: {why}");
    }
    Err(why)
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
        let good = summary(&[verdict(1, Err("bad")), verdict(2, Ok(()))], None);
        assert_eq!(good, Ok("signature 2 of 2 verified".to_owned()));
        let bad = summary(&[verdict(1, Err("one")), verdict(2, Err("two"))], None);
        assert_eq!(bad, Err("signature 1: one; signature 2: two".to_owned()));
        let capped = summary(
            &[verdict(1, Err("one"))],
            Some("checked the first 1 of 9".into()),
        );
        assert_eq!(
            capped,
            Err("checked the first 1 of 9: signature 1: one".to_owned())
        );
    }

    #[test]
    fn the_repository_names_the_registry_and_drops_tag_and_digest() {
        let image = PinnedImage::parse(&format!("r.example:5000/a/b:v1@sha256:{}", "e".repeat(64)))
            .expect("parses");
        assert_eq!(repository(&image.reference), "r.example:5000/a/b");
    }
}
