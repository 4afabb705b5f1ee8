//! What verification reads of a `.sig` image, within fixed bounds, so that a hostile `.sig`
//! (thousands of layers, layers claiming hundreds of megabytes) costs a bounded amount of
//! memory, requests and time.
//!
//! Two steps, because the webhook tells them apart: [`list`] asks the registry which
//! signatures exist (the `.sig` manifest); [`fetch`] reads the payloads that list names, as far
//! as the [`Limits`] allow. Oversized layers are refused by the size their descriptor declares,
//! before any byte of them is fetched.

use std::collections::BTreeMap;

use futures_util::{StreamExt as _, TryStreamExt as _};

use super::SignError;
use super::cosign::{self, CosignError, LayerRef, SignatureLayer};
use crate::bundle::Digest;
use crate::oci::{BlobRef, Store};

/// The largest `.sig` manifest read: the CNCF distribution registry refuses to store a larger
/// manifest (its `maxManifestBodySize`), and 4 MiB holds about 500 keyless layers (certificate,
/// chain and Rekor bundle, ~8 KiB each) or 20,000 key-signed ones.
pub const MAX_MANIFEST: usize = 4 << 20;
/// The largest simple-signing payload fetched. cosign writes about 250 bytes plus the
/// `--annotation` pairs; 1 MiB is four thousand times that.
pub const MAX_PAYLOAD: u64 = 1 << 20;
/// The most payload bytes one verification holds: 128 layers of 32 KiB each.
pub const MAX_PAYLOADS: u64 = 4 << 20;
/// Signature layers checked by default (`--max-signatures`). One key or one keyless signing
/// adds one layer; a release flow has a handful. cosign refuses a `.sig` past 1,000.
pub const DEFAULT_MAX_LAYERS: usize = 128;
/// cosign's own limit (`maxLayers` in pkg/oci/remote): `sign` refuses to append past it.
pub const COSIGN_MAX_LAYERS: usize = 1000;
/// Payloads requested at once: a remote registry's latency, not its bandwidth, is the cost.
const AT_ONCE: usize = 8;

/// How much of a `.sig` a verification examines.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Layers examined, from the first.
    pub layers: usize,
    /// Bytes one payload may declare.
    pub payload: u64,
    /// Bytes all examined payloads may declare together.
    pub payloads: u64,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits::with_layers(DEFAULT_MAX_LAYERS)
    }
}

impl Limits {
    pub fn with_layers(layers: usize) -> Limits {
        Limits {
            layers,
            payload: MAX_PAYLOAD,
            payloads: MAX_PAYLOADS,
        }
    }
}

/// The `.sig` manifest of a digest, read and parsed, nothing fetched yet.
#[derive(Debug)]
pub struct Listing {
    tag: String,
    pub layers: Vec<LayerRef>,
}

/// Reads the `.sig` manifest of `digest`; `None` when there is none.
pub async fn list(store: &Store, digest: &Digest) -> Result<Option<Listing>, SignError> {
    let tag = cosign::signature_tag(digest);
    let Some((_, manifest)) = store.manifest_at(&tag).await? else {
        return Ok(None);
    };
    Listing::read(tag, &manifest).map(Some)
}

/// What [`fetch`] will do with each layer of a listing: pure, so the bounds are tested
/// without a registry.
#[derive(Debug, PartialEq, Eq)]
pub struct Plan {
    /// Positions (0-based) of the layers to fetch.
    pub fetch: Vec<usize>,
    /// Layers examined but refused by their declared size, by 1-based position.
    pub refused: BTreeMap<usize, String>,
    /// How many layers, from the first, are examined.
    pub examined: usize,
    /// Why examination stopped before the last layer.
    pub stopped: Option<String>,
}

impl Listing {
    /// Parses the `.sig` manifest stored under `tag`, refused past [`MAX_MANIFEST`].
    pub fn read(tag: String, manifest: &[u8]) -> Result<Listing, SignError> {
        let format = |source| SignError::Format {
            tag: tag.clone(),
            source,
        };
        // oci-client has read it already; refusing here still keeps the parse (and a registry
        // that ignores its own limit) from costing more.
        if manifest.len() > MAX_MANIFEST {
            return Err(format(CosignError::Manifest(format!(
                "{} bytes, over the {} limit for a signature manifest",
                manifest.len(),
                mib(MAX_MANIFEST as u64)
            ))));
        }
        let layers = cosign::read_signature_manifest(manifest).map_err(format)?;
        Ok(Listing { tag, layers })
    }

    pub fn plan(&self, limits: &Limits) -> Plan {
        let mut plan = Plan {
            fetch: Vec::new(),
            refused: BTreeMap::new(),
            examined: 0,
            stopped: None,
        };
        let mut budget = limits.payloads;
        for (i, layer) in self.layers.iter().enumerate() {
            if i == limits.layers {
                plan.stopped = Some(format!(
                    "--max-signatures is {}; raise it to check more",
                    limits.layers
                ));
                break;
            }
            if layer.size > limits.payload {
                plan.refused.insert(
                    i + 1,
                    format!(
                        "payload declared as {} bytes, over the {} limit for a signature payload; not fetched",
                        layer.size,
                        mib(limits.payload)
                    ),
                );
            } else if layer.size > budget {
                plan.stopped = Some(format!(
                    "their payloads reached the {} limit for one verification",
                    mib(limits.payloads)
                ));
                break;
            } else {
                budget -= layer.size;
                plan.fetch.push(i);
            }
            plan.examined = i + 1;
        }
        plan
    }
}

