//! keygen, sign, verify, promote against the real registry and OCI layouts; signatures
//! checked by an independent verifier (Python `cryptography`, tests/verify_cosign.py).

mod support;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use kbundle::bundle::Digest;
use kbundle::oci::layout::Layout;
use kbundle::signing::cosign;
use serde_json::Value;
use support::{Kind, Registry, examples, read_sig, skopeo, write_sig};

// Against both registry implementations (`distribution::…`, `crane::…`).
on_each_registry!(
    sign_and_verify_on_a_registry_with_two_keys_and_the_python_verifier,
    promote_copies_a_signed_bundle_and_refuses_an_unsigned_one,
);

fn kbundle(args: &[&str], dir: &Path) -> (i32, String, String) {
    let mut cmd = support::kbundle_with_key_password(dir);
    support::Run::of(cmd.args(args).env("SOURCE_DATE_EPOCH", "1700000000")).into()
}

fn keygen(dir: &Path, prefix: &str) {
    let (code, _, err) = kbundle(&["keygen", "--output-key-prefix", prefix], dir);
    assert_eq!(code, 0, "{err}");
}

fn push(image: &str, dir: &Path) -> String {
    let (code, out, err) = kbundle(
        &["push", examples().to_str().unwrap_or("."), "--image", image],
        dir,
    );
    assert_eq!(code, 0, "{err}");
    support::pushed_digest(&out).to_string()
}

#[test]
fn keygen_writes_a_private_key_only_its_owner_reads_and_never_overwrites() {
    let dir = tempfile::tempdir().expect("tempdir");
    keygen(dir.path(), "cosign");
    let key = std::fs::read_to_string(dir.path().join("cosign.key")).expect("key");
    assert!(
        key.starts_with("-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----"),
        "{key}"
    );
    let public = std::fs::read_to_string(dir.path().join("cosign.pub")).expect("pub");
    assert!(public.starts_with("-----BEGIN PUBLIC KEY-----"));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.path().join("cosign.key"))
            .expect("meta")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let (code, _, err) = kbundle(&["keygen"], dir.path());
    assert_eq!(code, 2);
    assert!(err.contains("--force"), "{err}");
    assert_eq!(
        std::fs::read_to_string(dir.path().join("cosign.key")).expect("key"),
        key
    );
}

