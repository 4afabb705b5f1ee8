//! `verify` with several `--key`s: one key that verifies is enough (OR, as `cosign verify`
//! with a key set), and the output names which key it was. Real keys and an on-disk OCI
//! layout; no registry needed.

mod support;

use std::path::Path;

fn kbundle(args: &[&str], dir: &Path) -> (i32, String, String) {
    support::Run::of(support::kbundle_with_key_password(dir).args(args)).into()
}

#[test]
fn of_several_keys_one_verifying_is_enough_and_the_output_names_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    for prefix in ["alice", "bob"] {
        let (code, _, err) = kbundle(&["keygen", "--output-key-prefix", prefix], dir.path());
        assert_eq!(code, 0, "{err}");
    }
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let image = format!("oci-layout:{}:v1", dir.path().join("layout").display());
    let (code, _, err) = kbundle(
        &["push", examples.to_str().expect("utf-8"), "--image", &image],
        dir.path(),
    );
    assert_eq!(code, 0, "{err}");
    let (code, _, err) = kbundle(&["sign", &image, "--key", "bob.key"], dir.path());
    assert_eq!(code, 0, "{err}");
    // `signed REF with ecdsa-p256 SHA256:…` on stderr
    let bob = err
        .trim()
        .rsplit_once(" with ")
        .map(|(_, f)| f.to_owned())
        .expect("fingerprint");
    assert!(bob.starts_with("ecdsa-p256 SHA256:"), "{err}");

    let (code, _, err) = kbundle(
        &["verify", &image, "--key", "alice.pub", "--key", "bob.pub"],
        dir.path(),
    );
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains(&format!("verified, signed by key {bob}")),
        "{err}"
    );

    // Alice's key alone does not verify it.
    let (code, _, err) = kbundle(&["verify", &image, "--key", "alice.pub"], dir.path());
    assert_eq!(code, 1, "{err}");
}
