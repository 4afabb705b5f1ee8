//! How the keyless tests run kbundle and check what it wrote: a clean environment, the fake's
//! trust files, token-leak checks, and an independent Python verifier.

#![allow(dead_code)]

use std::path::Path;

use serde_json::Value;

use crate::sigstore_fake::{self, IDENTITY, ISSUER, REQUEST_TOKEN, SigstoreFake, TOKEN_MARK};
use crate::support::{Registry, examples};

const CLEARED: [&str; 10] = [
    "KBUNDLE_FULCIO_URL",
    "KBUNDLE_REKOR_URL",
    "ACTIONS_ID_TOKEN_REQUEST_URL",
    "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
    "GITHUB_ACTIONS",
    "GITHUB_OUTPUT",
    "SIGSTORE_ID_TOKEN",
    "SIGSTORE_ROOT_FILE",
    "SIGSTORE_REKOR_PUBLIC_KEY",
    "GITHUB_STEP_SUMMARY",
];

pub fn kbundle(args: &[&str], env: &[(&str, &str)]) -> (i32, String, String) {
    crate::support::run_clean(args, &CLEARED, env)
}

/// No ID token or request token outside the runner's `::add-mask::` lines.
pub fn assert_no_tokens(stdout: &str, stderr: &str) {
    crate::support::assert_no_secrets(stdout, stderr, &[REQUEST_TOKEN, TOKEN_MARK, "eyJhbGciOi"]);
}

pub fn push(image: &str) -> String {
    let (code, out, err) = kbundle(
        &["push", examples().to_str().unwrap_or("."), "--image", image],
        &[],
    );
    assert_eq!(code, 0, "{err}");
    crate::support::pushed_digest(&out).to_string()
}

/// Trust files for the fake: its CA chain and its Rekor key.
pub struct Trust {
    _dir: tempfile::TempDir,
    pub chain: String,
    pub rekor: String,
    pub other_root: String,
}

pub fn trust(fake: &SigstoreFake) -> Trust {
    let dir = tempfile::tempdir().expect("tempdir");
    let write = |name: &str, text: &str| {
        let p = dir.path().join(name);
        std::fs::write(&p, text).expect("write");
        p.display().to_string()
    };
    Trust {
        chain: write("fulcio.pem", &fake.ca_pem),
        rekor: write("rekor.pub", &fake.rekor_pem),
        other_root: write("other.pem", &sigstore_fake::other_root_pem()),
        _dir: dir,
    }
}

pub fn verify(image: &str, t: &Trust, extra: &[&str]) -> (i32, String, String) {
    let mut args = vec![
        "verify",
        image,
        "--certificate-chain",
        &t.chain,
        "--rekor-public-key",
        &t.rekor,
    ];
    let has = |f: &str| extra.contains(&f);
    if !has("--certificate-identity") && !has("--certificate-identity-regexp") {
        args.extend(["--certificate-identity", IDENTITY]);
    }
    if !has("--certificate-oidc-issuer") && !has("--certificate-oidc-issuer-regexp") {
        args.extend(["--certificate-oidc-issuer", ISSUER]);
    }
    args.extend(extra);
    kbundle(&args, &[])
}

pub fn sign_flags(fake: &SigstoreFake) -> Vec<String> {
    vec![
        "--fulcio-url".into(),
        fake.url.clone(),
        "--rekor-url".into(),
        fake.url.clone(),
    ]
}

pub fn sign_layout(fake: &SigstoreFake, image: &str) {
    let token = fake.id_token("sigstore");
    let flags = sign_flags(fake);
    let mut args = vec!["sign", image, "--keyless"];
    args.extend(flags.iter().map(String::as_str));
    let (code, out, err) = kbundle(&args, &[("SIGSTORE_ID_TOKEN", &token)]);
    assert_eq!(code, 0, "{err}");
    assert!(!out.contains(&token) && !err.contains(&token));
}

/// Runs tests/verify_keyless.py (Python `cryptography`, no kbundle code) on the layer.
pub fn python_check(registry: &Registry, digest: &str, t: &Trust) {
    let dir = tempfile::tempdir().expect("tempdir");
    // Straight from the registry API, so nothing of kbundle reads the layer on the way.
    let base = format!("http://{}/v2/fleet/web", registry.addr);
    let sig_tag = format!("sha256-{}.sig", digest.trim_start_matches("sha256:"));
    let get = |url: &str| {
        ureq::get(url)
            .header("Accept", "application/vnd.oci.image.manifest.v1+json")
            .call()
            .expect("registry")
            .body_mut()
            .read_to_vec()
            .expect("body")
    };
    let manifest: Value =
        serde_json::from_slice(&get(&format!("{base}/manifests/{sig_tag}"))).expect("manifest");
    let layer = &manifest["layers"][0];
    let blob = layer["digest"].as_str().expect("digest");
    let payload = get(&format!("{base}/blobs/{blob}"));
    let annotations = layer["annotations"].clone();
    std::fs::write(dir.path().join("payload"), &payload).expect("write");
    std::fs::write(
        dir.path().join("annotations.json"),
        serde_json::to_string(&annotations).expect("json"),
    )
    .expect("write");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/verify_keyless.py");
    let run = |identity: &str| {
        std::process::Command::new("python3")
            .arg(&script)
            .arg(dir.path().join("annotations.json"))
            .arg(dir.path().join("payload"))
            .args([&t.chain, &t.rekor, identity, ISSUER])
            .output()
            .expect("python3")
    };
    let ok = run(IDENTITY);
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stdout)
    );
    assert!(!run("someone@example.com").status.success());
}
