//! The action's container run the way the Actions runner runs a Docker action, with Debian's
//! podman (runc, no network): the workspace at `/github/workspace` (the working directory),
//! `/github/file_commands`, `/github/home` and `/github/workflow` mounted, `INPUT_*` with
//! action.yml's defaults, the runner's `GITHUB_*` variables translated to container paths,
//! stdout and stderr captured apart as the runner's two pipes. The tests read the log, the
//! outputs file and the job summary the way GitHub reads them, and the workspace's owners.
//!
//! The image is `FROM scratch` with this build's `kbundle` and the shared libraries `ldd`
//! names (no base image can be pulled here), built once per binary and reused.

mod support;

use std::collections::BTreeMap;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

const REPOSITORY: &str = "localhost/kbundle-action-test";
const SHA: &str = "6dcb09b5b57875f334f61aebed695e2e4193db5e";
/// The runner's user on GitHub's hosted runners; the workspace belongs to it.
const RUNNER_UID: u32 = 1001;

/// The image tag, or why containers cannot run here at all (then the tests skip).
fn image() -> &'static Result<String, String> {
    static IMAGE: OnceLock<Result<String, String>> = OnceLock::new();
    IMAGE.get_or_init(build_image)
}

fn podman() -> Command {
    let mut cmd = Command::new("podman");
    cmd.env_remove("CONTAINER_HOST");
    cmd
}

