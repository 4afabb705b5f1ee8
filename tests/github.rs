//! Contract tests: every request `bump --repo` and `comment` send is checked against GitHub's
//! own OpenAPI description, served by Prism. One Prism serves the whole file (it takes ~25 s
//! to load the 13 MB description).

#[path = "support/prism.rs"]
mod prism;
mod support;

use std::sync::LazyLock;

use prism::{Exchange, Prism, Proxy, root_sync_base64, root_sync_base64_with, serve_file};

static PRISM: LazyLock<Prism> = LazyLock::new(Prism::start);

const DIGEST: &str = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

/// kbundle against `api`, outside Actions but with a workflow's token, repository and commit.
fn kbundle(api: &str, args: &[&str]) -> support::Run {
    support::Run::with_outputs(
        support::kbundle()
            .args(args)
            .env("GITHUB_TOKEN", "ghp_contracttesttoken")
            .env("GITHUB_API_URL", api)
            .env("GITHUB_SERVER_URL", "https://github.com")
            .env("GITHUB_REPOSITORY", "octo-org/app")
            .env("GITHUB_SHA", "6dcb09b5b57875f334f61aebed695e2e4193db5e"),
    )
}

/// Every exchange got a 2xx from Prism and Prism reported no request violation.
fn assert_conformed(exchanges: &[Exchange]) {
    assert!(!exchanges.is_empty(), "no request reached Prism");
    let refused: Vec<_> = exchanges.iter().filter(|e| e.status >= 300).collect();
    assert!(refused.is_empty(), "Prism refused requests: {refused:#?}");
    let violations = PRISM.request_violations();
    assert!(violations.is_empty(), "Prism: {violations:#?}");
}

fn requests(exchanges: &[Exchange]) -> Vec<String> {
    exchanges
        .iter()
        .map(|e| format!("{} {}", e.method, e.path.split('?').next().unwrap_or("")))
        .collect()
}

struct Run {
    code: i32,
    out: String,
    err: String,
    exchanges: Vec<Exchange>,
    outputs: String,
}

/// `bump --repo` through a proxy that serves a RootSync as the file, plus `rewrite`.
fn bump(
    extra: &[&str],
    rewrite: impl Fn(&str, &str, &mut serde_json::Value) -> Option<u16> + Send + Sync + 'static,
) -> Run {
    let encoded = root_sync_base64();
    let proxy = Proxy::start(
        &PRISM.url,
        Box::new(move |method, path, json| {
            serve_file(method, path, json, &encoded);
            rewrite(method, path, json)
        }),
    );
    let image = format!("us-docker.pkg.dev/example-project/config/root:v2@{DIGEST}");
    let mut args = vec![
        "bump",
        "--repo",
        "octo-org/fleet",
        "--file",
        "clusters/prod/root-sync.yaml",
        "--image",
        &image,
    ];
    args.extend_from_slice(extra);
    let run = kbundle(&proxy.url, &args);
    Run {
        code: run.code,
        out: run.out,
        err: run.err,
        exchanges: proxy.exchanges(),
        outputs: run.outputs,
    }
}

