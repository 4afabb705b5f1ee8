//! Sigstore bundle signatures (cosign v3's format) without peers: in OCI layout folders and
//! on the real registry, tampered bundles each refused with their own reason, and promote
//! merging referrers into the destination's fallback index without dropping its entries.

#[path = "support/referrers_api_fake.rs"]
mod referrers_api_fake;
mod support;

use std::collections::BTreeMap;
use std::path::Path;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use kbundle::bundle::Digest;
use kbundle::oci::referrers::{fallback_tag, parse_index};
use kbundle::oci::{Connect, ImageRef, Store};
use kbundle::signing::bundle::{self, statement};
use kbundle::signing::bundles::write_bundle;
use kbundle::signing::keys::PrivateKey;
use serde_json::Value;
use support::{Registry, examples};

fn kbundle(args: &[&str], dir: &Path) -> (i32, String, String) {
    let mut cmd = support::kbundle_with_key_password(dir);
    support::Run::of(cmd.args(args).env("SOURCE_DATE_EPOCH", "1700000000")).into()
}

fn push(image: &str, dir: &Path) -> Digest {
    let (code, out, err) = kbundle(
        &["push", examples().to_str().unwrap_or("."), "--image", image],
        dir,
    );
    assert_eq!(code, 0, "{err}");
    support::pushed_digest(&out)
}

fn store(image: &str) -> Store {
    let image: ImageRef = image.parse().expect("reference");
    Store::for_pull(&image, Connect::default()).expect("store")
}

fn key(dir: &Path) -> PrivateKey {
    let pem = std::fs::read_to_string(dir.join("cosign.key")).expect("key");
    PrivateKey::from_cosign_pem(&pem, b"pw").expect("decrypt")
}