fn build_image() -> Result<String, String> {
    let found = Command::new("sh")
        .args(["-c", "command -v podman"])
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        found,
        "podman is not installed; scripts/test installs it (apt-get install podman)"
    );
    let info = podman()
        .args(["info", "--format", "{{.Host.OCIRuntime.Name}}"])
        .output();
    match info {
        Ok(o) if o.status.success() => {}
        Ok(o) => {
            return Err(format!(
                "`podman info` fails: {}",
                String::from_utf8_lossy(&o.stderr).trim()
            ));
        }
        Err(e) => return Err(format!("podman cannot be started: {e}")),
    }

    let binary = PathBuf::from(env!("CARGO_BIN_EXE_kbundle"));
    let bytes = std::fs::read(&binary).expect("read the kbundle binary");
    let digest = kbundle::bundle::Digest::of(&bytes);
    let hex = digest.as_str().trim_start_matches("sha256:");
    let tag = format!("{REPOSITORY}:{}", &hex[..16]);
    let exists = podman().args(["image", "exists", &tag]).status();
    if !exists.is_ok_and(|s| s.success()) {
        remove_stale_images(&tag);
        let context = tempfile::tempdir().expect("tempdir");
        let root = context.path().join("root");
        copy_into(&root, &binary, Path::new("/usr/local/bin/kbundle"));
        for lib in shared_libraries(&binary) {
            copy_into(&root, &lib, &lib);
        }
        let tmp = root.join("tmp");
        std::fs::create_dir_all(&tmp).expect("tmp");
        std::fs::set_permissions(&tmp, std::os::unix::fs::PermissionsExt::from_mode(0o1777))
            .expect("chmod tmp");
        std::fs::write(
            context.path().join("Containerfile"),
            "FROM scratch\nCOPY root/ /\nENTRYPOINT [\"/usr/local/bin/kbundle\"]\n",
        )
        .expect("Containerfile");
        let out = podman()
            .args(["build", "--quiet", "--network", "none", "-t", &tag])
            .arg(context.path())
            .output()
            .expect("podman build");
        if !out.status.success() {
            // `podman info` answered, but its storage or build setup does not work here.
            return Err(format!(
                "podman cannot build an image from a local folder: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            ));
        }
    }

    // Can this machine start a container at all? Only a failure of the runtime itself skips.
    let probe = run_options(&tag)
        .arg("--version")
        .output()
        .expect("podman run");
    if !probe.status.success() {
        let stderr = String::from_utf8_lossy(&probe.stderr).into_owned();
        // 125 and 126 are podman's own failures (namespaces, runtime, rlimits); the binary's
        // would be its exit code, or 127 for a missing library.
        if matches!(probe.status.code(), Some(125 | 126)) || stderr.contains("OCI runtime") {
            return Err(format!(
                "podman cannot start a container: {}",
                stderr.trim()
            ));
        }
        panic!("kbundle --version failed in the container: {stderr}");
    }
    Ok(tag)
}

/// Earlier builds' images, so they do not pile up.
fn remove_stale_images(keep: &str) {
    let Ok(out) = podman()
        .args(["images", "--format", "{{.Repository}}:{{.Tag}}", REPOSITORY])
        .output()
    else {
        return;
    };
    for old in String::from_utf8_lossy(&out.stdout).lines() {
        if old != keep && old.starts_with(REPOSITORY) {
            let _ = podman().args(["rmi", "--force", old]).output();
        }
    }
}

/// The absolute paths `ldd` lists for `binary` (the dynamic loader included).
fn shared_libraries(binary: &Path) -> Vec<PathBuf> {
    let out = Command::new("ldd").arg(binary).output().expect("ldd");
    let text = String::from_utf8_lossy(&out.stdout);
    if text.contains("not a dynamic executable") || text.contains("statically linked") {
        return Vec::new();
    }
    text.split_whitespace()
        .filter(|w| w.starts_with('/'))
        .map(PathBuf::from)
        .collect()
}

fn copy_into(root: &Path, from: &Path, to: &Path) {
    let dest = root.join(to.strip_prefix("/").expect("absolute"));
    std::fs::create_dir_all(dest.parent().expect("parent")).expect("mkdir");
    std::fs::copy(from, &dest).unwrap_or_else(|e| panic!("copy {}: {e}", from.display()));
}

/// `podman run` with what every run here needs. The rlimits: podman's defaults are above
/// what this sandbox lets runc set (it fails with "error setting rlimit"), so modest fixed
/// ones are given; the runner's Docker sets its own.
fn run_options(image: &str) -> Command {
    let mut cmd = podman();
    cmd.args([
        "run",
        "--rm",
        "--runtime",
        "runc",
        "--network",
        "none",
        "--ulimit",
        "nofile=4096:4096",
        "--ulimit",
        "nproc=4096:4096",
        image,
    ]);
    cmd
}

/// The folders the runner mounts, on the host side.
struct Job {
    dir: tempfile::TempDir,
}

/// What one container step left.
struct Step {
    code: Option<i32>,
    stdout: String,
    stderr: String,
    outputs: BTreeMap<String, String>,
    summary: String,
}

impl Job {
    fn new() -> Job {
        let dir = tempfile::tempdir().expect("tempdir");
        for sub in ["workspace", "file_commands", "home", "workflow"] {
            std::fs::create_dir_all(dir.path().join(sub)).expect("mkdir");
        }
        Job { dir }
    }

    fn workspace(&self) -> PathBuf {
        self.dir.path().join("workspace")
    }

    /// Gives the job's folders to the runner's user, as on a hosted runner (only possible
    /// as root; otherwise they stay the current user's).
    fn hand_to_runner(&self) -> (u32, u32) {
        // SAFETY: geteuid has no preconditions.
        if unsafe { libc::geteuid() } == 0 {
            for entry in walkdir::WalkDir::new(self.dir.path()) {
                let entry = entry.expect("walk");
                std::os::unix::fs::lchown(entry.path(), Some(RUNNER_UID), Some(RUNNER_UID))
                    .expect("chown");
            }
        }
        let meta = std::fs::metadata(self.workspace()).expect("workspace");
        (meta.uid(), meta.gid())
    }

    /// Runs the image as the runner runs a `uses:` step of this action: every input of
    /// action.yml with its default, overridden by `inputs`.
    fn run(&self, image: &str, event: &str, inputs: &[(&str, &str)]) -> Step {
        let fc = self.dir.path().join("file_commands");
        let files = [
            ("GITHUB_OUTPUT", "set_output_1b3f"),
            ("GITHUB_STEP_SUMMARY", "step_summary_1b3f"),
            ("GITHUB_ENV", "set_env_1b3f"),
            ("GITHUB_PATH", "add_path_1b3f"),
            ("GITHUB_STATE", "save_state_1b3f"),
        ];
        for (_, file) in files {
            std::fs::write(fc.join(file), "").expect("file command");
        }
        std::fs::write(
            self.dir.path().join("workflow/event.json"),
            std::fs::read(
                Path::new(env!("CARGO_MANIFEST_DIR"))
                    .join("tests/fixtures/github/pull_request.json"),
            )
            .expect("event"),
        )
        .expect("event.json");
        self.hand_to_runner();

        let mut env: Vec<(String, String)> = vec![
            ("HOME".into(), "/github/home".into()),
            ("CI".into(), "true".into()),
            ("GITHUB_ACTIONS".into(), "true".into()),
            ("GITHUB_WORKSPACE".into(), "/github/workspace".into()),
            (
                "GITHUB_EVENT_PATH".into(),
                "/github/workflow/event.json".into(),
            ),
            ("GITHUB_EVENT_NAME".into(), event.into()),
            ("GITHUB_REPOSITORY".into(), "acme/config".into()),
            ("GITHUB_SHA".into(), SHA.into()),
            ("GITHUB_REF".into(), "refs/heads/main".into()),
            ("GITHUB_SERVER_URL".into(), "https://github.com".into()),
            // Nothing listens there: --network none; the steps here must not need GitHub.
            ("GITHUB_API_URL".into(), "http://127.0.0.1:9".into()),
            ("RUNNER_OS".into(), "Linux".into()),
            // A host path the runner does not translate or mount.
            ("RUNNER_TEMP".into(), "/home/runner/work/_temp".into()),
        ];
        for (name, file) in files {
            env.push((name.into(), format!("/github/file_commands/{file}")));
        }
        let mut given: BTreeMap<String, String> = action_defaults();
        for (k, v) in inputs {
            given.insert((*k).to_owned(), (*v).to_owned());
        }
        for (k, v) in given {
            env.push((format!("INPUT_{}", k.to_uppercase()), v));
        }

        let mut cmd = podman();
        cmd.args([
            "run",
            "--rm",
            "--runtime",
            "runc",
            "--network",
            "none",
            "--ulimit",
            "nofile=4096:4096",
            "--ulimit",
            "nproc=4096:4096",
            "--workdir",
            "/github/workspace",
        ]);
        for (host, container) in [
            ("home", "/github/home"),
            ("workflow", "/github/workflow"),
            ("file_commands", "/github/file_commands"),
            ("workspace", "/github/workspace"),
        ] {
            cmd.arg("-v").arg(format!(
                "{}:{container}",
                self.dir.path().join(host).display()
            ));
        }
        for (k, v) in &env {
            cmd.arg("-e").arg(format!("{k}={v}"));
        }
        let out = cmd.arg(image).output().expect("podman run");
        Step {
            code: out.status.code(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            outputs: support::outputs(
                &std::fs::read_to_string(fc.join("set_output_1b3f")).expect("outputs"),
            ),
            summary: std::fs::read_to_string(fc.join("step_summary_1b3f")).expect("summary"),
        }
    }
}

/// The inputs of action.yml with their defaults, as the runner sets them for a `uses:` step;
/// `${{ github.token }}` becomes a token that looks like the job's.
fn action_defaults() -> BTreeMap<String, String> {
    let text = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("action.yml"))
        .expect("action.yml");
    let stream = kbundle::manifest::parse_stream(&text);
    let doc = &stream.documents[0].value;
    let mut out = BTreeMap::new();
    for (name, spec) in doc["inputs"].as_object().expect("inputs") {
        let value = match spec.get("default").and_then(|d| d.as_str()) {
            Some("${{ github.token }}") => "ghs_jobTokenForTheContainerTest0000000".to_owned(),
            Some(d) => d.to_owned(),
            None => String::new(),
        };
        out.insert(name.clone(), value);
    }
    out
}

/// The log's groups as GitHub folds them: (title, lines inside), and the lines outside any.
fn groups(log: &str) -> (Vec<(String, Vec<String>)>, Vec<String>) {
    let mut groups: Vec<(String, Vec<String>)> = Vec::new();
    let mut outside = Vec::new();
    let mut open = false;
    for line in log.lines() {
        if let Some(title) = line.strip_prefix("::group::") {
            assert!(!open, "a group opened inside another:\n{log}");
            groups.push((title.to_owned(), Vec::new()));
            open = true;
        } else if line == "::endgroup::" {
            assert!(open, "::endgroup:: with no group:\n{log}");
            open = false;
        } else if open {
            groups.last_mut().expect("group").1.push(line.to_owned());
        } else {
            outside.push(line.to_owned());
        }
    }
    assert!(!open, "a group never closed:\n{log}");
    (groups, outside)
}

/// Files under `dir` whose owner or group is not `owner`.
fn not_owned_by(dir: &Path, owner: (u32, u32)) -> Vec<String> {
    walkdir::WalkDir::new(dir)
        .into_iter()
        .map(|e| e.expect("walk"))
        .filter(|e| {
            let m = e.path().symlink_metadata().expect("stat");
            (m.uid(), m.gid()) != owner
        })
        .map(|e| e.path().display().to_string())
        .collect()
}

fn copy_dir(from: &Path, to: &Path) {
    for entry in walkdir::WalkDir::new(from) {
        let entry = entry.expect("walk");
        let dest = to.join(entry.path().strip_prefix(from).expect("under"));
        if entry.file_type().is_dir() {
            std::fs::create_dir_all(&dest).expect("mkdir");
        } else {
            std::fs::copy(entry.path(), &dest).expect("copy");
        }
    }
}

macro_rules! image_or_skip {
    () => {
        match image() {
            Ok(image) => image.clone(),
            Err(why) => {
                eprintln!("SKIPPED: {why}");
                return;
            }
        }
    };
}

#[test]
fn publish_in_the_container_logs_in_order_writes_outputs_and_summary_and_leaves_the_workspace_to_its_owner()
 {
    let image = image_or_skip!();
    let job = Job::new();
    let ws = job.workspace();
    // An ordinary repository: manifests, a workflow, a Docker Compose file, the fleet file.
    for dir in ["cluster", "namespaces", "shop", "fleet"] {
        copy_dir(&support::examples().join(dir), &ws.join(dir));
    }
    std::fs::create_dir_all(ws.join(".github/workflows")).expect("mkdir");
    std::fs::copy(
        support::examples().join("workflows/publish.yml"),
        ws.join(".github/workflows/publish.yml"),
    )
    .expect("copy");
    std::fs::write(
        ws.join("docker-compose.yml"),
        "services:\n  web:\n    image: nginx:1.27\n    ports: [\"8080:80\"]\n",
    )
    .expect("compose");
    let owner = job.hand_to_runner();

    let started = std::time::Instant::now();
    let step = job.run(
        &image,
        "push",
        &[
            ("fleet-file", "fleet/root-sync.yaml"),
            ("fleet-image", "us-docker.pkg.dev/acme/config/root:main"),
        ],
    );
    eprintln!("container step: {:.2?}", started.elapsed());
    assert_eq!(step.code, Some(0), "{}\n{}", step.stdout, step.stderr);

    // One stream: nothing on the second pipe, so nothing can land out of order.
    assert_eq!(step.stderr, "", "stderr is not empty");
    let (groups, outside) = groups(&step.stdout);
    let titles: Vec<&str> = groups.iter().map(|(t, _)| t.as_str()).collect();
    assert_eq!(
        titles,
        ["validate", "push", "sign", "bump"],
        "{}",
        step.stdout
    );
    for (title, lines) in &groups {
        let last = lines.last().map(String::as_str).unwrap_or_default();
        assert!(
            last.starts_with(&format!("✓ {title} ")),
            "group {title} does not end with its result line:\n{}",
            step.stdout
        );
    }
    let sign = &groups[2].1;
    assert!(
        sign.iter()
            .any(|l| l.contains("-----BEGIN PUBLIC KEY-----")),
        "{sign:?}"
    );
    let digest = step.outputs["digest"].clone();
    // Outside the groups: the token's mask, first of all, and the result.
    assert_eq!(
        outside,
        [
            "::add-mask::ghs_jobTokenForTheContainerTest0000000".to_owned(),
            format!("oci-layout:.kbundle/oci:latest@{digest}")
        ],
        "{}",
        step.stdout
    );
    assert!(step.stdout.starts_with("::add-mask::"), "{}", step.stdout);

    // Every declared output, read as the runner reads the file.
    let o = &step.outputs;
    assert!(digest.starts_with("sha256:") && digest.len() == 71, "{o:?}");
    assert_eq!(
        o["image"],
        format!("oci-layout:.kbundle/oci:latest@{digest}")
    );
    assert_eq!(o["report"], ".kbundle/report.json");
    assert_eq!(o["invalid"], "0");
    assert!(o["valid"].parse::<usize>().expect("valid") > 0, "{o:?}");
    assert!(
        o["signature"].starts_with(&format!(
            "{digest} signed with cosign key ecdsa-p256 SHA256:"
        )),
        "{o:?}"
    );
    for empty in ["pull-request-url", "pull-request-number", "operation"] {
        assert_eq!(o[empty], "", "{empty}");
    }
    let fingerprint = o["signature"]
        .split("cosign key ")
        .nth(1)
        .expect("fingerprint")
        .to_owned();

    // The summary a reviewer reads.
    let s = &step.summary;
    assert!(s.starts_with("### kbundle publish ✅"), "{s}");
    assert!(s.contains(&format!("| **Digest** | `{digest}` |")), "{s}");
    assert!(s.contains(&format!("cosign key `{fingerprint}`")), "{s}");
    assert!(
        s.contains(&format!(
            "kbundle verify oci-layout:.kbundle/oci:latest@{digest} --key .kbundle/cosign.pub"
        )),
        "{s}"
    );
    assert!(
        s.contains(
            "| **Fleet** | `fleet/root-sync.yaml`: line 14: RootSync root-sync spec.oci.image:"
        ),
        "{s}"
    );
    assert!(s.contains("| sign | "), "{s}");

    // The fleet file points at the digest; the Compose file and the workflow were left out.
    let fleet = std::fs::read_to_string(ws.join("fleet/root-sync.yaml")).expect("fleet");
    assert!(
        fleet.contains(&format!(
            "image: us-docker.pkg.dev/acme/config/root:main@{digest}"
        )),
        "{fleet}"
    );
    let report: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(ws.join(".kbundle/report.json")).expect("report"),
    )
    .expect("json");
    let files: Vec<&str> = report["resources"]
        .as_array()
        .expect("resources")
        .iter()
        .filter_map(|r| r["filename"].as_str())
        .collect();
    assert!(
        !files
            .iter()
            .any(|f| f.contains("docker-compose") || f.contains(".github")),
        "{files:?}"
    );

    // Hygiene: no private key in the workspace, and everything there is the runner's.
    for entry in walkdir::WalkDir::new(&ws) {
        let entry = entry.expect("walk");
        if entry.file_type().is_file() {
            let bytes = std::fs::read(entry.path()).expect("read");
            assert!(
                !String::from_utf8_lossy(&bytes).contains("PRIVATE KEY"),
                "a private key in the workspace: {}",
                entry.path().display()
            );
        }
    }
    assert_eq!(not_owned_by(&ws, owner), Vec::<String>::new());

    // The public key the step left checks the signature, as the summary says.
    support::assert_verifies(&ws, "oci-layout:.kbundle/oci:latest", ".kbundle/cosign.pub");
}

