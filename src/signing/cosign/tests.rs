use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use p256::ecdsa::signature::Signer as _;
use p256::ecdsa::{DerSignature, SigningKey};
use p256::pkcs8::{EncodePublicKey as _, LineEnding};
use serde_json::{Value, json};

use super::*;

const IMAGE: &str = "sha256:634a8f35b5f16dcf4aaa0822adc0b1964bb786fca12f6831de8ddc45e5986a00";
const REPO: &str = "192.168.64.2:5000/cosign-signed-single-sample";

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/cosign/signed-images")
}

fn cosign_pub() -> PublicKey {
    let pem = std::fs::read_to_string(fixtures().join("cosign.pub")).unwrap();
    PublicKey::from_pem(&pem).unwrap()
}

/// Reads a containers/image `signature-N` file: a `\0sigstore-json\n` header, then
/// `{mimeType, payload (base64), annotations}`.
fn read_fixture_signature(path: &Path) -> SignatureLayer {
    let bytes = std::fs::read(path).unwrap();
    let json = bytes.strip_prefix(b"\x00sigstore-json\n").unwrap();
    let doc: Value = serde_json::from_slice(json).unwrap();
    assert_eq!(doc["mimeType"], SIMPLE_SIGNING_MEDIA_TYPE);
    let payload = STANDARD.decode(doc["payload"].as_str().unwrap()).unwrap();
    let annotations = serde_json::from_value(doc["annotations"].clone()).unwrap();
    SignatureLayer {
        payload,
        annotations,
    }
}

/// The signature layers and the image digest of one fixture folder.
fn fixture_image(name: &str) -> (Vec<SignatureLayer>, Digest) {
    let dir = fixtures().join(name);
    let manifest = std::fs::read(dir.join("manifest.json")).unwrap();
    let mut layers = Vec::new();
    for n in 1.. {
        let path = dir.join(format!("signature-{n}"));
        if !path.exists() {
            break;
        }
        layers.push(read_fixture_signature(&path));
    }
    (layers, Digest::of(&manifest))
}

/// A throwaway P-256 key pair from a fixed scalar (deterministic RFC 6979 signatures, no RNG).
fn key_pair(seed: u8) -> (SigningKey, PublicKey) {
    let signing = SigningKey::from_slice(&[seed; 32]).unwrap();
    let pem = signing
        .verifying_key()
        .to_public_key_pem(LineEnding::LF)
        .unwrap();
    (signing, PublicKey::from_pem(&pem).unwrap())
}

fn sign(key: &SigningKey, payload: &[u8]) -> SignatureLayer {
    let signature: DerSignature = key.sign(payload);
    SignatureLayer::new(payload.to_vec(), signature.as_bytes())
}

fn none() -> BTreeMap<String, String> {
    BTreeMap::new()
}

fn reasons(verdicts: &[Verdict]) -> Vec<String> {
    verdicts
        .iter()
        .map(|v| v.result.clone().err().unwrap_or_default())
        .collect()
}

#[test]
fn fixture_digest_is_the_manifest_digest() {
    let (_, image) = fixture_image("dir-img-cosign-valid");
    assert_eq!(image.as_str(), IMAGE);
}

#[test]
fn real_cosign_signatures_verify() {
    for (name, count) in [("dir-img-cosign-valid", 1), ("dir-img-cosign-valid-2", 2)] {
        let (layers, image) = fixture_image(name);
        assert_eq!(layers.len(), count, "{name}");
        let verdicts = verify(&layers, &image, &cosign_pub(), &none());
        assert_eq!(verdicts.len(), count);
        for (i, verdict) in verdicts.iter().enumerate() {
            assert_eq!(verdict.layer, i + 1);
            let payload = verdict.result.as_ref().unwrap();
            assert_eq!(payload.digest, IMAGE);
            assert_eq!(payload.docker_reference, REPO);
        }
    }
}

