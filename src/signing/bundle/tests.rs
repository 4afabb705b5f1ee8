use std::collections::BTreeMap;

use super::*;
use crate::bundle::Digest;

/// Made by the real `cosign sign --key` (v3.0.6, `--tlog-upload=false`) on a docker-registry.
const COSIGN3_BUNDLE: &[u8] =
    include_bytes!("../../../tests/fixtures/sigstore/cosign3-keyed/bundle.json");
const COSIGN3_REFERRER: &[u8] =
    include_bytes!("../../../tests/fixtures/sigstore/cosign3-keyed/referrer.json");
const COSIGN3_PUB: &str = include_str!("../../../tests/fixtures/sigstore/cosign3-keyed/cosign.pub");
const COSIGN3_IMAGE: &str =
    "sha256:913b6a84fab225b7dfffc68beb25a5dfbcd28c7f9fbf08d151fe32f3880789a4";

fn image() -> Digest {
    COSIGN3_IMAGE.parse().unwrap()
}

fn none() -> BTreeMap<String, String> {
    BTreeMap::new()
}

#[test]
fn cosign3_keyed_bundle_verifies_with_its_key_and_names_the_image() {
    let b = parse(COSIGN3_BUNDLE).unwrap();
    let key = PublicKey::from_pem(COSIGN3_PUB).unwrap();
    assert_eq!(
        b.material,
        Material::PublicKey {
            hint: key_hint(&key)
        }
    );
    assert!(b.tlog_entries.is_empty());
    let payload = verify::check_keyed(&b, &image(), &key, &none()).unwrap();
    assert_eq!(payload.digest, COSIGN3_IMAGE);
    assert!(payload.optional.is_empty());
}

#[test]
fn cosign3_referrer_manifest_names_the_bundle_layer_and_subject() {
    let r = referrer::parse(COSIGN3_REFERRER).unwrap();
    assert_eq!(r.subject, Some(image()));
    assert_eq!(r.artifact_type.as_deref(), Some(BUNDLE_MEDIA_TYPE));
    let layers: Vec<_> = r.bundle_layers().collect();
    assert_eq!(layers.len(), 1);
    assert_eq!(layers[0].digest, Digest::of(COSIGN3_BUNDLE));
}

#[test]
fn our_referrer_manifest_has_cosigns_shape() {
    let subject = referrer::Subject {
        media_type: "application/vnd.oci.image.manifest.v1+json".into(),
        digest: image(),
        size: 476,
    };
    let ours = referrer::manifest(&subject, COSIGN3_BUNDLE, "2026-12-01T08:15:46Z");
    // cosign's bytes exactly but for its creation time.
    assert_eq!(
        String::from_utf8(ours).unwrap(),
        String::from_utf8(COSIGN3_REFERRER.to_vec()).unwrap()
    );
}

#[test]
fn our_keyed_bundle_round_trips_and_verifies() {
    let key = PrivateKey::generate();
    let mut annotations = BTreeMap::new();
    annotations.insert("team".to_owned(), "web".to_owned());
    let statement = statement::for_image(&image(), &annotations);
    let bytes = keyed(statement.clone(), &key);
    let b = parse(&bytes).unwrap();
    assert_eq!(b.payload, statement);
    let payload = verify::check_keyed(&b, &image(), &key.public_key(), &annotations).unwrap();
    assert_eq!(payload.optional["team"], "web");
    let mut other = annotations.clone();
    other.insert("team".to_owned(), "db".to_owned());
    let err = verify::check_keyed(&b, &image(), &key.public_key(), &other).unwrap_err();
    assert!(err.contains("team=db required"), "{err}");
}

#[test]
fn tampering_is_refused_each_with_its_own_reason() {
    let key = PrivateKey::generate();
    let public = key.public_key();
    let other = Digest::of(b"another image");
    // A statement for another digest, properly signed.
    let b = parse(&keyed(statement::for_image(&other, &none()), &key)).unwrap();
    let err = verify::check_keyed(&b, &image(), &public, &none()).unwrap_err();
    assert!(err.contains(&format!("statement is for {other}")), "{err}");
    // A changed payload.
    let mut b = parse(&keyed(statement::for_image(&image(), &none()), &key)).unwrap();
    b.payload[3] ^= 1;
    let err = verify::check_keyed(&b, &image(), &public, &none()).unwrap_err();
    assert!(err.contains("changed after signing"), "{err}");
    // Another key.
    let b = parse(&keyed(statement::for_image(&image(), &none()), &key)).unwrap();
    let err = verify::check_keyed(&b, &image(), &PrivateKey::generate().public_key(), &none())
        .unwrap_err();
    assert!(err.starts_with("signature does not match key"), "{err}");
    assert!(err.contains("signed by another key"), "{err}");
    // An attestation of another type.
    let att = String::from_utf8(statement::for_image(&image(), &none()))
        .unwrap()
        .replace(SIGN_PREDICATE_TYPE, "https://slsa.dev/provenance/v1");
    let b = parse(&keyed(att.into_bytes(), &key)).unwrap();
    let err = verify::check_keyed(&b, &image(), &public, &none()).unwrap_err();
    assert!(
        err.contains("attestation of type https://slsa.dev/provenance/v1"),
        "{err}"
    );
    // Truncated, and not JSON.
    let err = parse(&COSIGN3_BUNDLE[..COSIGN3_BUNDLE.len() / 2]).unwrap_err();
    assert!(matches!(err, BundleError::Parse(_)), "{err}");
    assert!(matches!(
        parse(b"not json").unwrap_err(),
        BundleError::Parse(_)
    ));
}