#[test]
fn validate_in_the_container_fails_with_annotations_outputs_and_lines_linked_in_the_summary() {
    let image = image_or_skip!();
    let job = Job::new();
    let ws = job.workspace();
    std::fs::create_dir_all(ws.join("manifests")).expect("mkdir");
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/validate/invalid-replicas.yaml"),
        ws.join("manifests/web.yaml"),
    )
    .expect("copy");
    std::fs::write(
        ws.join("compose.yaml"),
        "services:\n  db:\n    image: postgres\n",
    )
    .expect("compose");
    let owner = job.hand_to_runner();

    // A push event: no pull request to comment on, and nothing may try.
    let step = job.run(&image, "push", &[("command", "validate")]);
    assert_eq!(step.code, Some(1), "{}\n{}", step.stdout, step.stderr);
    assert_eq!(step.stderr, "", "stderr is not empty");
    let errors: Vec<&str> = step
        .stdout
        .lines()
        .filter(|l| l.starts_with("::error "))
        .collect();
    assert_eq!(errors.len(), 1, "{}", step.stdout);
    assert!(
        errors[0].starts_with("::error file=manifests/web.yaml,line=6,col=13,"),
        "{}",
        errors[0]
    );

    let o = &step.outputs;
    assert_eq!(o["valid"], "0", "{o:?}");
    assert_eq!(o["invalid"], "1", "{o:?}");
    assert_eq!(o["report"], ".kbundle/report.json", "{o:?}");
    let report: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(ws.join(".kbundle/report.json")).expect("report"),
    )
    .expect("json");
    assert_eq!(report["summary"]["invalid"], 1, "{report}");

    let s = &step.summary;
    assert!(s.starts_with("### kbundle validate ❌"), "{s}");
    assert!(
        s.contains(&format!(
            "[manifests/web.yaml:6:13](https://github.com/acme/config/blob/{SHA}/manifests/web.yaml#L6)"
        )),
        "{s}"
    );
    assert_eq!(not_owned_by(&ws, owner), Vec::<String>::new());
}