#[test]
fn bump_updates_the_open_pull_request_contract_checked_against_prism() {
    // Prism's examples say the branch exists and a pull request from it is open.
    let run = bump(
        &[
            "--label",
            "deploy",
            "--reviewer",
            "octocat",
            "--team-reviewer",
            "platform",
        ],
        |_, _, _| None,
    );
    let exchanges = &run.exchanges;
    assert_eq!(
        run.code, 0,
        "stdout: {}\nstderr: {}\n{exchanges:#?}",
        run.out, run.err
    );
    assert_conformed(exchanges);
    let made = requests(exchanges);
    for expected in [
        "GET /repos/octo-org/fleet",
        "GET /repos/octo-org/fleet/git/ref/heads%2Fmaster",
        "GET /repos/octo-org/fleet/contents/clusters%2Fprod%2Froot-sync.yaml",
        "POST /repos/octo-org/fleet/git/blobs",
        "POST /repos/octo-org/fleet/git/trees",
        "POST /repos/octo-org/fleet/git/commits",
        "PATCH /repos/octo-org/fleet/git/refs/heads%2Fkbundle%2Froot-sync",
        "GET /repos/octo-org/fleet/pulls",
        "PATCH /repos/octo-org/fleet/pulls/1347",
        "POST /repos/octo-org/fleet/issues/1347/labels",
        "POST /repos/octo-org/fleet/pulls/1347/requested_reviewers",
    ] {
        assert!(
            made.contains(&expected.to_owned()),
            "{expected} missing: {made:#?}"
        );
    }
    let update = exchanges
        .iter()
        .find(|e| e.method == "PATCH" && e.path.ends_with("/pulls/1347"))
        .expect("the pull request was updated");
    for needle in [
        "Bump RootSync root-sync to 0123456789ab",
        "root:latest",
        "https://github.com/octo-org/app/commit/6dcb09b5b57875f334f61aebed695e2e4193db5e",
    ] {
        assert!(
            update.request_body.contains(needle),
            "{needle}: {}",
            update.request_body
        );
    }
    assert!(
        run.out
            .contains("updated: https://github.com/octocat/Hello-World/pull/1347"),
        "{}",
        run.out
    );
    for needle in [
        "pull-request-number<<",
        "\n1347\n",
        "pull-request-url<<",
        "\nhttps://github.com/octocat/Hello-World/pull/1347\n",
        "operation<<",
        "\nupdated\n",
    ] {
        assert!(
            run.outputs.contains(needle),
            "{needle:?} not in {}",
            run.outputs
        );
    }
}

#[test]
fn bump_creates_branch_and_draft_pull_request_contract_checked_against_prism() {
    // Prism validated the requests; the proxy then says the branch and pull request are new.
    let run = bump(
        &["--base", "main", "--branch", "deploy/prod", "--draft"],
        |method, path, json| {
            if method == "GET" && path.ends_with("/git/ref/heads%2Fdeploy%2Fprod") {
                *json = serde_json::json!({"message": "Not Found"});
                return Some(404);
            }
            if method == "GET" && path.ends_with("/pulls") {
                *json = serde_json::json!([]);
            }
            None
        },
    );
    let exchanges = &run.exchanges;
    assert_eq!(
        run.code, 0,
        "stdout: {}\nstderr: {}\n{exchanges:#?}",
        run.out, run.err
    );
    assert_conformed(exchanges);
    let made = requests(exchanges);
    assert!(
        !made.contains(&"GET /repos/octo-org/fleet".to_owned()),
        "--base given: {made:#?}"
    );
    let create_ref = exchanges
        .iter()
        .find(|e| e.method == "POST" && e.path == "/repos/octo-org/fleet/git/refs")
        .expect("the branch was created");
    assert!(
        create_ref
            .request_body
            .contains("\"refs/heads/deploy/prod\""),
        "{}",
        create_ref.request_body
    );
    let create_pull = exchanges
        .iter()
        .find(|e| e.method == "POST" && e.path == "/repos/octo-org/fleet/pulls")
        .expect("the pull request was created");
    for needle in [
        "\"head\":\"deploy/prod\"",
        "\"base\":\"main\"",
        "\"draft\":true",
    ] {
        assert!(
            create_pull.request_body.contains(needle),
            "{needle}: {}",
            create_pull.request_body
        );
    }
    assert!(run.out.starts_with("created: "), "{}", run.out);
    assert!(run.outputs.contains("\ncreated\n"), "{}", run.outputs);
}

#[test]
fn comment_posts_the_report_contract_checked_against_prism() {
    let proxy = Proxy::start(&PRISM.url, Box::new(|_, _, _| None));
    let dir = tempfile::tempdir().expect("tempdir");
    let manifest = dir.path().join("cm.yaml");
    std::fs::write(
        &manifest,
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n  namespace: app\ndata:\n  a: b\n",
    )
    .expect("write");
    let (code, out, err) = kbundle(
        &proxy.url,
        &[
            "comment",
            "--repo",
            "octo-org/app",
            "--pr",
            "42",
            manifest.to_str().expect("utf-8"),
        ],
    )
    .into();
    let exchanges = proxy.exchanges();
    assert_eq!(code, 0, "stdout: {out}\nstderr: {err}\n{exchanges:#?}");
    assert_conformed(&exchanges);
    assert_eq!(
        requests(&exchanges),
        [
            "GET /repos/octo-org/app/issues/42/comments",
            "POST /repos/octo-org/app/issues/42/comments"
        ],
    );
    assert!(
        exchanges[1]
            .request_body
            .contains("<!-- kbundle:validate -->"),
        "{}",
        exchanges[1].request_body
    );
    assert!(out.starts_with("created: https://github.com/"), "{out}");
}

