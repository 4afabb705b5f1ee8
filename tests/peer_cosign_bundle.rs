//! cosign v3's Sigstore bundles, both directions, with the real cosign v3 (and v2) on both real
//! registries (Debian's docker-registry and `crane registry serve`; neither serves the
//! referrers API, so the referrers fallback tag `sha256-<hex>` is what both sides read and
//! write).

mod support;
mod webhook_support;

use std::path::Path;
use std::process::Command;

use serde_json::Value;
use support::peers::peer;
use support::{Kind, Registry};
use webhook_support::{Certs, Webhook, kbundle, message, push, response, review};

// Against both registry implementations (`distribution::…`, `crane::…`).
on_each_registry!(
    cosign3_keyed_bundles_pass_kbundle_verify_promote_and_the_webhook,
    kbundle_bundles_pass_cosign3_and_both_formats_pass_cosign2_and_cosign3,
    concurrent_signers_on_the_real_registry_all_end_up_listed,
);

/// A peer run in `dir` (also its HOME), with the key password kbundle's helpers use.
fn cosign(tool: &str, args: &[&str], dir: &Path) -> (i32, String, String) {
    let out = Command::new(peer(tool))
        .current_dir(dir)
        .args(args)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", dir)
        .env("DOCKER_CONFIG", dir.join(".docker"))
        .env("COSIGN_YES", "true")
        .env("TUF_ROOT", dir.join(".sigstore"))
        .env("COSIGN_PASSWORD", "pw")
        .output()
        .unwrap_or_else(|e| panic!("run {tool}: {e}"));
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn ok(result: (i32, String, String), what: &str) -> String {
    let (code, out, err) = result;
    assert_eq!(code, 0, "{what}: {out}\n{err}");
    out
}

/// cosign v3's keyed signature without a transparency log: a bundle in a referrer.
fn cosign3_sign(image: &str, key: &str, extra: &[&str], dir: &Path) {
    let mut args = vec![
        "sign",
        "--key",
        key,
        "--use-signing-config=false",
        "--tlog-upload=false",
    ];
    args.extend_from_slice(extra);
    args.push(image);
    ok(cosign("cosign3", &args, dir), "cosign3 sign");
}

fn cosign3_verify(image: &str, key: &str, extra: &[&str], dir: &Path) -> (i32, String, String) {
    let mut args = vec![
        "verify",
        "--key",
        key,
        "--insecure-ignore-tlog",
        "-o",
        "json",
    ];
    args.extend_from_slice(extra);
    args.push(image);
    cosign("cosign3", &args, dir)
}

fn tags(repo: &str, dir: &Path) -> Vec<String> {
    ok(
        cosign("crane", &["ls", "--insecure", repo], dir),
        "crane ls",
    )
    .lines()
    .map(str::to_owned)
    .collect()
}

fn crane_manifest(reference: &str, dir: &Path) -> String {
    ok(
        cosign("crane", &["manifest", "--insecure", reference], dir),
        "crane manifest",
    )
}

fn fallback_tag(digest: &str) -> String {
    digest.replace(':', "-")
}

fn cosign3_keyed_bundles_pass_kbundle_verify_promote_and_the_webhook(kind: Kind) {
    let registry = Registry::start_kind(kind);
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    ok(
        cosign("cosign3", &["generate-key-pair"], d),
        "cosign3 generate-key-pair",
    );
    let r = &registry.addr;
    let image = format!("{r}/staging/root:v1");
    let digest = push(&image, d);
    cosign3_sign(
        &format!("{r}/staging/root@{digest}"),
        "cosign.key",
        &["-a", "team=web"],
        d,
    );

    // cosign v3 wrote no .sig tag, only the referrers fallback tag.
    let listed = tags(&format!("{r}/staging/root"), d);
    assert!(listed.contains(&fallback_tag(&digest)), "{listed:?}");
    assert!(!listed.iter().any(|t| t.ends_with(".sig")), "{listed:?}");

    // verify: the same JSON as cosign v3 prints.
    let theirs = ok(
        cosign3_verify(&image, "cosign.pub", &[], d),
        "cosign3 verify",
    );
    let (code, ours, err) = kbundle(&["verify", &image, "--key", "cosign.pub", "-o", "json"], d);
    assert_eq!(code, 0, "{err}");
    assert_eq!(ours.trim(), theirs.trim());
    let parsed: Value = serde_json::from_str(ours.trim()).expect("json");
    assert_eq!(
        parsed[0]["critical"]["type"],
        "https://sigstore.dev/cosign/sign/v1"
    );
    assert_eq!(parsed[0]["optional"]["team"], "web");
    let (code, _, err) = kbundle(
        &[
            "verify",
            &image,
            "--key",
            "cosign.pub",
            "--annotation",
            "team=db",
        ],
        d,
    );
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("team=db required but the statement has team=web"),
        "{err}"
    );

    // A key that did not sign it.
    ok(
        cosign(
            "cosign3",
            &["generate-key-pair", "--output-key-prefix", "other"],
            d,
        ),
        "cosign3 generate-key-pair",
    );
    let (code, _, err) = kbundle(&["verify", &image, "--key", "other.pub"], d);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("signature does not match key"), "{err}");

    // promote: the referrer and its blobs arrive byte for byte, and verify there.
    let prod = format!("{r}/prod/root:v1");
    let (code, out, err) = kbundle(&["promote", &image, &prod, "--key", "cosign.pub"], d);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out.trim(), format!("{r}/prod/root:v1@{digest}"));
    let src_index = crane_manifest(&format!("{r}/staging/root:{}", fallback_tag(&digest)), d);
    let dst_index = crane_manifest(&format!("{r}/prod/root:{}", fallback_tag(&digest)), d);
    let referrer =
        serde_json::from_str::<Value>(&src_index).expect("index")["manifests"][0]["digest"]
            .as_str()
            .expect("digest")
            .to_owned();
    assert!(dst_index.contains(&referrer), "{dst_index}");
    let src_manifest = crane_manifest(&format!("{r}/staging/root@{referrer}"), d);
    let dst_manifest = crane_manifest(&format!("{r}/prod/root@{referrer}"), d);
    assert_eq!(src_manifest, dst_manifest);
    let layer: Value = serde_json::from_str(&src_manifest).expect("manifest");
    for blob in [&layer["config"]["digest"], &layer["layers"][0]["digest"]] {
        let blob = blob.as_str().expect("digest");
        let a = ok(
            cosign(
                "crane",
                &["blob", "--insecure", &format!("{r}/staging/root@{blob}")],
                d,
            ),
            "blob",
        );
        let b = ok(
            cosign(
                "crane",
                &["blob", "--insecure", &format!("{r}/prod/root@{blob}")],
                d,
            ),
            "blob",
        );
        assert_eq!(a, b);
    }
    ok(
        cosign3_verify(&prod, "cosign.pub", &[], d),
        "cosign3 verify at the destination",
    );

    // The webhook admits it on the bundle alone, and refuses it with another key.
    let certs = Certs::new("kbundle");
    certs.install(d);
    let webhook = Webhook::start(d, &certs, &["--key", "cosign.pub"]);
    let body = review(&prod, &format!("{prod}@{digest}"), "", "v1", "bundle");
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let (status, answer) = rt.block_on(webhook.post("/validate", body));
    assert_eq!(status, 200);
    let allowed = response(&answer, "v1", "bundle");
    assert_eq!(allowed["allowed"], true, "{answer}");
    drop(webhook);
    let other = Webhook::start(d, &certs, &["--key", "other.pub"]);
    let body = review(&prod, &format!("{prod}@{digest}"), "", "v1", "other");
    let (_, answer) = rt.block_on(other.post("/validate", body));
    let denied = response(&answer, "v1", "other");
    assert_eq!(denied["allowed"], false, "{answer}");
    assert!(message(denied).contains("does not match key"), "{answer}");
}

