//! `verify -o json` prints only what was checked: a Rekor bundle in a signature layer is shown
//! by cosign after it verified the bundle, so kbundle, which with `--key` does not look at
//! the transparency log, must not show one as if it had.

mod support;

use std::path::Path;

use kbundle::bundle::Digest;
use kbundle::oci::layout::Layout;
use kbundle::signing::cosign::BUNDLE_ANNOTATION;
use serde_json::Value;
use support::{Registry, examples, read_sig, write_sig};

/// A bundle in cosign's shape whose signed entry timestamp no log ever made.
const FORGED_BUNDLE: &str = r#"{"SignedEntryTimestamp":"bm8gbG9nIHNpZ25lZCB0aGlzIGVudHJ5","Payload":{"body":"eyJmb3JnZWQiOnRydWV9","integratedTime":1700000000,"logIndex":424242,"logID":"c0d23d6ad406973f9559f3ba2d1ca01f84147d8ffc5b8445c224f98b9591801d"}}"#;

fn kbundle(args: &[&str], dir: &Path) -> (i32, String, String) {
    support::Run::of(support::kbundle_with_key_password(dir).args(args)).into()
}

/// An image in an OCI layout, signed with `cosign.key`, whose signature layer then gets a
/// forged Rekor bundle annotation. Returns the reference and digest.
fn signed_with_forged_bundle(dir: &Path) -> (String, Digest) {
    let (code, _, err) = kbundle(&["keygen"], dir);
    assert_eq!(code, 0, "{err}");
    let layout_dir = dir.join("layout");
    let image = format!("oci-layout:{}:v1", layout_dir.display());
    let (code, out, err) = kbundle(
        &[
            "push",
            examples().to_str().unwrap_or("."),
            "--image",
            &image,
        ],
        dir,
    );
    assert_eq!(code, 0, "{err}");
    let digest = support::pushed_digest(&out);
    let (code, _, err) = kbundle(&["sign", &image, "--key", "cosign.key"], dir);
    assert_eq!(code, 0, "{err}");
    let layout = Layout::open(&layout_dir).expect("layout");
    let mut layers = read_sig(&layout, &digest);
    layers[0]
        .annotations
        .insert(BUNDLE_ANNOTATION.to_owned(), FORGED_BUNDLE.to_owned());
    write_sig(&layout, &digest, &layers);
    (image, digest)
}

#[test]
fn key_verification_does_not_echo_an_unchecked_rekor_bundle() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (image, digest) = signed_with_forged_bundle(dir.path());
    let (code, out, err) = kbundle(
        &["verify", &image, "--key", "cosign.pub", "-o", "json"],
        dir.path(),
    );
    assert_eq!(code, 0, "the signature itself is good: {err}");
    let payloads: Value = serde_json::from_str(out.trim()).expect("json");
    let payload = &payloads[0];
    assert_eq!(
        payload["critical"]["image"]["docker-manifest-digest"],
        digest.as_str()
    );
    assert!(
        payload["optional"].get("Bundle").is_none(),
        "the forged bundle is not shown as checked: {out}"
    );
    assert!(!out.contains("424242"), "{out}");
}

/// The peer's behaviour this follows: cosign v2 checks the bundle before printing it, and
/// refuses the forged one; only told to skip the log does it print the bundle unchecked.
#[test]
fn cosign_checks_a_bundle_before_printing_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (image, digest) = signed_with_forged_bundle(dir.path());
    let registry = Registry::start();
    let remote = format!("{}/verify/forged:v1", registry.addr);
    // promote verifies with the key (the bundle is not looked at) and copies the signature
    // layers with their annotations.
    let (code, _, err) = kbundle(
        &[
            "promote",
            &image,
            &remote,
            "--key",
            "cosign.pub",
            "--plain-http",
        ],
        dir.path(),
    );
    assert_eq!(code, 0, "{err}");
    let reference = format!("{}/verify/forged@{digest}", registry.addr);
    // A Rekor key of our own, so cosign needs no network for the public-good TUF root.
    let rekor_key = dir.path().join("cosign.pub");
    let env = [(
        "SIGSTORE_REKOR_PUBLIC_KEY",
        rekor_key.to_str().unwrap_or(""),
    )];
    let key = dir.path().join("cosign.pub").display().to_string();
    let run = |extra: &[&str]| {
        let mut args = vec![
            "verify",
            "--key",
            &key,
            "--allow-http-registry",
            "-o",
            "json",
        ];
        args.extend_from_slice(extra);
        args.push(&reference);
        support::peers::run_peer("cosign2", &args, dir.path(), &env)
    };
    let checked = run(&[]);
    let refused = String::from_utf8_lossy(&checked.stderr);
    assert!(
        !checked.status.success() && refused.contains("error verifying bundle"),
        "cosign refuses a bundle it cannot verify: {refused}"
    );
    assert!(
        !String::from_utf8_lossy(&checked.stdout).contains("424242"),
        "and prints nothing of it"
    );
    let unchecked = run(&["--insecure-ignore-tlog=true"]);
    let out = String::from_utf8_lossy(&unchecked.stdout);
    assert!(
        unchecked.status.success(),
        "{}",
        String::from_utf8_lossy(&unchecked.stderr)
    );
    assert!(
        out.contains("424242"),
        "told to skip the log, cosign prints the bundle unchecked: {out}"
    );
}