#[test]
fn publish_from_inputs_opens_the_fleet_pull_request_and_comments_contract_checked_against_prism() {
    const TOKEN: &str = "ghs_publishContractToken0000000000000000";
    let encoded = root_sync_base64();
    let proxy = Proxy::start(
        &PRISM.url,
        Box::new(move |method, path, json| {
            serve_file(method, path, json, &encoded);
            None
        }),
    );
    let manifest_dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let work = tempfile::tempdir().expect("tempdir");
    let output = work.path().join("github_output");
    let summary = work.path().join("step_summary");
    let image = format!("oci-layout:{}:v1", work.path().join("oci").display());
    let out = support::runner_step(work.path())
        .env("GITHUB_STEP_SUMMARY", &summary)
        .env("GITHUB_API_URL", &proxy.url)
        .env("GITHUB_REPOSITORY", "octo-org/app")
        .env("GITHUB_SHA", "6dcb09b5b57875f334f61aebed695e2e4193db5e")
        .env("INPUT_COMMAND", "publish")
        .env("INPUT_PATHS", manifest_dir.join("examples"))
        .env("INPUT_IMAGE", &image)
        .env("INPUT_KEY", "")
        .env("INPUT_KEY-PASSWORD", "")
        .env("INPUT_FLEET-REPO", "octocat/Hello-World")
        .env("INPUT_FLEET-FILE", "clusters/prod/root-sync.yaml")
        .env(
            "INPUT_FLEET-IMAGE",
            "us-docker.pkg.dev/example-project/config/root:v1",
        )
        .env("INPUT_GITHUB-TOKEN", TOKEN)
        .env("INPUT_COMMENT", "true")
        .output()
        .expect("run");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let exchanges = proxy.exchanges();
    assert_eq!(
        out.status.code(),
        Some(0),
        "stdout: {stdout}\nstderr: {stderr}\n{exchanges:#?}"
    );
    assert_conformed(&exchanges);
    let made = requests(&exchanges);
    for expected in [
        "GET /repos/octo-org/app/issues/42/comments",
        "POST /repos/octo-org/app/issues/42/comments",
        "GET /repos/octocat/Hello-World/contents/clusters%2Fprod%2Froot-sync.yaml",
        "PATCH /repos/octocat/Hello-World/git/refs/heads%2Fkbundle%2Froot-sync",
        "PATCH /repos/octocat/Hello-World/pulls/1347",
    ] {
        assert!(
            made.contains(&expected.to_owned()),
            "{expected} missing: {made:#?}"
        );
    }
    // publish knows the validation and the signature it just made, and says so.
    let update = exchanges
        .iter()
        .find(|e| e.method == "PATCH" && e.path.ends_with("/pulls/1347"))
        .expect("the pull request was updated");
    for needle in [
        "**Validation:** 11 valid, 0 invalid, 0 errors, 0 skipped",
        "**Signature:** signed with cosign key ecdsa-p256 SHA256:",
        "the signature verified after the push",
        "**Source commit:** https://github.com/octo-org/app/commit/6dcb09b5b57875f334f61aebed695e2e4193db5e",
    ] {
        assert!(
            update.request_body.contains(needle),
            "{needle}: {}",
            update.request_body
        );
    }
    let outputs = std::fs::read_to_string(&output).expect("outputs");
    for needle in [
        "digest<<",
        "\nsha256:",
        "image<<",
        "pull-request-url<<",
        "\nhttps://github.com/octocat/Hello-World/pull/1347\n",
        "pull-request-number<<",
        "\n1347\n",
    ] {
        assert!(outputs.contains(needle), "{needle:?} not in {outputs}");
    }
    assert_eq!(
        outputs.matches("pull-request-url<<").count(),
        1,
        "{outputs}"
    );
    assert!(outputs.contains("\noci-layout:"), "{outputs}");
    // The token is masked and otherwise never printed.
    for line in stdout.lines().chain(stderr.lines()) {
        assert!(
            !line.contains(TOKEN) || line == format!("::add-mask::{TOKEN}"),
            "{line}"
        );
    }
    assert!(
        stdout.starts_with(&format!("::add-mask::{TOKEN}\n")),
        "{stdout}"
    );
}