#[test]
fn real_signatures_fail_with_another_key() {
    let (layers, image) = fixture_image("dir-img-cosign-valid-2");
    let (_, other) = key_pair(7);
    let verdicts = verify(&layers, &image, &other, &none());
    let want = format!("signature does not match key {}", other.fingerprint());
    assert_eq!(reasons(&verdicts), vec![want.clone(), want]);
}

#[test]
fn real_signature_fails_when_the_payload_changes() {
    let (mut layers, image) = fixture_image("dir-img-cosign-valid");
    let at = layers[0]
        .payload
        .windows(REPO.len())
        .position(|w| w == REPO.as_bytes())
        .unwrap();
    layers[0].payload[at + 4] ^= 1; // "192.168…" becomes "192/168…"
    let verdicts = verify(&layers, &image, &cosign_pub(), &none());
    assert_eq!(
        reasons(&verdicts),
        vec![format!(
            "signature does not match key {}",
            cosign_pub().fingerprint()
        )]
    );
}

#[test]
fn real_signature_fails_for_another_digest() {
    let (layers, _) = fixture_image("dir-img-cosign-valid");
    let other = Digest::of(b"another image");
    let verdicts = verify(&layers, &other, &cosign_pub(), &none());
    assert_eq!(
        reasons(&verdicts),
        vec![format!("payload is for {IMAGE} not {other}")]
    );
}

#[test]
fn our_payload_bytes_equal_cosigns() {
    let (layers, image) = fixture_image("dir-img-cosign-valid");
    let fixture = &layers[0].payload;
    let parsed = parse_payload(fixture).unwrap();
    assert_eq!(parsed.docker_reference, REPO);
    assert_eq!(parsed.digest, IMAGE);
    assert!(parsed.optional.is_empty());
    let digest: Digest = parsed.digest.parse().unwrap();
    assert_eq!(digest, image);
    let ours = payload(&parsed.docker_reference, &digest, &none());
    assert_eq!(
        String::from_utf8_lossy(&ours),
        String::from_utf8_lossy(fixture)
    );
    assert_eq!(&ours, fixture);
}

#[test]
fn payload_with_annotations_sorts_keys_and_escapes_like_go() {
    let image = Digest::of(b"x");
    let optional = BTreeMap::from([
        ("team".to_owned(), "web".to_owned()),
        ("commit".to_owned(), "a<b&c>".to_owned()),
    ]);
    let bytes = payload("reg/repo", &image, &optional);
    let want = format!(
        r#"{{"critical":{{"identity":{{"docker-reference":"reg/repo"}},"image":{{"docker-manifest-digest":"{image}"}},"type":"cosign container image signature"}},"optional":{{"commit":"a\u003cb\u0026c\u003e","team":"web"}}}}"#
    );
    assert_eq!(String::from_utf8(bytes.clone()).unwrap(), want);
    let parsed = parse_payload(&bytes).unwrap();
    assert_eq!(parsed.optional["commit"], "a<b&c>");
    assert_eq!(parsed.optional["team"], "web");
}

#[test]
fn parse_payload_ignores_unknown_fields_and_rejects_bad_documents() {
    let ok = br#"{"critical":{"identity":{"docker-reference":"r","extra":1},"image":{"docker-manifest-digest":"sha256:00"},"type":"cosign container image signature"},"optional":{"n":1},"more":true}"#;
    let parsed = parse_payload(ok).unwrap();
    assert_eq!(parsed.digest, "sha256:00");
    assert_eq!(parsed.optional["n"], json!(1));

    let wrong_type = br#"{"critical":{"identity":{},"image":{"docker-manifest-digest":"sha256:00"},"type":"atomic container signature"},"optional":null}"#;
    assert_eq!(
        parse_payload(wrong_type).unwrap_err().to_string(),
        "payload is not a cosign simple-signing document: type is \"atomic container signature\", not \"cosign container image signature\""
    );
    let no_digest =
        br#"{"critical":{"identity":{},"image":{},"type":"cosign container image signature"}}"#;
    let err = parse_payload(no_digest).unwrap_err().to_string();
    assert!(
        err.contains("missing field `docker-manifest-digest`"),
        "{err}"
    );
    let err = parse_payload(b"not json").unwrap_err().to_string();
    assert!(
        err.starts_with("payload is not a cosign simple-signing document: "),
        "{err}"
    );
}

