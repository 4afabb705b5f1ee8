//! How the keyless tests run kbundle and check what it wrote: a clean environment, the fake's
//! trust files, token-leak checks, and an independent Python verifier.

#![allow(dead_code)]

use std::path::Path;

use kbundle::bundle::Digest;
use kbundle::oci::layout::Layout;
use kbundle::signing::cosign::{self, SignatureLayer};
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
    // An empty working folder: publish would otherwise read the repository's kbundle.yaml and
    // edit the example RootSync.
    let cwd = tempfile::tempdir().expect("tempdir");
    let mut cmd = assert_cmd::Command::cargo_bin("kbundle").expect("binary");
    cmd.current_dir(cwd.path())
        .args(args)
        .env("SOURCE_DATE_EPOCH", "1700000000")
        .env("DOCKER_CONFIG", "/nonexistent-docker-config");
    for name in CLEARED {
        cmd.env_remove(name);
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("run kbundle");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// No ID token or request token outside the runner's `::add-mask::` lines.
pub fn assert_no_tokens(stdout: &str, stderr: &str) {
    let unmasked: String = stdout
        .lines()
        .filter(|l| !l.starts_with("::add-mask::"))
        .collect::<Vec<_>>()
        .join("\n");
    for secret in [REQUEST_TOKEN, TOKEN_MARK, "eyJhbGciOi"] {
        assert!(
            !unmasked.contains(secret) && !stderr.contains(secret),
            "{secret} leaked:\n{stdout}\n{stderr}"
        );
    }
}

pub fn push(image: &str) -> String {
    let (code, out, err) = kbundle(
        &["push", examples().to_str().unwrap_or("."), "--image", image],
        &[],
    );
    assert_eq!(code, 0, "{err}");
    out.trim()
        .rsplit_once('@')
        .map(|(_, d)| d.to_owned())
        .unwrap_or_default()
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

pub fn read_sig(layout: &Layout, digest: &Digest) -> Vec<SignatureLayer> {
    let (_, _, manifest) = layout
        .manifest(&cosign::signature_tag(digest))
        .expect("sig");
    cosign::read_signature_manifest(&manifest)
        .expect("parse")
        .into_iter()
        .map(|r| SignatureLayer {
            payload: layout.get_blob(&r.digest).expect("blob"),
            annotations: r.annotations,
        })
        .collect()
}

pub fn write_sig(layout: &Layout, digest: &Digest, layers: &[SignatureLayer]) {
    let (config, manifest) = cosign::signature_manifest(layers);
    layout
        .put_blob(&Digest::of(&config), &config)
        .expect("config");
    for l in layers {
        layout
            .put_blob(&Digest::of(&l.payload), &l.payload)
            .expect("payload");
    }
    layout
        .put_manifest(
            &manifest,
            kbundle::bundle::MANIFEST_MEDIA_TYPE,
            Some(&cosign::signature_tag(digest)),
        )
        .expect("manifest");
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