fn sign_and_verify_on_a_registry_with_two_keys_and_the_python_verifier(kind: Kind) {
    let registry = Registry::start_kind(kind);
    let dir = tempfile::tempdir().expect("tempdir");
    keygen(dir.path(), "cosign");
    keygen(dir.path(), "release");
    let image = format!("{}/kbundle/root:v1", registry.addr);
    let digest = push(&image, dir.path());

    let (code, _, err) = kbundle(&["verify", &image, "--key", "cosign.pub"], dir.path());
    assert_eq!(code, 1, "unsigned images do not verify: {err}");
    assert!(err.contains("no signatures"), "{err}");

    let (code, out, err) = kbundle(&["sign", &image, "--key", "cosign.key"], dir.path());
    assert_eq!(code, 0, "{err}");
    let sig_tag = format!("sha256-{}.sig", digest.trim_start_matches("sha256:"));
    assert_eq!(
        out.trim(),
        format!("{}/kbundle/root:{sig_tag}", registry.addr)
    );

    let (code, out, err) = kbundle(
        &["verify", &image, "--key", "cosign.pub", "-o", "json"],
        dir.path(),
    );
    assert_eq!(code, 0, "{err}");
    let payloads: Value = serde_json::from_str(out.trim()).expect("json");
    assert_eq!(
        payloads[0]["critical"]["image"]["docker-manifest-digest"],
        digest.as_str()
    );
    assert_eq!(
        payloads[0]["critical"]["type"],
        "cosign container image signature"
    );

    // A second key adds a layer; signing again with the same key adds nothing.
    assert_eq!(
        kbundle(
            &[
                "sign",
                &image,
                "--key",
                "release.key",
                "--annotation",
                "approved=yes"
            ],
            dir.path()
        )
        .0,
        0
    );
    assert_eq!(
        kbundle(&["sign", &image, "--key", "cosign.key"], dir.path()).0,
        0
    );
    let raw = skopeo(&[
        "inspect",
        "--raw",
        &format!("docker://{}/kbundle/root:{sig_tag}", registry.addr),
    ]);
    let sig: Value = serde_json::from_slice(&raw.stdout).expect("sig manifest");
    let layers = sig["layers"].as_array().expect("layers");
    assert_eq!(layers.len(), 2, "{sig}");
    assert!(
        layers
            .iter()
            .all(|l| l["mediaType"] == "application/vnd.dev.cosign.simplesigning.v1+json")
    );

    // Required annotations: only the release signature carries approved=yes.
    assert_eq!(
        kbundle(
            &[
                "verify",
                &image,
                "--key",
                "release.pub",
                "--annotation",
                "approved=yes"
            ],
            dir.path()
        )
        .0,
        0
    );
    let (code, _, err) = kbundle(
        &[
            "verify",
            &image,
            "--key",
            "cosign.pub",
            "--annotation",
            "approved=yes",
        ],
        dir.path(),
    );
    assert_eq!(code, 1);
    assert!(err.contains("approved"), "{err}");

    // An independent verifier checks the first layer with the public key.
    let copy = dir.path().join("sig-layout");
    let out = skopeo(&[
        "copy",
        &format!("docker://{}/kbundle/root:{sig_tag}", registry.addr),
        &format!("oci:{}:sig", copy.display()),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let layout = Layout::open(&copy).expect("layout");
    let (_, _, manifest) = layout.manifest("sig").expect("manifest");
    let refs = cosign::read_signature_manifest(&manifest).expect("sig manifest");
    let payload = layout.get_blob(&refs[0].digest).expect("payload");
    let payload_file = dir.path().join("payload.json");
    std::fs::write(&payload_file, &payload).expect("write");
    let signature = refs[0].annotations[cosign::SIGNATURE_ANNOTATION].clone();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/verify_cosign.py");
    let python = |key: &str| {
        Command::new("python3")
            .arg(&script)
            .arg(dir.path().join(key))
            .arg(&payload_file)
            .arg(&signature)
            .output()
            .expect("python3 (scripts/test installs cryptography)")
    };
    let ok = python("cosign.pub");
    assert!(
        ok.status.success(),
        "{}{}",
        String::from_utf8_lossy(&ok.stdout),
        String::from_utf8_lossy(&ok.stderr)
    );
    assert!(
        !python("release.pub").status.success(),
        "the other key must not verify it"
    );
}

#[test]
fn tampered_signatures_fail_with_a_specific_reason() {
    let dir = tempfile::tempdir().expect("tempdir");
    keygen(dir.path(), "cosign");
    keygen(dir.path(), "other");
    let layout_dir = dir.path().join("layout");
    let a = format!("oci-layout:{}:a", layout_dir.display());
    let b = format!("oci-layout:{}:b", layout_dir.display());
    let digest_a: Digest = push(&a, dir.path()).parse().expect("digest");
    // A second, different image in the same layout.
    let (code, out, err) = kbundle(
        &[
            "push",
            "--no-validate",
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("tests/fixtures/validate/valid-deployment.yaml")
                .to_str()
                .unwrap_or("."),
            "--image",
            &b,
        ],
        dir.path(),
    );
    assert_eq!(code, 0, "{err}");
    let digest_b = support::pushed_digest(&out);
    assert_eq!(
        kbundle(&["sign", &a, "--key", "cosign.key"], dir.path()).0,
        0
    );
    assert_eq!(
        kbundle(&["verify", &a, "--key", "cosign.pub"], dir.path()).0,
        0
    );

    let verify = |image: &str, key: &str| kbundle(&["verify", image, "--key", key], dir.path());
    let (code, _, err) = verify(&a, "other.pub");
    assert_eq!(code, 1);
    assert!(err.contains("signature does not match"), "{err}");

    let layout = Layout::open(&layout_dir).expect("layout");
    let original = read_sig(&layout, &digest_a);

    // The payload edited (its reference changed), the signature kept.
    let mut edited = original.clone();
    let text = String::from_utf8(edited[0].payload.clone())
        .expect("utf8")
        .replace("oci-layout:", "oci-layouT:");
    edited[0].payload = text.into_bytes();
    write_sig(&layout, &digest_a, &edited);
    let (code, _, err) = verify(&a, "cosign.pub");
    assert_eq!(code, 1);
    assert!(err.contains("signature does not match"), "{err}");

    // A valid signature of image A presented as image B's.
    write_sig(&layout, &digest_b, &original);
    let (code, _, err) = verify(&b, "cosign.pub");
    assert_eq!(code, 1);
    assert!(err.contains(&format!("payload is for {digest_a}")), "{err}");

    // The signature layer removed.
    write_sig(&layout, &digest_a, &[]);
    let (code, _, err) = verify(&a, "cosign.pub");
    assert_eq!(code, 1);
    assert!(
        err.contains("no signatures") || err.contains("0 of 0"),
        "{err}"
    );
    let _: BTreeMap<String, String> = BTreeMap::new();
}

fn promote_copies_a_signed_bundle_and_refuses_an_unsigned_one(kind: Kind) {
    let registry = Registry::start_kind(kind);
    let dir = tempfile::tempdir().expect("tempdir");
    keygen(dir.path(), "release");
    let staging = format!("{}/staging/root:v1", registry.addr);
    let prod = format!("{}/prod/root:v1", registry.addr);
    let digest = push(&staging, dir.path());

    let (code, _, err) = kbundle(
        &["promote", &staging, &prod, "--key", "release.pub"],
        dir.path(),
    );
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("not promoted"), "{err}");
    assert!(
        !skopeo(&["inspect", &format!("docker://{prod}")])
            .status
            .success()
    );

    assert_eq!(
        kbundle(&["sign", &staging, "--key", "release.key"], dir.path()).0,
        0
    );
    let (code, out, err) = kbundle(
        &["promote", &staging, &prod, "--key", "release.pub"],
        dir.path(),
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(out.trim(), format!("{prod}@{digest}"));
    assert_eq!(
        kbundle(&["verify", &prod, "--key", "release.pub"], dir.path()).0,
        0
    );

    // And from a registry to a layout folder (a release archive), the same way.
    let archive = format!("oci-layout:{}:v1", dir.path().join("archive").display());
    let (code, _, err) = kbundle(
        &["promote", &prod, &archive, "--key", "release.pub"],
        dir.path(),
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        kbundle(&["verify", &archive, "--key", "release.pub"], dir.path()).0,
        0
    );
}