#[test]
fn signature_tag_format() {
    let image: Digest = IMAGE.parse().unwrap();
    assert_eq!(
        signature_tag(&image),
        "sha256-634a8f35b5f16dcf4aaa0822adc0b1964bb786fca12f6831de8ddc45e5986a00.sig"
    );
}

#[test]
fn signature_layer_round_trips_the_signature() {
    let layer = SignatureLayer::new(b"p".to_vec(), &[0xff, 0x00, 0x10]);
    assert_eq!(layer.annotations[SIGNATURE_ANNOTATION], "/wAQ");
    assert_eq!(layer.signature().unwrap(), vec![0xff, 0x00, 0x10]);

    let none = SignatureLayer {
        payload: vec![],
        annotations: BTreeMap::new(),
    };
    assert_eq!(
        none.signature().unwrap_err().to_string(),
        "no signature annotation (dev.cosignproject.cosign/signature)"
    );
    let mut bad = layer.clone();
    bad.annotations
        .insert(SIGNATURE_ANNOTATION.to_owned(), "not base64!".to_owned());
    assert!(
        bad.signature()
            .unwrap_err()
            .to_string()
            .starts_with("signature annotation dev.cosignproject.cosign/signature is not base64")
    );
}

#[test]
fn signature_manifest_has_cosigns_shape() {
    let (layers, _) = fixture_image("dir-img-cosign-valid-2");
    let (config, manifest) = signature_manifest(&layers);
    assert_eq!(
        signature_manifest(&layers),
        (config.clone(), manifest.clone())
    );

    let diff = Digest::of(&layers[0].payload);
    let history = r#"{"created":"0001-01-01T00:00:00Z"}"#;
    assert_eq!(
        String::from_utf8(config.clone()).unwrap(),
        format!(
            r#"{{"architecture":"","created":"0001-01-01T00:00:00Z","history":[{history},{history}],"os":"","rootfs":{{"type":"layers","diff_ids":["{diff}","{diff}"]}},"config":{{}}}}"#
        )
    );

    let doc: Value = serde_json::from_slice(&manifest).unwrap();
    assert_eq!(doc["schemaVersion"], 2);
    assert_eq!(doc["mediaType"], MANIFEST_MEDIA_TYPE);
    assert_eq!(doc["config"]["mediaType"], CONFIG_MEDIA_TYPE);
    assert_eq!(doc["config"]["digest"], Digest::of(&config).as_str());
    assert_eq!(doc["config"]["size"], config.len());
    let manifest_layers = doc["layers"].as_array().unwrap();
    assert_eq!(manifest_layers.len(), 2);
    for (entry, layer) in manifest_layers.iter().zip(&layers) {
        assert_eq!(entry["mediaType"], SIMPLE_SIGNING_MEDIA_TYPE);
        assert_eq!(entry["digest"], Digest::of(&layer.payload).as_str());
        assert_eq!(entry["size"], layer.payload.len());
        assert_eq!(
            entry["annotations"][SIGNATURE_ANNOTATION],
            layer.annotations[SIGNATURE_ANNOTATION].as_str()
        );
    }
    // Compact, in ggcr's field order.
    let text = String::from_utf8(manifest).unwrap();
    assert!(text.starts_with(r#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","size":"#));
    assert!(!text.contains(' '));
}

#[test]
fn one_layer_config_matches_cosigns_bytes() {
    let (layers, _) = fixture_image("dir-img-cosign-valid");
    let (config, _) = signature_manifest(&layers);
    let want = format!(
        r#"{{"architecture":"","created":"0001-01-01T00:00:00Z","history":[{{"created":"0001-01-01T00:00:00Z"}}],"os":"","rootfs":{{"type":"layers","diff_ids":["{}"]}},"config":{{}}}}"#,
        Digest::of(&layers[0].payload)
    );
    assert_eq!(String::from_utf8(config).unwrap(), want);
}

#[test]
fn read_signature_manifest_round_trip() {
    let (mut layers, _) = fixture_image("dir-img-cosign-valid-2");
    layers[1].annotations.insert(
        BUNDLE_ANNOTATION.to_owned(),
        r#"{"SignedEntryTimestamp":"AA==","Payload":{"logIndex":1}}"#.to_owned(),
    );
    let (_, manifest) = signature_manifest(&layers);
    let refs = read_signature_manifest(&manifest).unwrap();
    assert_eq!(refs.len(), 2);
    let rebuilt: Vec<SignatureLayer> = refs
        .into_iter()
        .zip(&layers)
        .map(|(r, layer)| {
            assert_eq!(r.digest, Digest::of(&layer.payload));
            assert_eq!(r.size, layer.payload.len() as u64);
            r.into_layer(layer.payload.clone()).unwrap()
        })
        .collect();
    assert_eq!(rebuilt, layers);
}

#[test]
fn read_signature_manifest_rejects_what_it_cannot_use() {
    let err = |bytes: &[u8]| read_signature_manifest(bytes).unwrap_err().to_string();
    assert!(err(b"{}").starts_with("signature manifest: not an OCI image manifest: "));
    assert_eq!(
        err(br#"{"schemaVersion":1}"#),
        "signature manifest: schemaVersion is 1, not 2"
    );
    assert_eq!(
        err(br#"{"schemaVersion":2,"layers":[{"mediaType":"application/x","digest":"sha256:00","size":1}]}"#),
        "signature manifest: layer 1 has media type \"application/x\", not application/vnd.dev.cosign.simplesigning.v1+json"
    );
    assert!(err(br#"{"schemaVersion":2,"layers":[{"mediaType":"application/vnd.dev.cosign.simplesigning.v1+json","digest":"sha256:00","size":1,"annotations":null}]}"#).starts_with("signature manifest: layer 1: \"sha256:00\" is not a sha256 digest"));

    let refs = read_signature_manifest(br#"{"schemaVersion":2,"layers":[]}"#).unwrap();
    assert!(refs.is_empty());
}

#[test]
fn into_layer_rejects_a_wrong_blob() {
    let layer = LayerRef {
        digest: Digest::of(b"right"),
        size: 5,
        annotations: BTreeMap::new(),
    };
    assert_eq!(
        layer.into_layer(b"wrong".to_vec()).unwrap_err().to_string(),
        format!(
            "signature payload blob is {}, but the manifest names {}",
            Digest::of(b"wrong"),
            Digest::of(b"right")
        )
    );
}

#[test]
fn append_keeps_other_signatures_and_skips_repeats() {
    let (existing, _) = fixture_image("dir-img-cosign-valid");
    let payload = existing[0].payload.clone();

    // Another key signing the same payload: a second signature, the first one kept.
    let (other, other_pub) = key_pair(9);
    let mut layers = existing.clone();
    assert!(append(&mut layers, sign(&other, &payload), &other_pub));
    assert_eq!(layers.len(), 2);
    assert_eq!(layers[0], existing[0]);

    // The same key again on the same payload: cosign's own second signature has different
    // bytes (ECDSA is randomised) but is the same signature, so nothing to do.
    let (again, _) = fixture_image("dir-img-cosign-valid-2");
    assert_ne!(again[1], existing[0]);
    let mut layers = existing.clone();
    assert!(!append(&mut layers, again[1].clone(), &cosign_pub()));
    assert_eq!(layers, existing);

    // The same key on another payload is a new signature.
    let other_payload = super::payload("reg/other", &Digest::of(b"y"), &none());
    assert!(append(
        &mut layers,
        sign(&other, &other_payload),
        &other_pub
    ));
    assert_eq!(layers.len(), 2);
}

#[test]
fn required_annotations() {
    let (key, public) = key_pair(3);
    let image = Digest::of(b"image");
    let optional = BTreeMap::from([
        ("team".to_owned(), "web".to_owned()),
        ("env".to_owned(), "prod".to_owned()),
    ]);
    let layers = vec![
        sign(&key, &payload("r", &image, &optional)),
        sign(&key, &payload("r", &image, &none())),
    ];
    let required = |pairs: &[(&str, &str)]| -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    };

    let verdicts = verify(&layers, &image, &public, &required(&[("team", "web")]));
    assert!(verdicts[0].result.is_ok());
    assert_eq!(
        verdicts[1].result,
        Err("annotation team=web required but missing".to_owned())
    );

    let verdicts = verify(
        &layers,
        &image,
        &public,
        &required(&[("team", "api"), ("env", "prod")]),
    );
    assert_eq!(
        reasons(&verdicts),
        vec![
            "annotation team=api required but payload has team=web".to_owned(),
            // Every unmet requirement is named, in key order.
            "annotation env=prod required but missing; annotation team=api required but missing"
                .to_owned(),
        ]
    );
    assert!(
        verify(&layers, &image, &public, &none())
            .iter()
            .all(|v| v.result.is_ok())
    );
}

#[test]
fn verify_reports_layers_without_a_valid_document() {
    let (key, public) = key_pair(4);
    let image = Digest::of(b"image");
    let unsigned = SignatureLayer {
        payload: b"{}".to_vec(),
        annotations: BTreeMap::new(),
    };
    let not_cosign = sign(&key, b"{}");
    let verdicts = verify(&[unsigned, not_cosign], &image, &public, &none());
    assert_eq!(
        reasons(&verdicts),
        vec![
            "no signature annotation (dev.cosignproject.cosign/signature)".to_owned(),
            "payload is not a cosign simple-signing document: missing field `critical` at line 1 column 2".to_owned(),
        ]
    );
}

#[test]
fn verify_json_mirrors_cosign() {
    let (mut layers, image) = fixture_image("dir-img-cosign-valid-2");
    let verdicts = verify(&layers, &image, &cosign_pub(), &none());
    let one = String::from_utf8(layers[0].payload.clone()).unwrap();
    assert_eq!(verify_json(&verdicts, &layers), format!("[{one},{one}]"));

    // Failed layers are left out.
    let (_, other) = key_pair(5);
    let failed = verify(&layers, &image, &other, &none());
    assert_eq!(verify_json(&failed, &layers), "[]");

    // A Rekor bundle shows up as optional.Bundle, in the struct's own field order.
    layers[0].annotations.insert(
        BUNDLE_ANNOTATION.to_owned(),
        r#"{"SignedEntryTimestamp":"AA==","Payload":{"body":"Ym9keQ==","integratedTime":1700000000,"logIndex":12345678901234567,"logID":"c0d2"}}"#
            .to_owned(),
    );
    let json = verify_json(&verdicts[..1], &layers);
    assert_eq!(
        json,
        format!(
            r#"[{}{{"Bundle":{{"SignedEntryTimestamp":"AA==","Payload":{{"body":"Ym9keQ==","integratedTime":1700000000,"logIndex":12345678901234567,"logID":"c0d2"}}}}}}}}]"#,
            one.strip_suffix("null}").unwrap()
        )
    );
    let parsed: Value = serde_json::from_str(&json).unwrap();
    assert_eq!(
        parsed[0]["critical"]["image"]["docker-manifest-digest"],
        IMAGE
    );
}
