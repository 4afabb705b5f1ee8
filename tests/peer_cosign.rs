//! The real cosign v2 (`cosign2`, v2.6.5) and v3 (`cosign3`, v3.0.6) against kbundle, both
//! directions, cosign's legacy `.sig` format, on the real registry (Debian's distribution):
//! kbundle's signatures verify with `cosign verify --key`, cosign's verify with `kbundle
//! verify`, `promote` and the webhook, keys cross over both ways, and `kbundle verify -o json`
//! is `cosign verify -o json` parsed field by field.
//!
//! cosign never reaches the network: nothing here is in a transparency log (`--tlog-upload=false`
//! and `--insecure-ignore-tlog`), its TUF cache is an empty folder, and HTTP(S)_PROXY point at a
//! closed loopback port with only the test registry exempt, so a TUF or Rekor request fails
//! instead of reaching the public-good instance (cosign v3 tries TUF, warns and goes on).

mod support;
mod webhook_support;

use std::path::Path;
use std::process::Output;

use serde_json::Value;
use support::Registry;
use support::peers::peer;
use webhook_support::{Certs, Webhook, kbundle, message, push, response, review};

/// A cosign under test and the flags that keep it on the legacy `.sig` format, offline.
struct Cosign {
    name: &'static str,
    sign: &'static [&'static str],
    verify: &'static [&'static str],
}

const COSIGNS: [Cosign; 2] = [
    Cosign {
        name: "cosign2",
        sign: &["--tlog-upload=false"],
        verify: &["--insecure-ignore-tlog"],
    },
    Cosign {
        name: "cosign3",
        sign: &[
            "--new-bundle-format=false",
            "--use-signing-config=false",
            "--tlog-upload=false",
        ],
        verify: &["--insecure-ignore-tlog", "--new-bundle-format=false"],
    },
];

impl Cosign {
    /// `cosign sign --key KEY [-a ANNOTATION] IMAGE@DIGEST` in `dir`, which must succeed.
    fn sign(&self, key: &str, annotation: Option<&str>, image: &str, dir: &Path) {
        let mut args = vec!["sign", "--key", key];
        if let Some(a) = annotation {
            args.extend(["-a", a]);
        }
        args.extend_from_slice(self.sign);
        args.push(image);
        cosign_ok(self.name, &args, dir);
    }

    /// `cosign verify --key KEY [-a ANNOTATION] IMAGE -o json`: the parsed JSON, or None when
    /// cosign refused.
    fn verify(
        &self,
        key: &str,
        annotation: Option<&str>,
        image: &str,
        dir: &Path,
    ) -> Option<Value> {
        let mut args = vec!["verify", "--key", key, "-o", "json"];
        if let Some(a) = annotation {
            args.extend(["-a", a]);
        }
        args.extend_from_slice(self.verify);
        args.push(image);
        let out = cosign(self.name, &args, dir);
        out.status
            .success()
            .then(|| last_json_line(&text(&out.stdout)))
    }
}

/// A loopback port nothing listens on, for the proxy variables.
fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("addr").port()
}

