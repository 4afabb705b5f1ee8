//! Real parts for integration tests: the CNCF distribution registry (Debian's
//! `docker-registry`) on a loopback port it picks itself, and `skopeo` as an independent client.

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

pub mod cli;
pub mod crane;
pub mod peers;
pub mod trees;

// Each test binary uses some of these.
#[allow(unused_imports)]
pub use cli::{
    Run, assert_verifies, kbundle, kbundle_with_key_password, outputs, pushed_digest, read_outputs,
};

/// Which registry implementation a test runs against.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// The CNCF distribution registry (Debian's `docker-registry`), storage on disk.
    Distribution,
    /// go-containerregistry's registry (`crane registry serve`, the pinned peer): manifests in
    /// memory, blobs on disk.
    Crane,
}

/// Runs each named `fn(Kind)` as a test against both registry implementations:
/// `distribution::NAME` and `crane::NAME`.
#[macro_export]
macro_rules! on_each_registry {
    ($($name:ident),+ $(,)?) => {
        mod distribution {
            $(#[test]
            fn $name() {
                super::$name($crate::support::Kind::Distribution)
            })+
        }
        mod crane {
            $(#[test]
            fn $name() {
                super::$name($crate::support::Kind::Crane)
            })+
        }
    };
}

/// A running registry; killed when dropped.
pub struct Registry {
    child: Child,
    /// `127.0.0.1:PORT`
    pub addr: String,
    pub storage: PathBuf,
    /// The password file of a registry that requires a login; it is read again when it changes.
    pub htpasswd: Option<PathBuf>,
    /// The requests distribution logged ("METHOD URI"); empty for other implementations.
    pub log: Arc<RequestLog>,
    _dir: tempfile::TempDir,
}

/// Requests as the registry logs them, in the order it answered them.
#[derive(Default)]
pub struct RequestLog {
    lines: Mutex<Vec<String>>,
    grew: Condvar,
}

impl RequestLog {
    /// Takes one line of distribution's log: a finished request becomes "METHOD URI".
    fn take(&self, line: &str) {
        let field = |name: &str| {
            let rest = line.split(&format!(" {name}=")).nth(1)?;
            Some(match rest.strip_prefix('"') {
                Some(quoted) => quoted.split('"').next()?.to_owned(),
                None => rest.split(' ').next()?.to_owned(),
            })
        };
        if !line.contains("msg=\"response completed") {
            return;
        }
        if let (Some(method), Some(uri)) = (field("http.request.method"), field("http.request.uri"))
        {
            self.lines
                .lock()
                .expect("log")
                .push(format!("{method} {uri}"));
            self.grew.notify_all();
        }
    }
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

    /// A registry of the given implementation, without a login.
    pub fn start_kind(kind: Kind) -> Registry {
        match kind {
            Kind::Distribution => Registry::start(),
            Kind::Crane => crane::start(),
        }
    }

    /// A registry that requires HTTP basic auth (htpasswd, bcrypt).
    pub fn with_password(user: &str, password: &str) -> Registry {
        Registry::start_with(None, Some((user, password)))
    }

    /// A registry serving an existing storage folder (to look at what a failed push left).
    pub fn on_storage(storage: &Path) -> Registry {
        Registry::start_with(Some(storage), None)
    }

    /// A registry whose configuration ends with `auth_yaml` (an `auth:` section, such as the
    /// token service's in token_service.rs).
    pub fn with_auth_config(auth_yaml: &str) -> Registry {
        Registry::start_configured(None, None, auth_yaml)
    }

    fn start_with(storage: Option<&Path>, auth: Option<(&str, &str)>) -> Registry {
        Registry::start_configured(storage, auth, "")
    }

    fn start_configured(
        storage: Option<&Path>,
        auth: Option<(&str, &str)>,
        auth_yaml: &str,
    ) -> Registry {
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
        config.push_str(auth_yaml);
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
        let log = Arc::new(RequestLog::default());
        let taken = log.clone();
        std::thread::spawn(move || {
            for line in lines.map_while(Result::ok) {
                taken.take(&line);
            }
        });
        Registry {
            child,
            addr,
            storage,
            htpasswd,
            log,
            _dir: dir,
        }
    }

