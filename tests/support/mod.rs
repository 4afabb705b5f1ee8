//! Real parts for integration tests: the CNCF distribution registry (Debian's
//! `docker-registry`) on a loopback port it picks itself, and `skopeo` as an independent client.

#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

/// A running registry; killed when dropped.
pub struct Registry {
    child: Child,
    /// `127.0.0.1:PORT`
    pub addr: String,
    pub storage: PathBuf,
    /// The password file of a registry that requires a login; it is read again when it changes.
    pub htpasswd: Option<PathBuf>,
    _dir: tempfile::TempDir,
}

fn require(program: &str) {
    let found = Command::new("sh")
        .args(["-c", &format!("command -v {program}")])
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        found,
        "{program} is not installed; scripts/test installs it (apt)"
    );
}

impl Registry {
    pub fn start() -> Registry {
        Registry::start_with(None, None)
    }

    /// A registry that requires HTTP basic auth (htpasswd, bcrypt).
    pub fn with_password(user: &str, password: &str) -> Registry {
        Registry::start_with(None, Some((user, password)))
    }

    /// A registry serving an existing storage folder (to look at what a failed push left).
    pub fn on_storage(storage: &Path) -> Registry {
        Registry::start_with(Some(storage), None)
    }

    fn start_with(storage: Option<&Path>, auth: Option<(&str, &str)>) -> Registry {
        require("docker-registry");
        let dir = tempfile::tempdir().expect("tempdir");
        let storage = storage.map_or_else(|| dir.path().join("data"), Path::to_path_buf);
        let mut htpasswd = None;
        let mut config = format!(
            "version: 0.1\nlog:\n  level: info\nstorage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:0\n",
            storage.display()
        );
        if let Some((user, password)) = auth {
            require("htpasswd");
            let out = Command::new("htpasswd")
                .args(["-Bbn", user, password])
                .output()
                .expect("htpasswd");
            let file = dir.path().join("htpasswd");
            std::fs::write(&file, out.stdout).expect("write htpasswd");
            htpasswd = Some(file.clone());
            config.push_str(&format!(
                "auth:\n  htpasswd:\n    realm: kbundle-test\n    path: {}\n",
                file.display()
            ));
        }
        let config_path = dir.path().join("config.yml");
        std::fs::write(&config_path, config).expect("write config");
        let mut child = Command::new("docker-registry")
            .arg("serve")
            .arg(&config_path)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start docker-registry");
        // The registry binds port 0 and logs the port it got; read until then.
        let stderr = child.stderr.take().expect("stderr");
        let mut lines = BufReader::new(stderr).lines();
        let addr = loop {
            let line = lines
                .next()
                .expect("docker-registry exited before listening")
                .expect("read registry log");
            if let Some(rest) = line.split("listening on ").nth(1) {
                break rest.split('"').next().unwrap_or(rest).trim().to_owned();
            }
        };
        // Keep draining the log so the registry never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        Registry {
            child,
            addr,
            storage,
            htpasswd,
            _dir: dir,
        }
    }

    pub fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Runs skopeo with TLS verification off (the test registry speaks HTTP).
pub fn skopeo(args: &[&str]) -> std::process::Output {
    require("skopeo");
    let mut cmd = Command::new("skopeo");
    cmd.arg(args[0]);
    if matches!(args[0], "inspect") {
        cmd.arg("--tls-verify=false");
    } else if args[0] == "copy" {
        cmd.arg("--src-tls-verify=false")
            .arg("--dest-tls-verify=false");
    }
    cmd.args(&args[1..]).output().expect("run skopeo")
}

/// Every regular file under `root`, relative path to contents.
pub fn tree(root: &Path) -> std::collections::BTreeMap<String, Vec<u8>> {
    let mut out = std::collections::BTreeMap::new();
    for entry in walk(root) {
        let rel = entry
            .strip_prefix(root)
            .expect("under root")
            .to_string_lossy()
            .replace('\\', "/");
        out.insert(rel, std::fs::read(&entry).expect("read"));
    }
    out
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).expect("read_dir").flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

pub fn examples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("examples")
}

/// `kbundle` started the way the Actions runner starts a container step for a pull_request
/// event: a clean environment, `GITHUB_ACTIONS=true`, outputs in `work/github_output`,
/// `RUNNER_TEMP` and `HOME` in `work`, the event payload from tests/fixtures/github.
pub fn runner_step(work: &Path) -> assert_cmd::Command {
    let mut cmd = assert_cmd::Command::cargo_bin("kbundle").expect("binary");
    cmd.current_dir(work)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", work)
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_OUTPUT", work.join("github_output"))
        .env("RUNNER_TEMP", work)
        .env("GITHUB_SERVER_URL", "https://github.com")
        .env("GITHUB_EVENT_NAME", "pull_request")
        .env(
            "GITHUB_EVENT_PATH",
            Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/github/pull_request.json"),
        );
    cmd
}