/// Runs a cosign in `dir` (its HOME too), offline, with COSIGN_PASSWORD=pw as kbundle's keys.
fn cosign(name: &str, args: &[&str], dir: &Path) -> Output {
    let proxy = format!("http://127.0.0.1:{}", closed_port());
    let home = dir.join(format!(".home-{name}"));
    std::fs::create_dir_all(&home).expect("cosign home");
    std::process::Command::new(peer(name))
        .current_dir(dir)
        .args(args)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", &home)
        .env("DOCKER_CONFIG", home.join(".docker"))
        .env("TUF_ROOT", home.join(".sigstore"))
        .env("COSIGN_YES", "true")
        .env("COSIGN_PASSWORD", "pw")
        .env("HTTPS_PROXY", &proxy)
        .env("HTTP_PROXY", &proxy)
        .env("NO_PROXY", "127.0.0.1,localhost")
        .output()
        .unwrap_or_else(|e| panic!("run {name}: {e}"))
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Runs cosign and asserts it succeeded; returns stdout.
fn cosign_ok(name: &str, args: &[&str], dir: &Path) -> String {
    let out = cosign(name, args, dir);
    assert!(
        out.status.success(),
        "{name} {args:?} failed:\n{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    text(&out.stdout)
}

/// `kbundle verify --key KEY IMAGE -o json`; the parsed JSON, or None when it refused.
fn kbundle_verify(key: &str, image: &str, dir: &Path) -> Option<Value> {
    let (code, out, err) = kbundle(&["verify", image, "--key", key, "-o", "json"], dir);
    match code {
        0 => Some(last_json_line(&out)),
        1 => None,
        _ => panic!("kbundle verify exited {code}: {err}"),
    }
}

/// cosign prints an empty line before its JSON; kbundle only the JSON.
fn last_json_line(stdout: &str) -> Value {
    let line = stdout
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or_else(|| panic!("no JSON in {stdout:?}"));
    serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"))
}

/// Both verifiers accept `image` with `key` and print the same JSON, field by field.
fn both_verify_alike(cosign: &Cosign, key: &str, image: &str, dir: &Path) -> Value {
    let cosign_name = cosign.name;
    let theirs = cosign
        .verify(key, None, image, dir)
        .unwrap_or_else(|| panic!("{cosign_name} verify --key {key} {image} refused"));
    let ours = kbundle_verify(key, image, dir)
        .unwrap_or_else(|| panic!("kbundle verify --key {key} {image} refused"));
    assert_eq!(
        ours, theirs,
        "kbundle verify -o json differs from {cosign_name}'s"
    );
    ours
}

fn keygen(dir: &Path, prefix: &str) {
    let (code, _, err) = kbundle(&["keygen", "--output-key-prefix", prefix], dir);
    assert_eq!(code, 0, "{err}");
}

/// `cosign generate-key-pair` into `dir/NAME/` (cosign.key, cosign.pub); returns the folder.
fn cosign_keys(name: &str, dir: &Path) -> std::path::PathBuf {
    let keys = dir.join(format!("{name}-keys"));
    std::fs::create_dir_all(&keys).expect("mkdir");
    cosign_ok(name, &["generate-key-pair"], &keys);
    keys
}

#[test]
fn kbundle_signatures_verify_with_cosign_v2_and_v3_and_the_json_matches() {
    let registry = Registry::start();
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    keygen(d, "cosign");
    keygen(d, "release");
    let image = format!("{}/kb/root:v1", registry.addr);
    let digest = push(&image, d);
    for args in [
        vec!["sign", &image, "--key", "cosign.key"],
        vec![
            "sign",
            &image,
            "--key",
            "release.key",
            "--annotation",
            "approved=yes",
        ],
    ] {
        let (code, _, err) = kbundle(&args, d);
        assert_eq!(code, 0, "{err}");
    }

    for cosign in &COSIGNS {
        // Each key finds its own layer; the JSON is that one payload, as cosign prints it.
        let plain = both_verify_alike(cosign, "cosign.pub", &image, d);
        assert_eq!(plain.as_array().map(Vec::len), Some(1), "{plain}");
        assert_eq!(
            plain[0]["critical"]["image"]["docker-manifest-digest"],
            digest
        );
        assert_eq!(plain[0]["optional"], Value::Null, "{plain}");
        let approved = both_verify_alike(cosign, "release.pub", &image, d);
        assert_eq!(approved[0]["optional"]["approved"], "yes", "{approved}");
        // cosign checks the annotation kbundle signed, and refuses one it did not.
        let key = "release.pub";
        assert!(
            cosign
                .verify(key, Some("approved=yes"), &image, d)
                .is_some()
        );
        assert_eq!(cosign.verify(key, Some("approved=no"), &image, d), None);
    }

    // Another key: cosign refuses, so the checks above could fail.
    keygen(d, "stranger");
    for cosign in &COSIGNS {
        let refused = cosign.verify("stranger.pub", None, &image, d);
        assert_eq!(refused, None, "{}", cosign.name);
    }
    assert_eq!(kbundle_verify("stranger.pub", &image, d), None);
}

#[test]
fn cosign_v2_and_v3_signatures_verify_with_kbundle_and_promote() {
    let registry = Registry::start();
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    for cosign in &COSIGNS {
        let name = cosign.name;
        let keys = cosign_keys(name, d);
        let key = keys.join("cosign.key");
        let public = keys.join("cosign.pub");
        let (key, public) = (
            key.to_str().expect("utf-8"),
            public.to_str().expect("utf-8"),
        );
        let staging = format!("{}/staging/{name}:v1", registry.addr);
        let prod = format!("{}/prod/{name}:v1", registry.addr);
        let digest = push(&staging, d);
        let by_digest = format!("{}/staging/{name}@{digest}", registry.addr);
        cosign.sign(key, Some("team=web"), &by_digest, d);

        let json = both_verify_alike(cosign, public, &staging, d);
        assert_eq!(json[0]["optional"]["team"], "web", "{json}");
        let (code, _, err) = kbundle(
            &[
                "verify",
                &staging,
                "--key",
                public,
                "--annotation",
                "team=web",
            ],
            d,
        );
        assert_eq!(code, 0, "{err}");

        // promote verifies cosign's signature, copies the bundle and the signature, and cosign
        // accepts the copy.
        let (code, out, err) = kbundle(&["promote", &staging, &prod, "--key", public], d);
        assert_eq!(code, 0, "{name}: {err}");
        assert_eq!(out.trim(), format!("{prod}@{digest}"));
        both_verify_alike(cosign, public, &prod, d);
    }
    // A kbundle key does not verify cosign's signature, and promote refuses.
    keygen(d, "other");
    let staging = format!("{}/staging/cosign2:v1", registry.addr);
    assert_eq!(kbundle_verify("other.pub", &staging, d), None);
    let prod = format!("{}/prod/refused:v1", registry.addr);
    let (code, _, err) = kbundle(&["promote", &staging, &prod, "--key", "other.pub"], d);
    assert_eq!(code, 1, "{err}");
}

#[test]
fn keys_cross_over_between_kbundle_and_cosign() {
    let registry = Registry::start();
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    keygen(d, "kbundle");
    let kbundle_pub = std::fs::read_to_string(d.join("kbundle.pub")).expect("pub");
    for cosign in &COSIGNS {
        let name = cosign.name;
        // cosign decrypts kbundle's private key and derives the same public key.
        let derived = cosign_ok(name, &["public-key", "--key", "kbundle.key"], d);
        assert_eq!(derived.trim(), kbundle_pub.trim(), "{name} public-key");

        // cosign signs with kbundle's key; kbundle verifies that.
        let image = format!("{}/kb/{name}-signs:v1", registry.addr);
        let digest = push(&image, d);
        let by_digest = format!("{}/kb/{name}-signs@{digest}", registry.addr);
        cosign.sign("kbundle.key", None, &by_digest, d);
        both_verify_alike(cosign, "kbundle.pub", &image, d);

        // kbundle signs with cosign's key; cosign verifies that.
        let keys = cosign_keys(name, d);
        let key = keys.join("cosign.key");
        let public = keys.join("cosign.pub");
        let image = format!("{}/kb/kbundle-signs-{name}:v1", registry.addr);
        push(&image, d);
        let (code, _, err) = kbundle(&["sign", &image, "--key", key.to_str().expect("utf-8")], d);
        assert_eq!(code, 0, "{err}");
        both_verify_alike(cosign, public.to_str().expect("utf-8"), &image, d);
        // kbundle reads cosign's public key file as cosign wrote it.
        let theirs = std::fs::read_to_string(&public).expect("pub");
        assert!(theirs.starts_with("-----BEGIN PUBLIC KEY-----"), "{theirs}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_webhook_admits_what_cosign_v2_and_v3_signed() {
    let registry = Registry::start();
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    std::fs::create_dir(d.join("keys")).expect("keys dir");
    let r = &registry.addr;
    let mut digests = Vec::new();
    for cosign in &COSIGNS {
        let name = cosign.name;
        let keys = cosign_keys(name, d);
        std::fs::copy(keys.join("cosign.pub"), d.join(format!("keys/{name}.pub")))
            .expect("copy key");
        let image = format!("{r}/kb/{name}:v1");
        let digest = push(&image, d);
        let key = keys.join("cosign.key");
        let by_digest = format!("{r}/kb/{name}@{digest}");
        cosign.sign(key.to_str().expect("utf-8"), None, &by_digest, d);
        digests.push((name, digest));
    }
    let unsigned_digest = push(&format!("{r}/kb/unsigned:v1"), d);

    let certs = Certs::new("peer-cosign");
    certs.install(d);
    let webhook = Webhook::start(d, &certs, &["--key", "keys"]);
    let ask = |repo: String, digest: String, uid: &'static str| {
        let webhook = &webhook;
        async move {
            let image = format!("{r}/{repo}:v1");
            let body = review(&image, &format!("{image}@{digest}"), "", "v1", uid);
            let (status, answer) = webhook.post("/validate", body).await;
            assert_eq!(status, 200);
            response(&answer, "v1", uid).clone()
        }
    };
    for (name, digest) in digests {
        let answer = ask(format!("kb/{name}"), digest, "uid-signed").await;
        assert_eq!(answer["allowed"], true, "signed by {name}: {answer}");
    }
    let denied = ask("kb/unsigned".to_owned(), unsigned_digest, "uid-unsigned").await;
    assert_eq!(denied["allowed"], false, "{denied}");
    assert!(message(&denied).contains("no signatures"), "{denied}");
}