fn kbundle_bundles_pass_cosign3_and_both_formats_pass_cosign2_and_cosign3(kind: Kind) {
    let registry = Registry::start_kind(kind);
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let (code, _, err) = kbundle(&["keygen"], d);
    assert_eq!(code, 0, "{err}");
    let r = &registry.addr;

    // bundle: cosign v3 verifies it, annotation included; no .sig tag is written.
    let image = format!("{r}/kb/bundle:v1");
    let digest = push(&image, d);
    let sign = [
        "sign",
        &image,
        "--key",
        "cosign.key",
        "--signature-format",
        "bundle",
        "--annotation",
        "team=web",
    ];
    let (code, out, err) = kbundle(&sign, d);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.trim().starts_with(&format!("{r}/kb/bundle@sha256:")),
        "{out}"
    );
    let listed = tags(&format!("{r}/kb/bundle"), d);
    assert!(listed.contains(&fallback_tag(&digest)), "{listed:?}");
    assert!(!listed.iter().any(|t| t.ends_with(".sig")), "{listed:?}");
    let verified = ok(
        cosign3_verify(&image, "cosign.pub", &["-a", "team=web"], d),
        "cosign3 verify of kbundle's bundle",
    );
    assert!(verified.contains(&digest), "{verified}");
    // Signing again writes nothing new.
    let (code, _, err) = kbundle(&sign, d);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("nothing written"), "{err}");
    let index = crane_manifest(&format!("{r}/kb/bundle:{}", fallback_tag(&digest)), d);
    let entries = serde_json::from_str::<Value>(&index).expect("index")["manifests"]
        .as_array()
        .map_or(0, Vec::len);
    assert_eq!(entries, 1, "{index}");

    // both: cosign v3 and v2 both verify (v2.6 reads the bundle once there is one; it wants a
    // trusted root for that, which a keyed signature without a log does not use).
    let image = format!("{r}/kb/both:v1");
    push(&image, d);
    let (code, _, err) = kbundle(
        &[
            "sign",
            &image,
            "--key",
            "cosign.key",
            "--signature-format",
            "both",
        ],
        d,
    );
    assert_eq!(code, 0, "{err}");
    ok(
        cosign3_verify(&image, "cosign.pub", &[], d),
        "cosign3 verify of both",
    );
    let root = d.join("trusted_root.json");
    std::fs::write(
        &root,
        r#"{"mediaType":"application/vnd.dev.sigstore.trustedroot+json;version=0.1"}"#,
    )
    .expect("write trusted root");
    let root = root.to_str().expect("utf-8");
    ok(
        cosign(
            "cosign2",
            &[
                "verify",
                "--key",
                "cosign.pub",
                "--insecure-ignore-tlog",
                "--trusted-root",
                root,
                &image,
            ],
            d,
        ),
        "cosign2 verify of both",
    );
    let listed = tags(&format!("{r}/kb/both"), d);
    assert!(listed.iter().any(|t| t.ends_with(".sig")), "{listed:?}");
    let (code, out, err) = kbundle(&["verify", &image, "--key", "cosign.pub", "-o", "json"], d);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("2 of 2 signature(s) verified"), "{err}");
    let printed: Value = serde_json::from_str(out.trim()).expect("json");
    assert_eq!(
        printed[0]["critical"]["type"],
        "cosign container image signature"
    );
    assert_eq!(
        printed[1]["critical"]["type"],
        "https://sigstore.dev/cosign/sign/v1"
    );
}

