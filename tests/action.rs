//! The binary run exactly as the Actions runner runs it: no arguments, `INPUT_*`,
//! `GITHUB_OUTPUT`, `GITHUB_STEP_SUMMARY`, `GITHUB_EVENT_PATH`; and `publish`'s offline default.

#[path = "support/github_fake.rs"]
mod github_fake;
mod support;

use std::path::Path;

use github_fake::GitHubFake;

use support::{Registry, examples, read_outputs, runner_step, skopeo};

const TOKEN: &str = "ghs_s3cretTokenValue000000000000000000";
const PASSWORD: &str = "key-pa55word";

fn fixture(rel: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(rel)
}

#[test]
fn publish_from_inputs_masks_secrets_first_and_writes_outputs() {
    let registry = Registry::start();
    let work = tempfile::tempdir().expect("tempdir");
    // A key pair made by keygen, handed over as the secret's PEM text.
    let keygen = support::kbundle()
        .current_dir(work.path())
        .env("COSIGN_PASSWORD", PASSWORD)
        .args(["keygen", "--output-key-prefix", "ci"])
        .output()
        .expect("keygen");
    assert!(keygen.status.success());
    let pem = std::fs::read_to_string(work.path().join("ci.key")).expect("key");
    let fleet = work.path().join("root-sync.yaml");
    std::fs::copy(examples().join("fleet/root-sync.yaml"), &fleet).expect("copy");
    let output = work.path().join("github_output");
    let summary = work.path().join("step_summary");
    let image = format!("{}/kbundle/root:v1", registry.addr);

    let out = runner_step(work.path())
        .env("GITHUB_STEP_SUMMARY", &summary)
        .env("GITHUB_REPOSITORY", "acme/config")
        .env("GITHUB_SHA", "6dcb09b5b57875f334f61aebed695e2e4193db5e")
        .env("INPUT_COMMAND", "publish")
        .env("INPUT_PATHS", examples())
        .env("INPUT_IMAGE", &image)
        .env("INPUT_KEY", &pem)
        .env("INPUT_KEY-PASSWORD", PASSWORD)
        .env("INPUT_FLEET-FILE", &fleet)
        .env("INPUT_GITHUB-TOKEN", TOKEN)
        .env("INPUT_STRICT", "true")
        .env("INPUT_SIGN", "key")
        // The comment goes to the GitHub API: tests/github.rs checks it against Prism.
        .env("INPUT_COMMENT", "false")
        .env("INPUT_ANNOTATIONS", "true")
        .output()
        .expect("run");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}\n{stderr}");

    // Secrets are masked before anything else and never printed otherwise.
    let first: Vec<&str> = stdout.lines().take(2).collect();
    assert!(
        first.contains(&format!("::add-mask::{PASSWORD}").as_str()),
        "{stdout}"
    );
    assert!(
        first.contains(&format!("::add-mask::{TOKEN}").as_str()),
        "{stdout}"
    );
    let unmasked = stdout
        .lines()
        .filter(|l| !l.starts_with("::add-mask::"))
        .collect::<Vec<_>>()
        .join("\n");
    for secret in [PASSWORD, TOKEN] {
        assert!(
            !unmasked.contains(secret) && !stderr.contains(secret),
            "{secret} leaked"
        );
    }
    assert!(
        stdout.contains("::group::validate") && stdout.contains("::endgroup::"),
        "{stdout}"
    );

    let outputs = read_outputs(&output);
    let digest = outputs["digest"].clone();
    assert!(
        digest.starts_with("sha256:") && digest.len() == 71,
        "{outputs:?}"
    );
    assert_eq!(outputs["image"], format!("{image}@{digest}"));
    let report: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(work.path().join(&outputs["report"])).expect("report"),
    )
    .expect("json");
    assert_eq!(report["summary"]["valid"], 11);
    assert_eq!(outputs["valid"], "11");
    assert_eq!(outputs["invalid"], "0");
    // A key from a secret: its fingerprint is what the signature output and summary name.
    assert!(
        outputs["signature"].starts_with(&format!(
            "{digest} signed with cosign key ecdsa-p256 SHA256:"
        )),
        "{outputs:?}"
    );
    let summary = std::fs::read_to_string(&summary).expect("summary");
    assert!(summary.starts_with("### kbundle publish ✅"), "{summary}");
    assert!(
        summary.contains(&format!("| **Image** | `{image}` |"))
            && summary.contains(&format!("| **Digest** | `{digest}` |")),
        "{summary}"
    );
    assert!(
        summary.contains(&format!("kbundle verify {image}@{digest} --key cosign.pub")),
        "{summary}"
    );

    // The registry holds the image and its signature; the fleet file points at the digest.
    let inspect = skopeo(&["inspect", &format!("docker://{image}")]);
    assert!(inspect.status.success());
    // Config Sync's extraction (crane export) and kbundle pull give the source files.
    let pulled = work.path().join("pulled");
    let (code, _, err) = support::run_clean(
        &["pull", &image, "-o", pulled.to_str().expect("utf-8")],
        &[],
        &[],
    );
    assert_eq!(code, 0, "{err}");
    let exported = support::crane::crane_export(&image);
    support::trees::assert_same_trees(&support::trees::examples_bundle(), &pulled, exported.path());
    support::assert_verifies(work.path(), &image, "ci.pub");
    assert!(
        std::fs::read_to_string(&fleet)
            .expect("fleet")
            .contains(&digest)
    );
}