    /// Every request the registry answered so far ("METHOD URI"). Distribution logs a request
    /// before it sends the response, so a client that has exited is all in the log; a marker
    /// request, answered after them and read after them from the same pipe, says when the
    /// reader has caught up.
    pub fn requests(&self) -> Vec<String> {
        let marker = format!("/v2/kbundle-test-marker-{}/tags/list", marker_number());
        let mut stream = std::net::TcpStream::connect(&self.addr).expect("connect to registry");
        write!(
            stream,
            "GET {marker} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
            self.addr
        )
        .expect("send marker request");
        let _ = std::io::Read::read_to_end(&mut stream, &mut Vec::new());
        let lines = self.log.lines.lock().expect("log");
        let (lines, waited) = self
            .log
            .grew
            .wait_timeout_while(lines, Duration::from_secs(10), |l| {
                !l.iter().any(|r| r.ends_with(&marker))
            })
            .expect("log");
        assert!(!waited.timed_out(), "the registry never logged {marker}");
        lines
            .iter()
            .filter(|r| !r.contains("/kbundle-test-marker-"))
            .cloned()
            .collect()
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

/// A number no other marker request of this process used.
fn marker_number() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    NEXT.fetch_add(1, Ordering::SeqCst)
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

/// `kbundle` started the way the Actions runner starts a container step: a clean environment
/// (PATH kept), `GITHUB_ACTIONS=true`, outputs in `work/github_output`, `RUNNER_TEMP` and
/// `HOME` in `work`.
pub fn runner_env(work: &Path) -> assert_cmd::Command {
    let mut cmd = kbundle();
    cmd.current_dir(work)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", work)
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_OUTPUT", work.join("github_output"))
        .env("RUNNER_TEMP", work);
    cmd
}

/// [`runner_env`] for a pull_request event: the event payload from tests/fixtures/github.
pub fn runner_step(work: &Path) -> assert_cmd::Command {
    let mut cmd = runner_env(work);
    cmd.env("GITHUB_SERVER_URL", "https://github.com")
        .env("GITHUB_EVENT_NAME", "pull_request")
        .env(
            "GITHUB_EVENT_PATH",
            Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/github/pull_request.json"),
        );
    cmd
}

/// Runs [`kbundle`] in an empty folder (so no `kbundle.yaml` is picked up) with
/// `SOURCE_DATE_EPOCH` set, the variables in `cleared` removed and `env` set; returns the exit
/// code, stdout and stderr.
pub fn run_clean(args: &[&str], cleared: &[&str], env: &[(&str, &str)]) -> (i32, String, String) {
    let cwd = tempfile::tempdir().expect("tempdir");
    let mut cmd = kbundle();
    cmd.current_dir(cwd.path())
        .args(args)
        .env("SOURCE_DATE_EPOCH", "1700000000");
    for name in cleared {
        cmd.env_remove(name);
    }
    Run::of(cmd.envs(env.iter().copied())).into()
}

/// Fails when any part of any of `secrets` appears in stderr, or in stdout outside the
/// runner's `::add-mask::` commands: any 8 characters of it in a row, its bytes in hex (any 6
/// in a row, so a hex dump split over lines is still caught), or its base64 (standard or URL
/// alphabet, at each of the three alignments it can have inside a longer encoding).
pub fn assert_no_secrets(stdout: &str, stderr: &str, secrets: &[&str]) {
    let unmasked: String = stdout
        .lines()
        .filter(|l| !l.starts_with("::add-mask::"))
        .collect::<Vec<_>>()
        .join("\n");
    let output = format!("{unmasked}\n{stderr}");
    // Hex dumps put spaces between byte pairs and break lines every few bytes.
    let packed: String = output.chars().filter(|c| !c.is_whitespace()).collect();
    let packed_lower = packed.to_ascii_lowercase();
    for secret in secrets {
        if let Some(found) = secret_fragment(secret, &output, &packed_lower) {
            panic!("{secret} leaked as {found:?}:\n{stdout}\n{stderr}");
        }
    }
}

/// The first form of `secret` found in `output` (or, for hex, in `packed`: `output` without
/// whitespace, lower case).
fn secret_fragment(secret: &str, output: &str, packed: &str) -> Option<String> {
    use base64::Engine as _;
    use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
    let windows = |text: &str, n: usize| -> Vec<String> {
        let chars: Vec<char> = text.chars().collect();
        chars
            .windows(n.min(chars.len()).max(1))
            .map(|w| w.iter().collect())
            .collect()
    };
    if let Some(hit) = windows(secret, 8).into_iter().find(|w| output.contains(w)) {
        return Some(hit);
    }
    let bytes = secret.as_bytes();
    if let Some(hit) = bytes
        .windows(6.min(bytes.len()))
        .map(hex_lower)
        .find(|h| packed.contains(h))
    {
        return Some(format!("hex {hit}"));
    }
    for skip in 0..3.min(bytes.len()) {
        for encoded in [
            STANDARD.encode(&bytes[skip..]),
            URL_SAFE_NO_PAD.encode(&bytes[skip..]),
        ] {
            // The last characters depend on what follows the secret; the rest do not.
            let stable = encoded.trim_end_matches('=');
            let stable = &stable[..stable.len().saturating_sub(3)];
            if stable.len() < 8 {
                continue;
            }
            if let Some(hit) = windows(stable, 8).into_iter().find(|w| output.contains(w)) {
                return Some(format!("base64 {hit}"));
            }
        }
    }
    None
}

fn hex_lower(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The `.sig` layers of `digest` in an OCI layout, read straight from its files.
pub fn read_sig(
    layout: &kbundle::oci::layout::Layout,
    digest: &kbundle::bundle::Digest,
) -> Vec<kbundle::signing::cosign::SignatureLayer> {
    use kbundle::signing::cosign;
    let (_, _, manifest) = layout
        .manifest(&cosign::signature_tag(digest))
        .expect("sig");
    cosign::read_signature_manifest(&manifest)
        .expect("parse")
        .into_iter()
        .map(|r| cosign::SignatureLayer {
            payload: layout.get_blob(&r.digest).expect("blob"),
            annotations: r.annotations,
        })
        .collect()
}

/// Rewrites the `.sig` of `digest` in an OCI layout with the given layers (to tamper with it).
pub fn write_sig(
    layout: &kbundle::oci::layout::Layout,
    digest: &kbundle::bundle::Digest,
    layers: &[kbundle::signing::cosign::SignatureLayer],
) {
    use kbundle::bundle::Digest;
    use kbundle::signing::cosign;
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