fn concurrent_signers_on_the_real_registry_all_end_up_listed(kind: Kind) {
    let registry = Registry::start_kind(kind);
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let keys = d.join("keys");
    std::fs::create_dir(&keys).expect("keys");
    const SIGNERS: usize = 4;
    for n in 0..SIGNERS {
        let prefix = format!("k{n}");
        let (code, _, err) = kbundle(&["keygen", "--output-key-prefix", &prefix], d);
        assert_eq!(code, 0, "{err}");
        std::fs::copy(
            d.join(format!("{prefix}.pub")),
            keys.join(format!("{prefix}.pub")),
        )
        .expect("copy");
    }
    let r = &registry.addr;
    for round in 0..2 {
        let image = format!("{r}/kb/race{round}:v1");
        push(&image, d);
        // Every signer writes both formats at once: the .sig append and the fallback index.
        std::thread::scope(|s| {
            let signers: Vec<_> = (0..SIGNERS)
                .map(|n| {
                    let image = &image;
                    s.spawn(move || {
                        let key = format!("k{n}.key");
                        kbundle(
                            &["sign", image, "--key", &key, "--signature-format", "both"],
                            d,
                        )
                    })
                })
                .collect();
            for signer in signers {
                let (code, _, err) = signer.join().expect("signer");
                assert_eq!(code, 0, "{err}");
            }
        });
        let (code, _, err) = kbundle(
            &["verify", &image, "--key", keys.to_str().expect("utf-8")],
            d,
        );
        assert_eq!(code, 0, "{err}");
        let all = SIGNERS * 2;
        assert!(
            err.contains(&format!("{all} of {all} signature(s) verified")),
            "round {round}: a signature was lost:\n{err}"
        );
    }
}
