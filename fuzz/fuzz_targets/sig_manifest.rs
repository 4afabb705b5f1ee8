//! The `.sig` manifest (`signing::cosign::read_signature_manifest`), which `verify`, `promote`
//! and the webhook read from a registry before fetching any payload.
//!
//! Invariants: no panic; the layers read write back (`signature_manifest`) to a manifest that
//! reads the same annotations; checking them against a key and rendering `verify -o json`
//! (which echoes the layers' Rekor bundle annotation) never panics and gives JSON.
#![no_main]

use std::collections::BTreeMap;
use std::sync::OnceLock;

use kbundle::bundle::Digest;
use kbundle::signing::cosign::{
    SignatureLayer, Verdict, parse_payload, read_signature_manifest, signature_manifest, verify,
    verify_json,
};
use kbundle::signing::examine::{Limits, Listing};
use kbundle::signing::keys::PublicKey;
use libfuzzer_sys::fuzz_target;

/// A payload and key made by the real cosign (tests/fixtures/cosign/signed-images).
const KEY: &str = include_str!("../../tests/fixtures/cosign/signed-images/cosign.pub");
const PAYLOAD: &[u8] = br#"{"critical":{"identity":{"docker-reference":"192.168.64.2:5000/cosign-signed-single-sample"},"image":{"docker-manifest-digest":"sha256:634a8f35b5f16dcf4aaa0822adc0b1964bb786fca12f6831de8ddc45e5986a00"},"type":"cosign container image signature"},"optional":null}"#;

fuzz_target!(|data: &[u8]| {
    // The bounds `verify` and the webhook put on what they fetch, under a few limits.
    if let Ok(listing) = Listing::read("sha256-00.sig".into(), data) {
        for limits in [
            Limits::default(),
            Limits::with_layers(1),
            Limits {
                layers: 3,
                payload: 100,
                payloads: 250,
            },
        ] {
            check_plan(&listing, &limits);
        }
    }
    let Ok(refs) = read_signature_manifest(data) else {
        return;
    };
    static KEY_AND_IMAGE: OnceLock<(PublicKey, Digest)> = OnceLock::new();
    let (key, image) = KEY_AND_IMAGE.get_or_init(|| {
        let payload = parse_payload(PAYLOAD).expect("the fixture payload");
        (
            PublicKey::from_pem(KEY).expect("the fixture key"),
            payload.digest.parse().expect("the fixture digest"),
        )
    });

    let layers: Vec<SignatureLayer> = refs
        .iter()
        .map(|r| SignatureLayer {
            payload: PAYLOAD.to_vec(),
            annotations: r.annotations.clone(),
        })
        .collect();
    let (config, manifest) = signature_manifest(&layers);
    assert!(
        serde_json::from_slice::<serde_json::Value>(&config).is_ok(),
        "config is not JSON"
    );
    let again = read_signature_manifest(&manifest).expect("our own .sig manifest reads back");
    assert_eq!(again.len(), refs.len());
    for (a, r) in again.iter().zip(&refs) {
        assert_eq!(
            a.annotations, r.annotations,
            "annotations lost in the round trip"
        );
        assert_eq!(a.digest, Digest::of(PAYLOAD));
        assert_eq!(a.size, PAYLOAD.len() as u64);
    }

    let verdicts = verify(&layers, image, key, &BTreeMap::new());
    assert_eq!(verdicts.len(), layers.len());
    // What `verify -o json` prints if every layer had verified: the unchecked bundle
    // annotation goes through it too.
    let all_ok: Vec<Verdict> = (1..=layers.len())
        .map(|layer| Verdict {
            layer,
            result: parse_payload(PAYLOAD).map_err(|e| e.to_string()),
            signer: None,
        })
        .collect();
    for verdicts in [verdicts, all_ok] {
        let json = verify_json(&verdicts, &layers);
        let parsed = serde_json::from_str::<serde_json::Value>(&json);
        assert!(parsed.is_ok(), "verify -o json is not JSON: {json}");
    }
});

/// A plan fetches no more layers, and no larger ones, than the limits allow, and accounts for
/// every layer it examined exactly once.
fn check_plan(listing: &Listing, limits: &Limits) {
    let plan = listing.plan(limits);
    assert!(plan.examined <= limits.layers.min(listing.layers.len()));
    let mut total = 0u64;
    for &i in &plan.fetch {
        assert!(i < plan.examined, "fetches layer {i} past the {} examined", plan.examined);
        let size = listing.layers[i].size;
        assert!(size <= limits.payload, "fetches a {size}-byte payload");
        total += size;
        assert!(!plan.refused.contains_key(&(i + 1)), "layer {i} both fetched and refused");
    }
    assert!(total <= limits.payloads, "fetches {total} bytes, over the budget");
    assert_eq!(plan.fetch.len() + plan.refused.len(), plan.examined, "{plan:?}");
    if plan.examined < listing.layers.len() {
        assert!(plan.stopped.is_some(), "stopped early without saying why");
    }
}