#[test]
fn validate_from_inputs_annotates_fails_and_writes_outputs_and_summary() {
    let work = tempfile::tempdir().expect("tempdir");
    let manifests = work.path().join("manifests");
    std::fs::create_dir_all(&manifests).expect("mkdir");
    std::fs::copy(
        fixture("validate/invalid-replicas.yaml"),
        manifests.join("web.yaml"),
    )
    .expect("copy");
    let out = runner_step(work.path())
        .env("GITHUB_EVENT_NAME", "push")
        .env("GITHUB_WORKSPACE", work.path())
        .env("GITHUB_REPOSITORY", "acme/config")
        .env("GITHUB_SHA", "6dcb09b5b57875f334f61aebed695e2e4193db5e")
        .env("GITHUB_STEP_SUMMARY", work.path().join("summary"))
        .env("INPUT_COMMAND", "validate")
        .env("INPUT_PATHS", "manifests")
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("::error file=manifests/web.yaml,line=6,col=13,"),
        "{stdout}"
    );
    assert_eq!(String::from_utf8_lossy(&out.stderr), "");
    let outputs = read_outputs(&work.path().join("github_output"));
    assert_eq!(outputs["valid"], "0");
    assert_eq!(outputs["invalid"], "1");
    assert_eq!(outputs["report"], ".kbundle/report.json");
    assert!(work.path().join(".kbundle/report.json").is_file());
    let summary = std::fs::read_to_string(work.path().join("summary")).expect("summary");
    assert!(summary.starts_with("### kbundle validate ❌"), "{summary}");
    assert!(
        summary.contains("[manifests/web.yaml:6:13](https://github.com/acme/config/blob/6dcb09b5b57875f334f61aebed695e2e4193db5e/manifests/web.yaml#L6)"),
        "{summary}"
    );
}

