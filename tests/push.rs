//! `kbundle push` and `pull` against a real registry, read back by an independent client.

mod support;

use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use serde_json::Value;
use support::crane::crane_export;
use support::trees::{assert_same_trees, examples_bundle, files};
use support::{Kind, Registry, examples, skopeo, tree};

// The registry tests that matter run against both implementations (`distribution::…`,
// `crane::…`): Debian's distribution server and go-containerregistry's.
on_each_registry!(
    push_then_skopeo_and_tar_read_back_the_same_files,
    pull_and_config_sync_extraction_give_the_source_files,
    flux_and_oras_artifacts_carry_their_media_types,
    invalid_manifests_are_not_pushed,
    a_push_that_dies_half_way_leaves_no_tag,
);

fn kbundle(args: &[&str]) -> (i32, String, String) {
    kbundle_with(args, &[], None)
}

fn kbundle_with(args: &[&str], env: &[(&str, &str)], stdin: Option<&str>) -> (i32, String, String) {
    let mut cmd = assert_cmd::Command::cargo_bin("kbundle").expect("binary");
    cmd.args(args)
        .env("SOURCE_DATE_EPOCH", "1700000000")
        .env("DOCKER_CONFIG", "/nonexistent-docker-config")
        .env_remove("GITHUB_SHA")
        .env_remove("GITHUB_REPOSITORY");
    for (k, v) in env {
        cmd.env(k, v);
    }
    if let Some(input) = stdin {
        cmd.write_stdin(input);
    }
    let out = cmd.output().expect("run kbundle");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn raw_manifest(image: &str) -> Value {
    let out = skopeo(&["inspect", "--raw", &format!("docker://{image}")]);
    assert!(
        out.status.success(),
        "skopeo: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("manifest json")
}

/// The bundled files: what examples/ holds minus its .kbundleignore entries.
fn expected_files() -> std::collections::BTreeMap<String, Vec<u8>> {
    files(&examples_bundle())
}

/// Copies an image out with skopeo and unpacks its layer with the system tar.
fn unpack_with_skopeo_and_tar(image: &str) -> std::collections::BTreeMap<String, Vec<u8>> {
    let dir = tempfile::tempdir().expect("tempdir");
    let layout = dir.path().join("layout");
    let out = skopeo(&[
        "copy",
        &format!("docker://{image}"),
        &format!("oci:{}:x", layout.display()),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let index: Value =
        serde_json::from_slice(&std::fs::read(layout.join("index.json")).expect("index"))
            .expect("json");
    let manifest_digest = index["manifests"][0]["digest"].as_str().expect("digest");
    let blob = |d: &str| {
        layout
            .join("blobs/sha256")
            .join(d.trim_start_matches("sha256:"))
    };
    let manifest: Value =
        serde_json::from_slice(&std::fs::read(blob(manifest_digest)).expect("manifest"))
            .expect("json");
    let layer = blob(manifest["layers"][0]["digest"].as_str().expect("layer"));
    let files = dir.path().join("files");
    std::fs::create_dir(&files).expect("mkdir");
    let status = Command::new("tar")
        .arg("-xzf")
        .arg(&layer)
        .arg("-C")
        .arg(&files)
        .status()
        .expect("tar");
    assert!(status.success());
    // Config Sync's extractor needs each directory before its files.
    let listing = Command::new("tar")
        .arg("-tzf")
        .arg(&layer)
        .output()
        .expect("tar -t");
    let names: Vec<String> = String::from_utf8_lossy(&listing.stdout)
        .lines()
        .map(str::to_owned)
        .collect();
    for (i, name) in names.iter().enumerate() {
        if let Some((parent, _)) = name.trim_end_matches('/').rsplit_once('/') {
            let dir_entry = format!("{parent}/");
            let at = names.iter().position(|n| *n == dir_entry);
            assert!(
                at.is_some_and(|at| at < i),
                "{dir_entry} must come before {name}: {names:?}"
            );
        }
    }
    tree(&files)
}

fn push_then_skopeo_and_tar_read_back_the_same_files(kind: Kind) {
    let registry = Registry::start_kind(kind);
    let image = format!("{}/kbundle/root:v1", registry.addr);
    let (code, stdout, stderr) = kbundle(&[
        "push",
        examples().to_str().unwrap_or("."),
        "--image",
        &image,
    ]);
    assert_eq!(code, 0, "{stderr}");
    let printed = stdout.trim();
    assert!(
        printed.starts_with(&format!("{image}@sha256:")),
        "{printed}"
    );

    let manifest = raw_manifest(&image);
    assert_eq!(
        manifest["mediaType"],
        "application/vnd.oci.image.manifest.v1+json"
    );
    assert_eq!(
        manifest["config"]["mediaType"],
        "application/vnd.oci.image.config.v1+json"
    );
    assert_eq!(
        manifest["layers"][0]["mediaType"],
        "application/vnd.oci.image.layer.v1.tar+gzip"
    );
    assert_eq!(
        manifest["annotations"]["org.opencontainers.image.created"],
        "2023-11-14T22:13:20Z"
    );
    let inspect = skopeo(&["inspect", &format!("docker://{image}")]);
    let inspect: Value = serde_json::from_slice(&inspect.stdout).expect("inspect json");
    assert_eq!(
        format!("{image}@{}", inspect["Digest"].as_str().unwrap_or("")),
        printed
    );

    assert_eq!(unpack_with_skopeo_and_tar(&image), expected_files());

    // Pushing again uploads nothing and gives the same digest.
    let (code, again, stderr) = kbundle(&[
        "-v",
        "push",
        examples().to_str().unwrap_or("."),
        "--image",
        &image,
    ]);
    assert_eq!(code, 0);
    assert_eq!(again, stdout);
    assert!(
        stderr.contains("0 blobs uploaded (0 bytes), 2 already there"),
        "{stderr}"
    );
}

/// `kbundle pull`, Config Sync's extraction (`crane export | tar -x`) and the source folder
/// minus its ignored files agree on paths, bytes and modes.
fn pull_and_config_sync_extraction_give_the_source_files(kind: Kind) {
    let registry = Registry::start_kind(kind);
    let image = format!("{}/kbundle/root:v2", registry.addr);
    assert_eq!(
        kbundle(&[
            "push",
            examples().to_str().unwrap_or("."),
            "--image",
            &image
        ])
        .0,
        0
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let dest = dir.path().join("out");
    let (code, stdout, stderr) = kbundle(&["pull", &image, "-o", dest.to_str().unwrap_or("out")]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.starts_with(&format!("{}/kbundle/root@sha256:", registry.addr)),
        "{stdout}"
    );
    let exported = crane_export(&image);
    assert_same_trees(&examples_bundle(), &dest, exported.path());
    // A second pull into the now non-empty folder is refused, and changes nothing.
    let (code, _, stderr) = kbundle(&["pull", &image, "-o", dest.to_str().unwrap_or("out")]);
    assert_eq!(code, 2);
    assert!(stderr.contains("not empty"), "{stderr}");
}

fn flux_and_oras_artifacts_carry_their_media_types(kind: Kind) {
    let registry = Registry::start_kind(kind);
    let flux = format!("{}/kbundle/flux:v1", registry.addr);
    let (code, _, stderr) = kbundle(&[
        "push",
        examples().to_str().unwrap_or("."),
        "--image",
        &flux,
        "--artifact",
        "flux",
        "--annotation",
        "team=web=blue",
        "--source",
        "https://github.com/o/r",
        "--revision",
        "abc",
    ]);
    assert_eq!(code, 0, "{stderr}");
    let m = raw_manifest(&flux);
    assert_eq!(
        m["config"]["mediaType"],
        "application/vnd.cncf.flux.config.v1+json"
    );
    assert_eq!(
        m["layers"][0]["mediaType"],
        "application/vnd.cncf.flux.content.v1.tar+gzip"
    );
    assert_eq!(m["annotations"]["team"], "web=blue");
    assert_eq!(
        m["annotations"]["org.opencontainers.image.source"],
        "https://github.com/o/r"
    );
    assert_eq!(m["annotations"]["org.opencontainers.image.revision"], "abc");

    let oras = format!("{}/kbundle/oras:v1", registry.addr);
    assert_eq!(
        kbundle(&[
            "push",
            examples().to_str().unwrap_or("."),
            "--image",
            &oras,
            "--artifact",
            "oras"
        ])
        .0,
        0
    );
    let m = raw_manifest(&oras);
    assert!(m["artifactType"].is_string(), "{m}");
    assert_eq!(
        m["config"]["mediaType"],
        "application/vnd.oci.empty.v1+json"
    );
    assert!(m["layers"][0]["annotations"]["org.opencontainers.image.title"].is_string());
}

#[test]
fn github_actions_environment_fills_source_and_revision() {
    let registry = Registry::start();
    let image = format!("{}/kbundle/gh:v1", registry.addr);
    let env = [
        ("GITHUB_SERVER_URL", "https://github.com"),
        ("GITHUB_REPOSITORY", "acme/fleet"),
        ("GITHUB_SHA", "0123abcd"),
    ];
    let (code, _, stderr) = kbundle_with(
        &[
            "push",
            examples().to_str().unwrap_or("."),
            "--image",
            &image,
        ],
        &env,
        None,
    );
    assert_eq!(code, 0, "{stderr}");
    let m = raw_manifest(&image);
    assert_eq!(
        m["annotations"]["org.opencontainers.image.source"],
        "https://github.com/acme/fleet"
    );
    assert_eq!(
        m["annotations"]["org.opencontainers.image.revision"],
        "0123abcd"
    );
}

fn invalid_manifests_are_not_pushed(kind: Kind) {
    let registry = Registry::start_kind(kind);
    let image = format!("{}/kbundle/bad:v1", registry.addr);
    let bad =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/validate/invalid-replicas.yaml");
    let (code, stdout, stderr) = kbundle(&["push", bad.to_str().unwrap_or("."), "--image", &image]);
    assert_eq!(code, 1);
    assert_eq!(stdout, "");
    assert!(stderr.contains("invalid-replicas.yaml:6:13"), "{stderr}");
    assert!(stderr.contains("not pushed"), "{stderr}");
    assert!(
        !skopeo(&["inspect", &format!("docker://{image}")])
            .status
            .success()
    );
    // --no-validate pushes anyway.
    assert_eq!(
        kbundle(&[
            "push",
            bad.to_str().unwrap_or("."),
            "--image",
            &image,
            "--no-validate"
        ])
        .0,
        0
    );
}

#[test]
fn password_registries_need_credentials_and_never_print_them() {
    let secret = "s3cret-Passw0rd";
    let registry = Registry::with_password("ci", secret);
    let image = format!("{}/kbundle/private:v1", registry.addr);
    let path = examples();
    let path = path.to_str().unwrap_or(".");

    let (code, _, stderr) = kbundle(&["push", path, "--image", &image]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("log in"), "{stderr}");

    let (code, stdout, stderr) = kbundle_with(
        &[
            "-vvv",
            "push",
            path,
            "--image",
            &image,
            "--username",
            "ci",
            "--password-stdin",
        ],
        &[],
        Some(&format!("{secret}\n")),
    );
    assert_eq!(code, 0, "{stderr}");
    assert!(
        !stdout.contains(secret) && !stderr.contains(secret),
        "the password leaked"
    );

    // The docker config's `auths` entry works too.
    let config = tempfile::tempdir().expect("tempdir");
    let auth = base64_encode(&format!("ci:{secret}"));
    std::fs::write(
        config.path().join("config.json"),
        format!(r#"{{"auths":{{"{}":{{"auth":"{auth}"}}}}}}"#, registry.addr),
    )
    .expect("write config");
    let dir = config.path().to_str().unwrap_or(".");
    let (code, _, stderr) = kbundle_with(
        &["push", path, "--image", &image],
        &[("DOCKER_CONFIG", dir)],
        None,
    );
    assert_eq!(code, 0, "{stderr}");
    let out = skopeo(&[
        "inspect",
        "--creds",
        &format!("ci:{secret}"),
        &format!("docker://{image}"),
    ]);
    assert!(out.status.success());
}

fn base64_encode(s: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(s)
}

#[test]
fn oci_layout_targets_need_no_registry_and_skopeo_reads_them() {
    let dir = tempfile::tempdir().expect("tempdir");
    let layout = dir.path().join("layout");
    let image = format!("oci-layout:{}:v1", layout.display());
    let (code, stdout, stderr) = kbundle(&[
        "push",
        examples().to_str().unwrap_or("."),
        "--image",
        &image,
    ]);
    assert_eq!(code, 0, "{stderr}");
    let digest = stdout
        .trim()
        .rsplit_once('@')
        .map(|(_, d)| d.to_owned())
        .unwrap_or_default();
    let out = skopeo(&["inspect", &format!("oci:{}:v1", layout.display())]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let inspect: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(inspect["Digest"], digest.as_str());

    let dest = dir.path().join("unpacked");
    let (code, _, stderr) = kbundle(&["pull", &image, "-o", dest.to_str().unwrap_or("x")]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(tree(&dest), expected_files());
}

#[test]
fn the_same_files_give_the_same_digest_anywhere() {
    // Two copies of the examples, made at different times with different permissions.
    let a = tempfile::tempdir().expect("tempdir");
    let b = tempfile::tempdir().expect("tempdir");
    for (name, content) in expected_files().iter().rev() {
        let p = b.path().join(name);
        std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
        std::fs::write(&p, content).expect("write");
    }
    for (name, content) in expected_files() {
        let p = a.path().join(&name);
        std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
        std::fs::write(&p, content).expect("write");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600)).expect("chmod");
        }
    }
    let push = |dir: &Path| {
        let target = tempfile::tempdir().expect("tempdir");
        let image = format!("oci-layout:{}:v1", target.path().join("l").display());
        let (code, stdout, stderr) =
            kbundle(&["push", dir.to_str().unwrap_or("."), "--image", &image]);
        assert_eq!(code, 0, "{stderr}");
        stdout
            .trim()
            .rsplit_once('@')
            .map(|(_, d)| d.to_owned())
            .unwrap_or_default()
    };
    assert_eq!(push(a.path()), push(b.path()));
}

/// Forwards connections to `upstream`, but cuts any connection on which a manifest upload
/// starts, before the registry sees it: the push stops half way, after the blobs and before
/// any manifest or tag, on every retry. Returns the proxy's address and whether it cut one.
fn proxy_that_cuts_manifest_puts(upstream: String) -> (String, Arc<AtomicBool>) {
    use std::io::{Read, Write};
    use std::net::{TcpListener, TcpStream};
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr").to_string();
    let cut = Arc::new(AtomicBool::new(false));
    let seen = cut.clone();
    std::thread::spawn(move || {
        for client in listener.incoming() {
            let Ok(mut client) = client else { continue };
            let upstream = upstream.clone();
            let seen = seen.clone();
            std::thread::spawn(move || {
                let Ok(mut server) = TcpStream::connect(&upstream) else {
                    return;
                };
                let (mut c2, mut s2) = (
                    client.try_clone().expect("clone"),
                    server.try_clone().expect("clone"),
                );
                std::thread::spawn(move || {
                    let _ = std::io::copy(&mut s2, &mut c2);
                });
                // Connections are kept alive, so look at every chunk, not just the first request.
                let mut buf = [0u8; 16384];
                loop {
                    let n = match client.read(&mut buf) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => n,
                    };
                    let chunk = String::from_utf8_lossy(&buf[..n]);
                    if chunk.contains("PUT /v2/") && chunk.contains("/manifests/") {
                        seen.store(true, Ordering::SeqCst);
                        let _ = client.shutdown(std::net::Shutdown::Both);
                        let _ = server.shutdown(std::net::Shutdown::Both);
                        break;
                    }
                    if server.write_all(&buf[..n]).is_err() {
                        break;
                    }
                }
            });
        }
    });
    (addr, cut)
}

fn a_push_that_dies_half_way_leaves_no_tag(kind: Kind) {
    let registry = Registry::start_kind(kind);
    let (proxy, cut) = proxy_that_cuts_manifest_puts(registry.addr.clone());
    let (code, stdout, stderr) = kbundle(&[
        "push",
        examples().to_str().unwrap_or("."),
        "--image",
        &format!("{proxy}/kbundle/root:v1"),
    ]);
    assert_eq!(code, 2, "{stderr}");
    assert_eq!(stdout, "");
    assert!(stderr.contains("the tag was not written"), "{stderr}");
    assert!(
        cut.load(Ordering::SeqCst),
        "the push failed before its manifest upload: {stderr}"
    );

    // The registry itself is still up: it has the blobs but no tag.
    let out = skopeo(&[
        "inspect",
        &format!("docker://{}/kbundle/root:v1", registry.addr),
    ]);
    assert!(!out.status.success(), "a tag exists after a failed push");
}