#[test]
fn bundles_in_an_oci_layout_sign_verify_and_print_cosign3s_json() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let (code, _, err) = kbundle(&["keygen"], d);
    assert_eq!(code, 0, "{err}");
    let image = "oci-layout:out:v1";
    let digest = push(image, d);
    let (code, out, err) = kbundle(
        &[
            "sign",
            image,
            "--key",
            "cosign.key",
            "--signature-format",
            "bundle",
            "--annotation",
            "team=web",
        ],
        d,
    );
    assert_eq!(code, 0, "{err}");
    assert!(out.trim().starts_with("oci-layout:out@sha256:"), "{out}");
    // Only the referrers fallback tag: no .sig.
    let layout = kbundle::oci::layout::Layout::open(&d.join("out")).expect("layout");
    let tags = layout.tags().expect("tags");
    assert!(tags.contains(&fallback_tag(&digest)), "{tags:?}");
    assert!(!tags.iter().any(|t| t.ends_with(".sig")), "{tags:?}");
    // The referrer is reachable through the fallback index, not listed untagged in index.json
    // (which would make `oci:DIR` without a tag ambiguous for skopeo).
    let index: Value =
        serde_json::from_slice(&std::fs::read(d.join("out/index.json")).expect("index.json"))
            .expect("json");
    for entry in index["manifests"].as_array().expect("manifests") {
        assert!(
            entry["annotations"]["org.opencontainers.image.ref.name"].is_string(),
            "untagged entry in index.json: {entry}"
        );
    }

    let (code, out, err) = kbundle(&["verify", image, "--key", "cosign.pub", "-o", "json"], d);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        out.trim(),
        format!(
            r#"[{{"critical":{{"identity":{{"docker-reference":"oci-layout:out:v1"}},"image":{{"docker-manifest-digest":"{digest}"}},"type":"https://sigstore.dev/cosign/sign/v1"}},"optional":{{"team":"web"}}}}]"#
        )
    );
    let (code, _, err) = kbundle(
        &[
            "verify",
            image,
            "--key",
            "cosign.pub",
            "--annotation",
            "team=db",
        ],
        d,
    );
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("team=db required"), "{err}");

    // promote to another layout: the referrer is there byte for byte and verifies.
    let (code, _, err) = kbundle(
        &[
            "promote",
            image,
            "oci-layout:prod:v1",
            "--key",
            "cosign.pub",
        ],
        d,
    );
    assert_eq!(code, 0, "{err}");
    let prod = kbundle::oci::layout::Layout::open(&d.join("prod")).expect("layout");
    let (_, _, index) = prod
        .manifest(&fallback_tag(&digest))
        .expect("fallback index");
    let listed = parse_index(&index).expect("index");
    assert_eq!(listed.len(), 1);
    assert_eq!(
        prod.get_blob(&listed[0].digest).expect("referrer"),
        layout.get_blob(&listed[0].digest).expect("referrer")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tampered_bundles_are_each_refused_with_their_own_reason() {
    let registry = Registry::start();
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let (code, _, err) = kbundle(&["keygen"], d);
    assert_eq!(code, 0, "{err}");
    let k = key(d);
    let other = PrivateKey::generate();
    let none = BTreeMap::new();
    let r = &registry.addr;

    let good = |digest: &Digest| bundle::keyed(statement::for_image(digest, &none), &k);
    let changed_payload = |digest: &Digest| {
        let mut v: Value = serde_json::from_slice(&good(digest)).expect("json");
        let payload = STANDARD
            .decode(v["dsseEnvelope"]["payload"].as_str().expect("payload"))
            .expect("base64");
        let text = String::from_utf8(payload)
            .expect("utf-8")
            .replace("{}}", r#"{"x":1}}"#);
        v["dsseEnvelope"]["payload"] = STANDARD.encode(text).into();
        serde_json::to_vec(&v).expect("json")
    };
    let attestation = |digest: &Digest| {
        let text = String::from_utf8(statement::for_image(digest, &none))
            .expect("utf-8")
            .replace(
                bundle::SIGN_PREDICATE_TYPE,
                "https://slsa.dev/provenance/v1",
            );
        bundle::keyed(text.into_bytes(), &k)
    };
    type Make<'a> = Box<dyn Fn(&Digest) -> Vec<u8> + 'a>;
    let cases: Vec<(&str, Make, String)> = vec![
        (
            "another-digest",
            Box::new(|_: &Digest| {
                bundle::keyed(statement::for_image(&Digest::of(b"x"), &none), &k)
            }),
            format!("the statement is for {}", Digest::of(b"x")),
        ),
        (
            "changed-payload",
            Box::new(changed_payload),
            "changed after signing".to_owned(),
        ),
        (
            "another-key",
            Box::new(|digest: &Digest| bundle::keyed(statement::for_image(digest, &none), &other)),
            "signed by another key".to_owned(),
        ),
        (
            "attestation",
            Box::new(attestation),
            "an attestation of type https://slsa.dev/provenance/v1, not a signature".to_owned(),
        ),
        (
            "truncated",
            Box::new(|digest: &Digest| {
                let b = good(digest);
                b[..b.len() / 2].to_vec()
            }),
            "not a sigstore bundle: EOF".to_owned(),
        ),
        (
            "not-json",
            Box::new(|_: &Digest| b"<html>not json</html>".to_vec()),
            "not a sigstore bundle: expected value".to_owned(),
        ),
    ];
    for (repo, make, why) in cases {
        let image = format!("{r}/kb/{repo}:v1");
        let digest = push(&image, d);
        write_bundle(&store(&image), &digest, &make(&digest))
            .await
            .expect("write bundle");
        let (code, _, err) = kbundle(&["verify", &image, "--key", "cosign.pub"], d);
        assert_eq!(code, 1, "{repo}: {err}");
        assert!(err.contains(&why), "{repo}: expected {why:?} in:\n{err}");
        assert!(
            err.contains("0 of 1 signature(s) verified"),
            "{repo}: {err}"
        );
    }
}

#[test]
fn promote_merges_into_the_destinations_fallback_index_without_dropping_its_entries() {
    let registry = Registry::start();
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    for prefix in ["release", "prod"] {
        let (code, _, err) = kbundle(&["keygen", "--output-key-prefix", prefix], d);
        assert_eq!(code, 0, "{err}");
    }
    let r = &registry.addr;
    let staging = format!("{r}/staging/root:v1");
    let prod = format!("{r}/prod/root:v1");
    let digest = push(&staging, d);
    push(&prod, d);
    // The destination already has a bundle of its own for the same digest.
    for (image, key) in [(&prod, "prod.key"), (&staging, "release.key")] {
        let (code, _, err) = kbundle(
            &["sign", image, "--key", key, "--signature-format", "both"],
            d,
        );
        assert_eq!(code, 0, "{err}");
    }
    let (code, _, err) = kbundle(&["promote", &staging, &prod, "--key", "release.pub"], d);
    assert_eq!(code, 0, "{err}");
    let keys = d.join("keys");
    std::fs::create_dir(&keys).expect("keys");
    for k in ["release", "prod"] {
        std::fs::copy(d.join(format!("{k}.pub")), keys.join(format!("{k}.pub"))).expect("copy");
    }
    let (code, _, err) = kbundle(
        &["verify", &prod, "--key", keys.to_str().expect("utf-8")],
        d,
    );
    assert_eq!(code, 0, "{err}");
    // The .sig is copied as today (replacing the destination's); both bundles are listed.
    assert!(
        err.contains("signature 2: verified") && err.contains("signature 3: verified"),
        "{err}"
    );
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let listed = rt
        .block_on(store(&prod).referrers(&digest))
        .expect("referrers");
    assert_eq!(listed.len(), 2, "{listed:?}");
}

fn tags(registry: &str, repo: &str) -> Vec<String> {
    let mut answer = ureq::get(&format!("http://{registry}/v2/{repo}/tags/list"))
        .call()
        .expect("tags/list");
    let value: Value =
        serde_json::from_slice(&answer.body_mut().read_to_vec().expect("body")).expect("json");
    value["tags"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|t| t.as_str().map(str::to_owned))
        .collect()
}

/// Neither test registry serves the referrers API, so a local fake of that endpoint stands in
/// front of the real docker-registry (tests/support/referrers_api_fake.rs).
#[test]
fn on_a_registry_with_the_referrers_api_fake_bundles_are_found_through_it_and_no_fallback_tag_is_written()
 {
    let registry = Registry::start();
    let api = referrers_api_fake::ReferrersApi::start(&registry.addr);
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let (code, _, err) = kbundle(&["keygen"], d);
    assert_eq!(code, 0, "{err}");
    let image = format!("{}/kb/api:v1", api.addr);
    let digest = push(&image, d);
    let (code, _, err) = kbundle(
        &[
            "sign",
            &image,
            "--key",
            "cosign.key",
            "--signature-format",
            "bundle",
        ],
        d,
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(tags(&registry.addr, "kb/api"), vec!["v1".to_owned()]);
    let (code, _, err) = kbundle(&["verify", &image, "--key", "cosign.pub"], d);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("1 of 1 signature(s) verified"), "{err}");
    // The real cosign v3 finds it through the API too.
    let out = std::process::Command::new(support::peers::peer("cosign3"))
        .current_dir(d)
        .env_clear()
        .env("HOME", d)
        .env("TUF_ROOT", d.join(".sigstore"))
        .args([
            "verify",
            "--key",
            "cosign.pub",
            "--insecure-ignore-tlog",
            &image,
        ])
        .output()
        .expect("run cosign3");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // Promote to a registry without the API: there the fallback tag lists the referrer.
    let prod = format!("{}/kb/prod:v1", registry.addr);
    let (code, _, err) = kbundle(&["promote", &image, &prod, "--key", "cosign.pub"], d);
    assert_eq!(code, 0, "{err}");
    let listed = tags(&registry.addr, "kb/prod");
    assert!(listed.contains(&fallback_tag(&digest)), "{listed:?}");
    let (code, _, err) = kbundle(&["verify", &prod, "--key", "cosign.pub"], d);
    assert_eq!(code, 0, "{err}");
}