#[test]
fn validate_from_inputs_posts_the_pull_request_comment() {
    let fake = GitHubFake::start("acme", "config", "main", &[]);
    let work = tempfile::tempdir().expect("tempdir");
    let out = runner_step(work.path())
        .env("GITHUB_API_URL", &fake.url)
        .env("GITHUB_REPOSITORY", "acme/config")
        .env("INPUT_COMMAND", "validate")
        .env("INPUT_PATHS", fixture("validate/invalid-replicas.yaml"))
        .env("INPUT_GITHUB-TOKEN", TOKEN)
        .env("INPUT_COMMENT", "true")
        .output()
        .expect("run");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    let comments = fake.state().comments.clone();
    assert_eq!(comments.len(), 1, "{stdout}");
    assert_eq!(comments[0].issue, 42);
    assert!(comments[0].body.starts_with("<!-- kbundle:validate -->"));
    let outputs = read_outputs(&work.path().join("github_output"));
    assert!(outputs["comment-url"].contains("42"), "{outputs:?}");
    assert!(stdout.contains("✓ comment   created: "), "{stdout}");

    // comment: false posts nothing.
    let work = tempfile::tempdir().expect("tempdir");
    let out = runner_step(work.path())
        .env("GITHUB_API_URL", &fake.url)
        .env("GITHUB_REPOSITORY", "acme/config")
        .env("INPUT_COMMAND", "validate")
        .env("INPUT_PATHS", fixture("validate/invalid-replicas.yaml"))
        .env("INPUT_GITHUB-TOKEN", TOKEN)
        .env("INPUT_COMMENT", "false")
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(fake.state().comments.len(), 1);
}

#[test]
fn app_id_without_app_private_key_is_refused() {
    let out = support::kbundle()
        .env("GITHUB_ACTIONS", "true")
        .env("INPUT_APP-ID", "12345")
        .env_remove("INPUT_APP-PRIVATE-KEY")
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("::error title=kbundle::inputs app-id and app-private-key go together"),
        "{stdout}"
    );
}

