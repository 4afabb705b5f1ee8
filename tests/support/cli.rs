//! How the tests start kbundle, and what a run leaves: one builder with the environment the
//! Actions runner (or a developer's shell) would add taken away, so each test file adds only
//! what it is about.

use std::collections::BTreeMap;

/// Prefixes of the variables that change what kbundle does when they are set: the Actions
/// runner's (`GITHUB_*`, `ACTIONS_*`) and kbundle's own settings (`KBUNDLE_*`).
const CLEARED_PREFIXES: [&str; 3] = ["GITHUB_", "ACTIONS_", "KBUNDLE_"];

/// Single variables taken away: logging changes stderr.
const CLEARED: [&str; 1] = ["RUST_LOG"];

/// `DOCKER_CONFIG` for every run: a folder that does not exist, so no login of the machine's
/// (`~/.docker/config.json`) is ever read. A test of docker logins sets its own.
pub const NO_DOCKER_CONFIG: &str = "/nonexistent-docker-config";

/// The kbundle binary with every `GITHUB_*`, `ACTIONS_*` and `KBUNDLE_*` variable and
/// `RUST_LOG` removed and `DOCKER_CONFIG` pointed at [`NO_DOCKER_CONFIG`]; the rest of the
/// environment (PATH, HOME) is inherited.
pub fn kbundle() -> assert_cmd::Command {
    let mut cmd = assert_cmd::Command::cargo_bin("kbundle").expect("binary");
    for (name, _) in std::env::vars_os() {
        let Some(name) = name.to_str() else { continue };
        if CLEARED.contains(&name) || CLEARED_PREFIXES.iter().any(|p| name.starts_with(p)) {
            cmd.env_remove(name);
        }
    }
    cmd.env("DOCKER_CONFIG", NO_DOCKER_CONFIG);
    cmd
}

/// [`kbundle`] in `dir`, with the key password the signing tests make their keys with
/// (`COSIGN_PASSWORD=pw`), so `keygen`, `sign` and `publish` there never prompt.
pub fn kbundle_with_key_password(dir: &std::path::Path) -> assert_cmd::Command {
    let mut cmd = kbundle();
    cmd.current_dir(dir).env("COSIGN_PASSWORD", "pw");
    cmd
}

/// The digest of the `REF@DIGEST` line `push` and `publish` print.
pub fn pushed_digest(stdout: &str) -> kbundle::bundle::Digest {
    stdout
        .trim()
        .rsplit_once('@')
        .and_then(|(_, d)| d.parse().ok())
        .unwrap_or_else(|| panic!("no REF@DIGEST in {stdout:?}"))
}

/// `kbundle verify IMAGE --key KEY` in `dir` succeeds.
pub fn assert_verifies(dir: &std::path::Path, image: &str, key: &str) {
    let run = Run::of(
        kbundle()
            .current_dir(dir)
            .args(["verify", image, "--key", key]),
    );
    assert_eq!(run.code, 0, "{}", run.err);
}

/// What one run of kbundle left: its exit code (-1 when killed by a signal), stdout, stderr
/// and, for [`Run::with_outputs`], what it wrote to `GITHUB_OUTPUT`.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub out: String,
    pub err: String,
    /// The `GITHUB_OUTPUT` file's text; empty unless the run was [`Run::with_outputs`].
    pub outputs: String,
}

impl Run {
    /// Runs `cmd` to the end.
    pub fn of(cmd: &mut assert_cmd::Command) -> Run {
        Run::from(cmd.output().expect("run kbundle"))
    }

    /// Runs `cmd` with `GITHUB_OUTPUT` in a fresh file of its own, and reads that file back.
    pub fn with_outputs(cmd: &mut assert_cmd::Command) -> Run {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("github_output");
        let mut run = Run::of(cmd.env("GITHUB_OUTPUT", &file));
        run.outputs = std::fs::read_to_string(&file).unwrap_or_default();
        run
    }

    /// The first line of output `name`'s value ("" when there is none).
    pub fn output(&self, name: &str) -> &str {
        self.outputs
            .split(&format!("{name}<<"))
            .nth(1)
            .and_then(|rest| rest.lines().nth(1))
            .unwrap_or("")
    }
}

impl From<std::process::Output> for Run {
    fn from(out: std::process::Output) -> Run {
        Run {
            code: out.status.code().unwrap_or(-1),
            out: String::from_utf8_lossy(&out.stdout).into_owned(),
            err: String::from_utf8_lossy(&out.stderr).into_owned(),
            outputs: String::new(),
        }
    }
}

/// `(code, stdout, stderr)`, for the files whose tests destructure a run.
impl From<Run> for (i32, String, String) {
    fn from(run: Run) -> (i32, String, String) {
        (run.code, run.out, run.err)
    }
}

/// A `GITHUB_OUTPUT` file read as the runner reads it: `name<<DELIMITER`, lines, `DELIMITER`.
pub fn outputs(text: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        let (name, delimiter) = line
            .split_once("<<")
            .unwrap_or_else(|| panic!("not the heredoc form: {line:?}"));
        let mut value = Vec::new();
        loop {
            let l = lines
                .next()
                .unwrap_or_else(|| panic!("output {name} never ends"));
            if l == delimiter {
                break;
            }
            value.push(l);
        }
        out.insert(name.to_owned(), value.join("\n"));
    }
    out
}

/// `outputs` of the `GITHUB_OUTPUT` file at `path`.
pub fn read_outputs(path: &std::path::Path) -> BTreeMap<String, String> {
    outputs(&std::fs::read_to_string(path).expect("GITHUB_OUTPUT file"))
}
