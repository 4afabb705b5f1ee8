//! The real oras (v1.3.6) reads what `kbundle push --artifact oras` writes, on both registry
//! implementations: `oras pull` gives the bundle as the file the layer title names, which
//! unpacks to the source files, and `oras manifest fetch` shows the artifact type, the empty
//! config and the annotations the README documents.

mod support;

use std::path::Path;
use std::process::Command;

use serde_json::{Value, json};
use support::peers::run_peer;
use support::trees::{assert_same_trees, examples_bundle};
use support::{Kind, Registry, examples};

on_each_registry!(oras_pulls_the_files_and_sees_the_documented_manifest);

fn oras(args: &[&str], home: &Path) -> String {
    let out = run_peer("oras", args, home, &[]);
    assert!(
        out.status.success(),
        "oras {args:?}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn oras_pulls_the_files_and_sees_the_documented_manifest(kind: Kind) {
    let registry = Registry::start_kind(kind);
    let dir = tempfile::tempdir().expect("tempdir");
    let image = format!("{}/kb/oras:v1", registry.addr);
    let out = assert_cmd::Command::cargo_bin("kbundle")
        .expect("binary")
        .args([
            "push",
            examples().to_str().expect("utf-8"),
            "--image",
            &image,
        ])
        .args(["--artifact", "oras", "--annotation", "team=web"])
        .args([
            "--source",
            "https://github.com/acme/fleet",
            "--revision",
            "abc123",
        ])
        .env("SOURCE_DATE_EPOCH", "1700000000")
        .env("DOCKER_CONFIG", "/nonexistent-docker-config")
        .env_remove("GITHUB_SHA")
        .env_remove("GITHUB_REPOSITORY")
        .output()
        .expect("run kbundle");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let printed = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    let digest = printed
        .rsplit_once('@')
        .map(|(_, d)| d)
        .expect("REF@DIGEST");

    // oras pull writes each titled layer under its title: the bundle, one gzipped tar.
    let pulled = dir.path().join("pulled");
    let pulled_arg = pulled.to_str().expect("utf-8");
    oras(
        &["pull", "--plain-http", &image, "-o", pulled_arg],
        dir.path(),
    );
    let names: Vec<String> = std::fs::read_dir(&pulled)
        .expect("pulled")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["manifests.tar.gz"]);
    let files = dir.path().join("files");
    std::fs::create_dir(&files).expect("mkdir");
    let status = Command::new("tar")
        .args(["-x", "-z", "-p", "--no-same-owner", "-f"])
        .arg(pulled.join("manifests.tar.gz"))
        .arg("-C")
        .arg(&files)
        .status()
        .expect("tar");
    assert!(status.success());
    // And kbundle pull unpacks the same artifact the same way.
    let ours = dir.path().join("ours");
    let (code, _, err) = support::run_clean(
        &["pull", &image, "-o", ours.to_str().expect("utf-8")],
        &[],
        &[],
    );
    assert_eq!(code, 0, "{err}");
    assert_same_trees(&examples_bundle(), &ours, &files);

    // oras manifest fetch: what the README documents for --artifact oras.
    let manifest: Value = serde_json::from_str(&oras(
        &["manifest", "fetch", "--plain-http", &image],
        dir.path(),
    ))
    .expect("manifest json");
    assert_eq!(
        manifest["mediaType"],
        "application/vnd.oci.image.manifest.v1+json"
    );
    assert_eq!(
        manifest["artifactType"],
        "application/vnd.kbundle.manifests.v1"
    );
    assert_eq!(
        manifest["config"],
        json!({
            "mediaType": "application/vnd.oci.empty.v1+json",
            "digest": "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a",
            "size": 2
        })
    );
    let layers = manifest["layers"].as_array().expect("layers");
    assert_eq!(layers.len(), 1, "{manifest}");
    assert_eq!(
        layers[0]["mediaType"],
        "application/vnd.oci.image.layer.v1.tar+gzip"
    );
    assert_eq!(
        layers[0]["annotations"],
        json!({"org.opencontainers.image.title": "manifests.tar.gz"})
    );
    assert_eq!(
        manifest["annotations"],
        json!({
            "org.opencontainers.image.created": "2023-11-14T22:13:20Z",
            "org.opencontainers.image.source": "https://github.com/acme/fleet",
            "org.opencontainers.image.revision": "abc123",
            "team": "web"
        })
    );
    let descriptor: Value = serde_json::from_str(&oras(
        &["manifest", "fetch", "--plain-http", "--descriptor", &image],
        dir.path(),
    ))
    .expect("descriptor json");
    assert_eq!(
        descriptor["digest"], digest,
        "oras sees the digest kbundle printed"
    );
}