#[test]
fn fatal_errors_from_inputs_are_annotations_naming_the_input_not_the_flag() {
    let work = tempfile::tempdir().expect("tempdir");
    // The layout default cannot be pulled by a cluster: fleet-image is needed.
    let out = from_inputs(
        work.path(),
        &[
            ("paths", &examples().display().to_string()),
            ("fleet-file", "root-sync.yaml"),
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let error = stdout
        .lines()
        .find(|l| l.starts_with("::error title=kbundle publish::"))
        .unwrap_or_else(|| panic!("no error annotation in {stdout}"));
    assert!(
        error.contains("input fleet-file: input image oci-layout:"),
        "{error}"
    );
    assert!(
        error.contains("add input fleet-image REGISTRY/REPOSITORY[:TAG]"),
        "{error}"
    );
    assert!(!stdout.contains("--fleet"), "{stdout}");
    assert_eq!(String::from_utf8_lossy(&out.stderr), "");

    // A value clap refuses: its first line, in the inputs' terms, without usage or --help.
    let out = from_inputs(work.path(), &[("artifact", "docker")]);
    assert_eq!(out.status.code(), Some(2));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let error = stdout
        .lines()
        .find(|l| l.starts_with("::error title=kbundle publish::"))
        .unwrap_or_else(|| panic!("no error annotation in {stdout}"));
    assert!(
        error.contains("invalid value 'docker' for 'input artifact'"),
        "{error}"
    );
    assert!(
        !stdout.contains("--artifact") && !stdout.contains("--help"),
        "{stdout}"
    );
}

#[test]
fn action_yml_declares_exactly_the_inputs_the_binary_reads() {
    let text = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("action.yml"))
        .expect("action.yml");
    let stream = kbundle::manifest::parse_stream(&text);
    assert!(stream.errors.is_empty(), "{:?}", stream.errors);
    let doc = &stream.documents[0].value;
    let mut declared: Vec<String> = doc["inputs"]
        .as_object()
        .expect("inputs")
        .keys()
        .cloned()
        .collect();
    let mut read: Vec<String> = kbundle::commands::action::INPUTS
        .iter()
        .map(|s| s.to_string())
        .collect();
    declared.sort();
    read.sort();
    assert_eq!(declared, read);
    for output in [
        "digest",
        "image",
        "pull-request-url",
        "pull-request-number",
        "report",
    ] {
        assert!(
            doc["outputs"].get(output).is_some(),
            "output {output} missing"
        );
    }
    assert_eq!(doc["runs"]["using"], "docker");
}

#[test]
fn publish_offline_default_needs_no_registry_and_no_account() {
    let work = tempfile::tempdir().expect("tempdir");
    let out = support::kbundle()
        .current_dir(work.path())
        .env_remove("COSIGN_PASSWORD")
        .env("SOURCE_DATE_EPOCH", "1700000000")
        .args(["publish"])
        .arg(examples())
        .output()
        .expect("run");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    for step in ["✓ validate", "✓ push", "✓ sign"] {
        assert!(stderr.contains(step), "{stderr}");
    }
    let layout = work.path().join(".kbundle/oci");
    assert!(
        skopeo(&["inspect", &format!("oci:{}:latest", layout.display())])
            .status
            .success()
    );
    support::assert_verifies(
        work.path(),
        "oci-layout:.kbundle/oci:latest",
        ".kbundle/cosign.pub",
    );
}

/// A stand-in for api.github.com that refuses every request the way GitHub refuses a fork
/// pull request's read-only token (403, "Resource not accessible by integration"); returns
/// its base URL. Only the status matters here; tests/github.rs checks request shapes.
fn refusing_github() -> String {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut buf = [0u8; 8192];
            let _ = stream.read(&mut buf);
            let body = r#"{"message":"Resource not accessible by integration","documentation_url":"https://docs.github.com/rest","status":"403"}"#;
            let _ = write!(
                stream,
                "HTTP/1.1 403 Forbidden\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    format!("http://{addr}")
}

#[test]
fn a_comment_github_refuses_is_a_warning_and_publish_still_succeeds() {
    let work = tempfile::tempdir().expect("tempdir");
    let output = work.path().join("github_output");
    let out = runner_step(work.path())
        .env("GITHUB_API_URL", refusing_github())
        .env("GITHUB_REPOSITORY", "acme/config")
        .env("INPUT_COMMAND", "publish")
        .env("INPUT_PATHS", examples())
        .env("INPUT_GITHUB-TOKEN", TOKEN)
        .env("INPUT_SIGN", "none")
        .env("INPUT_COMMENT", "true")
        .output()
        .expect("run");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    let warning = stdout
        .lines()
        .find(|l| l.starts_with("::warning title=kbundle comment::"))
        .unwrap_or_else(|| panic!("no warning in {stdout}"));
    assert!(warning.contains("was not posted on #"), "{warning}");
    assert!(
        warning.contains("Resource not accessible by integration"),
        "{warning}"
    );
    assert!(
        !stdout
            .replace(&format!("::add-mask::{TOKEN}"), "")
            .contains(TOKEN)
    );
    assert!(!stderr.contains(TOKEN));
    assert!(read_outputs(&output)["digest"].starts_with("sha256:"));
}

/// `kbundle` with no arguments and the given inputs, as the runner starts a container step.
fn from_inputs(work: &Path, inputs: &[(&str, &str)]) -> std::process::Output {
    let mut cmd = runner_step(work);
    for (name, value) in inputs {
        cmd.env(format!("INPUT_{}", name.to_uppercase()), value);
    }
    cmd.output().expect("run")
}

#[test]
fn verify_and_bump_run_from_inputs() {
    let work = tempfile::tempdir().expect("tempdir");
    let published = support::kbundle()
        .current_dir(work.path())
        .env("COSIGN_PASSWORD", "")
        .arg("publish")
        .arg(examples())
        .output()
        .expect("publish");
    assert!(published.status.success());
    let pinned = String::from_utf8_lossy(&published.stdout).trim().to_owned();
    let digest = pinned.rsplit_once('@').expect("digest").1.to_owned();

    // verify: the public key as a secret's PEM text.
    let public = std::fs::read_to_string(work.path().join(".kbundle/cosign.pub")).expect("pub");
    let image = "oci-layout:.kbundle/oci:latest";
    let out = from_inputs(
        work.path(),
        &[("command", "verify"), ("image", image), ("key", &public)],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Another key: judged and failed, exit 1.
    let other = support::kbundle()
        .current_dir(work.path())
        .env("COSIGN_PASSWORD", "")
        .args(["keygen", "--output-key-prefix", "other"])
        .output()
        .expect("keygen");
    assert!(other.status.success());
    let out = from_inputs(
        work.path(),
        &[
            ("command", "verify"),
            ("image", image),
            ("key", "other.pub"),
        ],
    );
    assert_eq!(out.status.code(), Some(1));

    // bump: the fleet file in the workspace gets the digest.
    let fleet = work.path().join("root-sync.yaml");
    std::fs::copy(examples().join("fleet/root-sync.yaml"), &fleet).expect("copy");
    let target = format!("us-docker.pkg.dev/example-project/config/root:v3@{digest}");
    let out = from_inputs(
        work.path(),
        &[
            ("command", "bump"),
            ("image", &target),
            ("fleet-file", "root-sync.yaml"),
            ("paths", "ignored-by-bump"),
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(&fleet).expect("fleet");
    assert!(text.contains(&format!("image: {target}")), "{text}");

    // A command the inputs cannot drive says what can.
    let out = from_inputs(work.path(), &[("command", "promote")]);
    assert_eq!(out.status.code(), Some(2));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("::error title=kbundle::input command: \"promote\" cannot run from inputs; use publish, validate, verify"),
        "{stdout}"
    );
}

#[test]
fn publishing_the_whole_workspace_twice_leaves_out_its_own_files_and_compose_files() {
    let work = tempfile::tempdir().expect("tempdir");
    let shop = work.path().join("shop");
    std::fs::create_dir_all(&shop).expect("mkdir");
    for entry in std::fs::read_dir(examples().join("shop")).expect("shop") {
        let path = entry.expect("entry").path();
        std::fs::copy(&path, shop.join(path.file_name().expect("name"))).expect("copy");
    }
    std::fs::write(
        work.path().join("docker-compose.yml"),
        "services:\n  web:\n    image: nginx:1.27\n",
    )
    .expect("compose");
    std::fs::create_dir_all(work.path().join(".github/workflows")).expect("mkdir");
    std::fs::copy(
        examples().join("workflows/publish.yml"),
        work.path().join(".github/workflows/publish.yml"),
    )
    .expect("workflow");
    // Twice: the second run finds the first one's report, layout and public key in .kbundle/.
    let temp = tempfile::tempdir().expect("runner temp");
    let mut signatures = Vec::new();
    for run in 1..=2 {
        let _ = std::fs::remove_file(work.path().join("github_output"));
        let out = runner_step(work.path())
            .env("RUNNER_TEMP", temp.path())
            .env("INPUT_PATHS", ".")
            .env("INPUT_COMMENT", "false")
            .output()
            .expect("run");
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "run {run}:\n{stdout}");
        let o = read_outputs(&work.path().join("github_output"));
        signatures.push(
            o["signature"]
                .split_once(" signed ")
                .expect("signature")
                .1
                .to_owned(),
        );
        let report: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(work.path().join(".kbundle/report.json")).expect("report"),
        )
        .expect("json");
        let files: Vec<&str> = report["resources"]
            .as_array()
            .expect("resources")
            .iter()
            .filter_map(|r| r["filename"].as_str())
            .collect();
        assert!(
            !files.is_empty() && files.iter().all(|f| f.contains("shop/")),
            "run {run}: {files:?}"
        );
    }
    // The generated private key is kept in RUNNER_TEMP, outside the workspace, and reused.
    assert_eq!(signatures[0], signatures[1]);
    assert!(temp.path().join("kbundle-cosign.key").is_file());
    assert!(!work.path().join(".kbundle/cosign.key").exists());
    assert!(work.path().join(".kbundle/cosign.pub").is_file());
}
