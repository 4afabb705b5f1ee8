//! go-containerregistry's side: its registry (`crane registry serve`) as the second registry
//! implementation, and `crane export`, the layer flattening Config Sync's oci-sync does.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use super::Registry;
use super::peers::peer;

/// `crane registry serve` on a loopback port it picks: blobs in a folder, manifests in memory.
pub(super) fn start() -> Registry {
    let dir = tempfile::tempdir().expect("tempdir");
    let storage = dir.path().join("blobs");
    std::fs::create_dir(&storage).expect("mkdir blobs");
    let mut child = Command::new(peer("crane"))
        .args(["registry", "serve", "--address", "127.0.0.1:0", "--disk"])
        .arg(&storage)
        .env_remove("PORT")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start crane registry serve");
    // It binds the address and logs `serving on port N` (Go's log, on stderr) before serving.
    let stderr = child.stderr.take().expect("stderr");
    let mut lines = BufReader::new(stderr).lines();
    let port = loop {
        let line = lines
            .next()
            .expect("crane registry serve exited before listening")
            .expect("read crane log");
        if let Some(rest) = line.split("serving on port ").nth(1) {
            break rest.trim().to_owned();
        }
    };
    std::thread::spawn(move || for _ in lines {});
    Registry {
        child,
        addr: format!("127.0.0.1:{port}"),
        storage,
        htpasswd: None,
        log: Default::default(),
        _dir: dir,
    }
}

/// `crane export IMAGE - | tar -x` into a new folder: every layer flattened in order, as
/// Config Sync's oci-sync does with go-containerregistry's `mutate.Extract`. tar keeps the
/// archive's modes (`-p`), so they can be compared.
pub fn crane_export(image: &str) -> tempfile::TempDir {
    let home = tempfile::tempdir().expect("tempdir");
    let out = tempfile::tempdir().expect("tempdir");
    let mut crane = Command::new(peer("crane"))
        .args(["export", image, "-"])
        .env_clear()
        .env("HOME", home.path())
        .env("DOCKER_CONFIG", home.path().join(".docker"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run crane export");
    let tar = Command::new("tar")
        .args(["-x", "-p", "--no-same-owner", "-f", "-", "-C"])
        .arg(out.path())
        .stdin(crane.stdout.take().expect("crane stdout"))
        .output()
        .expect("run tar");
    let crane = crane.wait_with_output().expect("wait for crane");
    assert!(
        crane.status.success(),
        "crane export {image}: {}",
        String::from_utf8_lossy(&crane.stderr)
    );
    assert!(
        tar.status.success(),
        "tar -x of crane export {image}: {}",
        String::from_utf8_lossy(&tar.stderr)
    );
    out
}