/// Prism's compare example has one commit ("Fix all the bugs", 6dcb09b, by octocat) on the
/// branch beyond the base: someone else's.
#[test]
fn bump_over_a_persons_commit_stacks_and_reads_back_verification_contract_checked_against_prism() {
    let run = bump(&[], |_, _, _| None);
    let exchanges = &run.exchanges;
    assert_eq!(
        run.code, 0,
        "stdout: {}\nstderr: {}\n{exchanges:#?}",
        run.out, run.err
    );
    assert_conformed(exchanges);
    let made = requests(exchanges);
    assert!(
        made.iter()
            .any(|r| r.starts_with("GET /repos/octo-org/fleet/compare/") && r.contains("...")),
        "{made:#?}"
    );
    // The person's commit stays: a fast-forward on top of it, never a force.
    let update_ref = exchanges
        .iter()
        .find(|e| e.method == "PATCH" && e.path.contains("/git/refs/"))
        .expect("the branch was moved");
    assert!(
        update_ref.request_body.contains("\"force\":false"),
        "{}",
        update_ref.request_body
    );
    let commit = exchanges
        .iter()
        .find(|e| e.method == "POST" && e.path.ends_with("/git/commits"))
        .expect("a commit");
    for needle in [
        // A person's token (ghp_): kbundle names its own fixed author, so it can tell its
        // commits from the token owner's.
        "\"author\":{\"name\":\"kbundle\"",
        "Kbundle-Bump: clusters/prod/root-sync.yaml",
    ] {
        assert!(
            commit.request_body.contains(needle),
            "{needle}: {}",
            commit.request_body
        );
    }
    // The commit the branch ends on is read back for GitHub's signature verdict.
    assert!(
        made.iter()
            .filter(|r| r.starts_with("GET /repos/octo-org/fleet/git/commits/"))
            .count()
            >= 1,
        "{made:#?}"
    );
    assert!(
        run.out.contains("not verified (unsigned)") || run.out.contains(": verified"),
        "{}",
        run.out
    );
    assert!(run.outputs.contains("commit-verified<<"), "{}", run.outputs);
}

#[test]
fn bump_refused_by_a_persons_change_comments_on_the_pull_request_contract_checked_against_prism() {
    let other = root_sync_base64_with(
        "us-docker.pkg.dev/example-project/config/root:v1@sha256:1111111111111111111111111111111111111111111111111111111111111111",
    );
    // What kbundle last wrote (the file at the merge base, its second read after the base's)
    // differs from the tip in the image value: the person's commit changed it. The proxy sees
    // paths without their query, so the reads are told apart by order.
    let reads = std::sync::atomic::AtomicUsize::new(0);
    let run = bump(&[], move |method, path, json| {
        if method == "GET" && path.contains("/contents/") {
            let n = reads.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            if n == 1 {
                json["content"] = serde_json::Value::String(other.clone());
            }
        }
        None
    });
    let exchanges = &run.exchanges;
    assert_eq!(
        run.code, 1,
        "stdout: {}\nstderr: {}\n{exchanges:#?}",
        run.out, run.err
    );
    assert_conformed(exchanges);
    let made = requests(exchanges);
    assert!(
        !made
            .iter()
            .any(|r| r.starts_with("PATCH /repos/octo-org/fleet/git/refs")
                || r.starts_with("POST /repos/octo-org/fleet/git/commits")),
        "nothing written: {made:#?}"
    );
    let comment = exchanges
        .iter()
        .find(|e| e.method == "POST" && e.path.ends_with("/issues/1347/comments"))
        .expect("the pull request got a comment");
    assert!(
        comment.request_body.contains("kbundle:bump-refused"),
        "{}",
        comment.request_body
    );
    assert!(run.err.contains("6dcb09b (octocat)"), "{}", run.err);
}

#[test]
fn the_github_token_is_not_in_a_trace_log() {
    let run = bump(&["-vvv"], |_, _, _| None);
    assert_eq!(run.code, 0, "stdout: {}\nstderr: {}", run.out, run.err);
    assert!(
        run.err.lines().count() > 20,
        "logged almost nothing:\n{}",
        run.err
    );
    support::assert_no_secrets(&run.out, &run.err, &["ghp_contracttesttoken"]);
}