#[test]
fn parsing_is_strict() {
    let mut v: serde_json::Value = serde_json::from_slice(COSIGN3_BUNDLE).unwrap();
    v["extra"] = serde_json::json!(1);
    let err = parse(&serde_json::to_vec(&v).unwrap()).unwrap_err();
    assert!(matches!(err, BundleError::Parse(_)), "{err}");
    let mut v: serde_json::Value = serde_json::from_slice(COSIGN3_BUNDLE).unwrap();
    v["mediaType"] = "application/json".into();
    assert!(matches!(
        parse(&serde_json::to_vec(&v).unwrap()).unwrap_err(),
        BundleError::MediaType(_)
    ));
    let mut v: serde_json::Value = serde_json::from_slice(COSIGN3_BUNDLE).unwrap();
    let sig = v["dsseEnvelope"]["signatures"][0].clone();
    v["dsseEnvelope"]["signatures"] = serde_json::json!([sig.clone(), sig]);
    assert_eq!(
        parse(&serde_json::to_vec(&v).unwrap()).unwrap_err(),
        BundleError::Signatures(2)
    );
}

#[test]
fn pae_is_dsse_v1() {
    assert_eq!(
        pae("http://example.com/HelloWorld", b"hello world"),
        b"DSSEv1 29 http://example.com/HelloWorld 11 hello world".to_vec()
    );
}

/// A real public-good bundle made by cosign (v3's new bundle format, `cosign attest`) for an
/// image: Fulcio certificate for cody@soyland.com, Rekor dsse entry with SET, inclusion proof
/// and checkpoint (cosign's pkg/cosign/testdata, see tests/fixtures/sigstore/README.md).
const PUBLIC_GOOD: &[u8] =
    include_bytes!("../../../tests/fixtures/sigstore/cosign-oci-attestation.sigstore.json");
const PUBLIC_GOOD_IMAGE: &str =
    "sha256:732112270d7e59418a8c080b134b24cabd67d250d0d0147a97ed95ba5c280aa4";

fn public_good_policy(identity: &str) -> crate::signing::keyless::verify::Policy {
    use crate::signing::keyless::verify::{Matcher, Policy};
    Policy {
        identity: Matcher::Exact(identity.to_owned()),
        issuer: Matcher::Exact("https://github.com/login/oauth".to_owned()),
        trust: crate::signing::keyless::trust::TrustRoot::public_good().unwrap(),
    }
}

#[test]
fn a_real_public_good_cosign_bundle_verifies_offline_and_is_an_attestation_not_a_signature() {
    let b = parse(PUBLIC_GOOD).unwrap();
    let trust = crate::signing::keyless::trust::TrustRoot::public_good().unwrap();
    let (leaf, at) = keyless::evidence(&b, &trust).unwrap();
    assert_eq!(leaf.identities(), vec!["cody@soyland.com".to_owned()]);
    assert_eq!(at, 1740770291);
    let image: Digest = PUBLIC_GOOD_IMAGE.parse().unwrap();
    let err =
        keyless::check(&b, &image, &public_good_policy("cody@soyland.com"), &none()).unwrap_err();
    assert!(
        err.contains("an attestation of type https://cosign.sigstore.dev/attestation/v1"),
        "{err}"
    );
    let err = keyless::check(
        &b,
        &image,
        &public_good_policy("someone@else.example"),
        &none(),
    )
    .unwrap_err();
    assert!(
        err.contains("does not match --certificate-identity"),
        "{err}"
    );
}

#[test]
fn a_real_public_good_bundle_with_tampered_log_evidence_is_refused() {
    let trust = crate::signing::keyless::trust::TrustRoot::public_good().unwrap();
    let original: serde_json::Value = serde_json::from_slice(PUBLIC_GOOD).unwrap();
    let tamper = |pointer: &str, value: serde_json::Value| {
        let mut v = original.clone();
        *v.pointer_mut(pointer).unwrap() = value;
        let b = parse(&serde_json::to_vec(&v).unwrap()).unwrap();
        keyless::evidence(&b, &trust).unwrap_err()
    };
    let entry = "/verificationMaterial/tlogEntries/0";
    let err = tamper(
        &format!("{entry}/inclusionProof/hashes/3"),
        STANDARD.encode([7u8; 32]).into(),
    );
    assert!(
        err.contains("does not lead to the proof's root hash"),
        "{err}"
    );
    let err = tamper(&format!("{entry}/integratedTime"), "1740770292".into());
    assert!(
        err.contains("signed entry timestamp does not verify"),
        "{err}"
    );
    let checkpoint = original
        .pointer(&format!("{entry}/inclusionProof/checkpoint/envelope"))
        .and_then(serde_json::Value::as_str)
        .unwrap()
        .replacen("rekor.sigstore.dev - ", "rekor.sigstore.dev  - ", 1);
    let err = tamper(
        &format!("{entry}/inclusionProof/checkpoint/envelope"),
        checkpoint.into(),
    );
    assert!(err.contains("checkpoint: no signature verifies"), "{err}");
    let err = tamper(
        "/dsseEnvelope/payload",
        STANDARD.encode(b"{\"_type\":\"x\"}").into(),
    );
    assert!(err.contains("DSSE signature does not verify"), "{err}");
}
