//! Config Sync's extraction is go-containerregistry's layer flattening (`crane export`, which
//! its oci-sync uses through `mutate.Extract`). On an awkward source tree, on both registry
//! implementations, `crane export | tar -x`, `kbundle pull` and the source folder minus its
//! ignored files agree on paths, bytes and modes.

mod support;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use support::crane::crane_export;
use support::trees::{assert_same_trees, bundled};
use support::{Kind, Registry, run_clean};

on_each_registry!(
    crane_export_and_kbundle_pull_agree_on_an_awkward_tree,
    the_referrers_api_is_not_served,
);

/// Names tar formats trip over (past ustar's 100-byte name and 155-byte prefix, spaces,
/// non-ASCII), an empty file, a megabyte of incompressible bytes, an executable, and what
/// must be left out: `.git`, a nested `.kbundleignore`'s patterns, `--ignore`.
fn awkward_tree(root: &Path) {
    let long_dir = format!("deep/{}/{}", "d".repeat(90), "e".repeat(90));
    let long_name = format!("{}.yaml", "n".repeat(120));
    let mut noise = Vec::with_capacity(1 << 20);
    let mut x: u32 = 2_463_534_242;
    while noise.len() < 1 << 20 {
        // xorshift: bytes gzip cannot shrink, without a random-number crate.
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        noise.extend_from_slice(&x.to_le_bytes());
    }
    let files: Vec<(String, Vec<u8>)> = vec![
        (
            "namespace.yaml".into(),
            b"apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop\n".to_vec(),
        ),
        (
            format!("{long_dir}/{long_name}"),
            b"kind: ConfigMap\n".to_vec(),
        ),
        (
            "with space/caf\u{e9} \u{1f600}.yaml".into(),
            b"a: 1\n".to_vec(),
        ),
        ("empty.yaml".into(), Vec::new()),
        ("blobs/noise.bin".into(), noise),
        ("scripts/run.sh".into(), b"#!/bin/sh\necho hi\n".to_vec()),
        ("nested/.kbundleignore".into(), b"*.tmp\n".to_vec()),
        ("nested/keep.yaml".into(), b"keep: true\n".to_vec()),
        ("nested/drop.tmp".into(), b"left out\n".to_vec()),
        (".git/config".into(), b"[core]\n".to_vec()),
        ("secret.env".into(), b"TOKEN=x\n".to_vec()),
    ];
    for (path, bytes) in files {
        let path = root.join(path);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(&path, bytes).expect("write");
    }
    std::fs::set_permissions(
        root.join("scripts/run.sh"),
        std::fs::Permissions::from_mode(0o755),
    )
    .expect("chmod");
    // Group-writable and owner-only modes are normalised too.
    std::fs::set_permissions(
        root.join("empty.yaml"),
        std::fs::Permissions::from_mode(0o600),
    )
    .expect("chmod");
}

fn crane_export_and_kbundle_pull_agree_on_an_awkward_tree(kind: Kind) {
    let registry = Registry::start_kind(kind);
    let dir = tempfile::tempdir().expect("tempdir");
    let source = dir.path().join("source");
    awkward_tree(&source);
    let image = format!("{}/kb/awkward:v1", registry.addr);
    let source_arg = source.to_str().expect("utf-8");
    let (code, _, err) = run_clean(
        &[
            "push",
            source_arg,
            "--image",
            &image,
            "--no-validate",
            "--ignore",
            "secret.env",
        ],
        &[],
        &[],
    );
    assert_eq!(code, 0, "{err}");

    let pulled = dir.path().join("pulled");
    let (code, _, err) = run_clean(
        &["pull", &image, "-o", pulled.to_str().expect("utf-8")],
        &[],
        &[],
    );
    assert_eq!(code, 0, "{err}");
    let exported = crane_export(&image);

    let expected = bundled(&source, |path| {
        !path.starts_with(".git/")
            && path != "nested/.kbundleignore"
            && path != "nested/drop.tmp"
            && path != "secret.env"
    });
    assert!(
        expected.keys().any(|p| p.len() > 255),
        "the tree must have a path past ustar's limits"
    );
    assert_same_trees(&expected, &pulled, exported.path());
}

/// Neither registry serves the OCI 1.1 referrers API (`GET /v2/<name>/referrers/<digest>`):
/// distribution 2.8 predates it, and go-containerregistry's registry has it only behind
/// `registry.WithReferrersSupport(true)`, which `crane registry serve` (v0.22.1) does not set.
/// Signatures stored as referrers (cosign v3 bundles) reach these registries only through the
/// referrers tag fallback (`sha256-<hex>`). Should a newer pin serve the API, this fails:
/// then the referrers path can be tested on it directly.
fn the_referrers_api_is_not_served(kind: Kind) {
    let registry = Registry::start_kind(kind);
    let image = format!("{}/kb/referrers:v1", registry.addr);
    let examples = support::examples();
    let (code, out, err) = run_clean(
        &["push", examples.to_str().expect("utf-8"), "--image", &image],
        &[],
        &[],
    );
    assert_eq!(code, 0, "{err}");
    let digest = out
        .trim()
        .rsplit_once('@')
        .map(|(_, d)| d)
        .expect("REF@DIGEST");
    let agent = ureq::Agent::new_with_config(
        ureq::Agent::config_builder()
            .http_status_as_error(false)
            .build(),
    );
    let url = format!(
        "http://{}/v2/kb/referrers/referrers/{digest}",
        registry.addr
    );
    let response = agent.get(&url).call().expect("GET referrers");
    assert_eq!(
        response.status().as_u16(),
        404,
        "{kind:?} now answers the referrers API: test cosign v3's referrers path against it"
    );
}