/// The examined `.sig` layers of a digest.
#[derive(Debug, Default)]
pub struct Examined {
    /// The first `layers.len()` layers of the `.sig`, layer `i` at position `i + 1`. A refused
    /// layer is a placeholder without payload or annotations: its verdict is in `refused`.
    pub layers: Vec<SignatureLayer>,
    pub refused: BTreeMap<usize, String>,
    /// Layers the `.sig` manifest lists.
    pub listed: usize,
    /// Why the layers after `layers.len()` were not examined.
    pub stopped: Option<String>,
}

/// Fetches the payloads `listing` names within `limits`, at most a few at a time.
pub async fn fetch(
    store: &Store,
    listing: Listing,
    limits: &Limits,
) -> Result<Examined, SignError> {
    let plan = listing.plan(limits);
    let tag = &listing.tag;
    let payloads: Vec<(usize, Vec<u8>)> = futures_util::stream::iter(plan.fetch.iter().copied())
        .map(|i| {
            let blob = BlobRef {
                digest: listing.layers[i].digest.clone(),
                size: listing.layers[i].size,
            };
            // Bounded by the descriptor: a registry sending more is cut off.
            async move { Ok::<_, SignError>((i, store.read_blob(&blob, limits.payload).await?)) }
        })
        .buffered(AT_ONCE)
        .try_collect()
        .await?;
    let mut layers = vec![
        SignatureLayer {
            payload: Vec::new(),
            annotations: BTreeMap::new(),
        };
        plan.examined
    ];
    let listed = listing.layers.len();
    let mut refs: Vec<Option<LayerRef>> = listing.layers.into_iter().map(Some).collect();
    for (i, payload) in payloads {
        let Some(r) = refs[i].take() else { continue };
        if payload.len() as u64 != r.size {
            return Err(SignError::Format {
                tag: tag.clone(),
                source: CosignError::Manifest(format!(
                    "layer {}: payload blob is {} bytes but the manifest declares {}",
                    i + 1,
                    payload.len(),
                    r.size
                )),
            });
        }
        layers[i] = r.into_layer(payload).map_err(|source| SignError::Format {
            tag: tag.clone(),
            source,
        })?;
    }
    Ok(Examined {
        layers,
        refused: plan.refused,
        listed,
        stopped: plan.stopped,
    })
}

/// [`list`] then [`fetch`]: the `.sig` layers of `digest` within `limits`, none without one.
pub async fn examine(
    store: &Store,
    digest: &Digest,
    limits: &Limits,
) -> Result<Examined, SignError> {
    match list(store, digest).await? {
        Some(listing) => fetch(store, listing, limits).await,
        None => Ok(Examined::default()),
    }
}

impl Examined {
    /// "checked the first 128 of 10000 signature layers (…)" when not all were examined.
    pub fn note(&self) -> Option<String> {
        let why = self.stopped.as_ref()?;
        Some(format!(
            "checked the first {} of {} signature layers ({why})",
            self.layers.len(),
            self.listed
        ))
    }
}

fn mib(bytes: u64) -> String {
    format!("{} MiB", bytes >> 20)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn listing(sizes: &[u64]) -> Listing {
        Listing {
            tag: "sha256-00.sig".into(),
            layers: sizes
                .iter()
                .map(|&size| LayerRef {
                    digest: Digest::of(b"x"),
                    size,
                    annotations: BTreeMap::new(),
                })
                .collect(),
        }
    }

    #[test]
    fn layers_past_the_count_are_not_examined() {
        let plan = listing(&[300; 10_000]).plan(&Limits::with_layers(128));
        assert_eq!(plan.examined, 128);
        assert_eq!(plan.fetch.len(), 128);
        assert!(plan.stopped.unwrap().contains("--max-signatures is 128"));
    }

    #[test]
    fn an_oversized_layer_is_refused_by_its_descriptor_and_the_rest_still_count() {
        let plan = listing(&[300_000_000, 300, 300_000_000]).plan(&Limits::default());
        assert_eq!(plan.fetch, [1]);
        assert_eq!(plan.examined, 3);
        assert!(
            plan.refused[&1].contains("over the 1 MiB limit"),
            "{plan:?}"
        );
        assert!(plan.refused.contains_key(&3));
        assert_eq!(plan.stopped, None);
    }

    #[test]
    fn the_payload_budget_stops_examination() {
        let plan = listing(&[MAX_PAYLOAD; 6]).plan(&Limits::default());
        assert_eq!(plan.examined, 4);
        assert!(
            plan.stopped
                .unwrap()
                .contains("4 MiB limit for one verification")
        );
    }

    #[test]
    fn the_note_names_how_many_were_checked() {
        let sigs = Examined {
            layers: vec![
                SignatureLayer {
                    payload: Vec::new(),
                    annotations: BTreeMap::new()
                };
                128
            ],
            listed: 10_000,
            stopped: Some("--max-signatures is 128; raise it to check more".into()),
            ..Examined::default()
        };
        assert_eq!(
            sigs.note().unwrap(),
            "checked the first 128 of 10000 signature layers (--max-signatures is 128; raise it to check more)"
        );
    }
}
