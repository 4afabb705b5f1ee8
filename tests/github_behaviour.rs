//! Behaviour of `bump --repo` and `comment` across runs, against a stateful local FAKE of
//! GitHub's REST endpoints (tests/support/github_fake.rs, written from GitHub's REST docs):
//! idempotency, stale SHAs, missing files, missing permissions, sticky comments. Request
//! shapes are checked against GitHub's real description in tests/github.rs (Prism).

#[path = "support/github_fake.rs"]
mod github_fake;
mod support;

use std::path::Path;

use github_fake::{FLEET_FILE, GitHubFake, Person, bump_args, example_root_sync};
use support::Run;

/// A commit kbundle made on an earlier run: its trailer, by the bot of the token it used.
fn kbundles_old_commit(fake: &GitHubFake, files: &[(&str, &str)], title: &str) -> String {
    let message = format!("{title}\n\nold body\n\nKbundle-Bump: {FLEET_FILE}\n");
    let mut state = fake.state();
    // Branched from main, as kbundle's branches are.
    let main = state.head("main");
    state.refs.entry(format!("heads/{BRANCH}")).or_insert(main);
    state.push_as(BRANCH, files, &message, Person::actions_bot())
}

const BRANCH: &str = "kbundle/root-sync";
const V2: &str = "sha256:2222222222222222222222222222222222222222222222222222222222222222";
const V3: &str = "sha256:3333333333333333333333333333333333333333333333333333333333333333";

fn image(digest: &str) -> String {
    format!("us-docker.pkg.dev/example-project/config/root:v2@{digest}")
}

fn kbundle(fake: &GitHubFake, args: &[&str]) -> Run {
    kbundle_env(fake, args, &[])
}

fn kbundle_env(fake: &GitHubFake, args: &[&str], env: &[(&str, &str)]) -> Run {
    Run::with_outputs(fake.kbundle().args(args).envs(env.iter().copied()))
}

fn bump(fake: &GitHubFake, digest: &str) -> Run {
    let image = image(digest);
    kbundle(fake, &bump_args(&image))
}

/// The branch's file differs from main's in exactly the image line, and the branch is one
/// commit on top of main as it is now.
fn assert_branch_proposes(fake: &GitHubFake, digest: &str) {
    let state = fake.state();
    let on_main = state.file("main", FLEET_FILE).expect("main has the file");
    let on_branch = state.file(BRANCH, FLEET_FILE).expect("branch has the file");
    let changed: Vec<(&str, &str)> = on_main
        .lines()
        .zip(on_branch.lines())
        .filter(|(a, b)| a != b)
        .collect();
    assert_eq!(changed.len(), 1, "{changed:?}");
    assert!(changed[0].1.contains(digest), "{changed:?}");
    let head = &state.refs[&format!("heads/{BRANCH}")];
    assert_eq!(
        state.commits[head].parents,
        [state.refs["heads/main"].clone()]
    );
}

#[test]
fn bump_twice_opens_one_pull_request_then_leaves_it_unchanged_against_local_fake() {
    let fake = GitHubFake::fleet();
    let first = bump(&fake, V2);
    assert_eq!(first.code, 0, "{}", first.err);
    assert!(
        first
            .out
            .starts_with("created: https://github.com/acme/fleet/pull/1"),
        "{}",
        first.out
    );
    assert_eq!(first.output("operation"), "created");
    assert_branch_proposes(&fake, V2);
    let head_after_first = fake.state().refs[&format!("heads/{BRANCH}")].clone();

    let second = bump(&fake, V2);
    assert_eq!(second.code, 0, "{}", second.err);
    assert_eq!(
        second.output("operation"),
        "unchanged",
        "{}",
        second.outputs
    );
    assert!(
        second.out.contains("already proposes this change"),
        "{}",
        second.out
    );
    let state = fake.state();
    assert_eq!(state.pulls.len(), 1);
    // Same content: the branch keeps its commit, so reviews on it stay valid.
    assert_eq!(state.refs[&format!("heads/{BRANCH}")], head_after_first);
    assert_eq!(state.count("PATCH /repos/acme/fleet/git/refs"), 0);
    assert_eq!(state.count("PATCH /repos/acme/fleet/pulls"), 0);
    // Nothing written at all the second time: one blob, tree and commit, from the first run.
    assert_eq!(state.count("POST /repos/acme/fleet/git/commits"), 1);
}

#[test]
fn a_new_digest_force_updates_the_existing_branch_and_pull_request_against_local_fake() {
    let fake = GitHubFake::fleet();
    {
        // A branch from an older run, based on an older main, and its open pull request.
        let old = example_root_sync().replace("root:latest", &format!("root:v1@{V3}"));
        kbundles_old_commit(&fake, &[(FLEET_FILE, &old)], "old bump");
        let mut state = fake.state();
        state.push("main", &[("README.md", "fleet\n")], "main moved on");
        state.open_pull(
            BRANCH,
            "main",
            "Bump RootSync root-sync to 333333333333",
            "old",
        );
    }
    let run = bump(&fake, V2);
    assert_eq!(run.code, 0, "{}", run.err);
    assert_eq!(run.output("operation"), "updated");
    assert!(
        run.out
            .starts_with("updated: https://github.com/acme/fleet/pull/1"),
        "{}",
        run.out
    );
    assert_branch_proposes(&fake, V2);
    let state = fake.state();
    assert_eq!(state.pulls.len(), 1, "not duplicated");
    assert!(
        state.pulls[0].title.contains("222222222222"),
        "{}",
        state.pulls[0].title
    );
    assert_eq!(
        state.count("PATCH /repos/acme/fleet/git/refs"),
        1,
        "force-updated"
    );
    assert_eq!(state.count("POST /repos/acme/fleet/pulls"), 0);
}

#[test]
fn nothing_to_change_commits_nothing_and_says_so_against_local_fake() {
    let fake = GitHubFake::fleet();
    {
        let mut state = fake.state();
        let done = example_root_sync().replace("root:latest", &format!("root:v2@{V2}"));
        state.push("main", &[(FLEET_FILE, &done)], "already bumped");
    }
    let run = bump(&fake, V2);
    assert_eq!(run.code, 0, "{}", run.err);
    assert_eq!(run.output("operation"), "unchanged");
    assert!(
        run.out
            .contains("up to date: acme/fleet clusters/prod/root-sync.yaml on main"),
        "{}",
        run.out
    );
    let state = fake.state();
    assert_eq!(
        state.count("POST /repos/acme/fleet/git/"),
        0,
        "{:#?}",
        state.requests
    );
    assert!(state.pulls.is_empty());
    assert!(!state.refs.contains_key(&format!("heads/{BRANCH}")));
}

#[test]
fn change_vanished_leaves_the_open_pull_request_alone_and_says_so_against_local_fake() {
    let fake = GitHubFake::fleet();
    assert_eq!(bump(&fake, V2).code, 0);
    {
        // Someone applied the same change to main by hand.
        let mut state = fake.state();
        let done = example_root_sync().replace("root:latest", &format!("root:v2@{V2}"));
        state.push("main", &[(FLEET_FILE, &done)], "bumped by hand");
    }
    let run = bump(&fake, V2);
    assert_eq!(run.code, 0, "{}", run.err);
    assert_eq!(run.output("operation"), "unchanged");
    assert!(
        run.out.contains("pull/1 left alone")
            && run.out.contains("on main already points at the image"),
        "{}",
        run.out
    );
    assert!(run.outputs.contains("\n1\n"), "{}", run.outputs);
    let state = fake.state();
    assert_eq!(state.pulls.len(), 1);
    assert!(state.pulls[0].open);
    assert_eq!(
        state.count("PATCH /repos/acme/fleet/"),
        0,
        "{:#?}",
        state.requests
    );
}

#[test]
fn file_missing_at_base_names_file_branch_and_repository_against_local_fake() {
    let fake = GitHubFake::start("acme", "fleet", "main", &[("README.md", "fleet\n")]);
    let run = bump(&fake, V2);
    assert_eq!(run.code, 2, "{}", run.out);
    assert!(
        run.err.contains(
            "GitHub acme/fleet: clusters/prod/root-sync.yaml does not exist on branch main"
        ),
        "{}",
        run.err
    );
    assert!(fake.state().pulls.is_empty());
}

#[test]
fn a_409_on_the_ref_update_starts_over_once_from_the_moved_base_against_local_fake() {
    let fake = GitHubFake::fleet();
    // An existing branch, so kbundle updates the ref (PATCH), where GitHub answers 409.
    kbundles_old_commit(&fake, &[("stale.txt", "x\n")], "stale branch");
    fake.state().ref_conflicts = 1;
    let run = bump(&fake, V2);
    assert_eq!(run.code, 0, "{}", run.err);
    assert_eq!(run.output("operation"), "created");
    // The commit is on top of main as the concurrent push left it.
    assert_branch_proposes(&fake, V2);
    let state = fake.state();
    assert!(state.file("main", "CHANGELOG.md").is_some(), "main moved");
    assert_eq!(state.count("PATCH /repos/acme/fleet/git/refs"), 2);
    assert_eq!(state.pulls.len(), 1);
}

#[test]
fn a_second_409_is_a_clear_error_against_local_fake() {
    let fake = GitHubFake::fleet();
    kbundles_old_commit(&fake, &[("stale.txt", "x\n")], "stale branch");
    fake.state().ref_conflicts = 2;
    let run = bump(&fake, V2);
    assert_eq!(run.code, 2, "{}", run.out);
    assert!(
        run.err.contains("update branch kbundle/root-sync: 409")
            && run.err.contains("twice")
            && run.err.contains("run it again"),
        "{}",
        run.err
    );
    assert!(fake.state().pulls.is_empty());
}

#[test]
fn a_403_explains_the_token_permissions_against_local_fake() {
    let fake = GitHubFake::fleet();
    fake.state().read_only = true;
    let run = bump(&fake, V2);
    assert_eq!(run.code, 2, "{}", run.out);
    for needle in [
        "403",
        "contents: write",
        "pull-requests: write",
        "GitHub App",
        "--app-id",
    ] {
        assert!(run.err.contains(needle), "{needle}: {}", run.err);
    }
}

/// `kbundle validate -o json --summary` on `manifest`, written to `report`.
fn validate_to(manifest: &str, report: &Path) {
    let out = assert_cmd::Command::cargo_bin("kbundle")
        .expect("binary")
        .args(["validate", "-o", "json", "--summary", manifest])
        .output()
        .expect("validate");
    std::fs::write(report, &out.stdout).expect("write report");
}

#[test]
fn the_pull_request_says_old_and_new_digest_source_validation_and_signature_against_local_fake() {
    let fake = GitHubFake::fleet();
    let dir = tempfile::tempdir().expect("tempdir");
    let report = dir.path().join("report.json");
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    validate_to(examples.to_str().expect("utf-8"), &report);
    let source = [
        ("GITHUB_SERVER_URL", "https://github.example.com"),
        ("GITHUB_REPOSITORY", "acme/config"),
        ("GITHUB_SHA", "6dcb09b5b57875f334f61aebed695e2e4193db5e"),
    ];
    let bump_with_report = |digest: &str| {
        let image = image(digest);
        kbundle_env(
            &fake,
            &[
                "bump",
                "--repo",
                "acme/fleet",
                "--file",
                FLEET_FILE,
                "--image",
                &image,
                "--report",
                report.to_str().expect("utf-8"),
            ],
            &source,
        )
    };
    let run = bump_with_report(V2);
    assert_eq!(run.code, 0, "{}", run.err);
    let body = fake.state().pulls[0].body.clone();
    for needle in [
        format!(
            "- **Digest:** none (`us-docker.pkg.dev/example-project/config/root:latest`, by tag) → `{V2}`"
        ),
        "- **Source commit:** https://github.example.com/acme/config/commit/6dcb09b5b57875f334f61aebed695e2e4193db5e".to_owned(),
        "- **Validation:** 11 valid, 0 invalid, 0 errors, 0 skipped".to_owned(),
        "- **Signature:** not checked by kbundle bump".to_owned(),
    ] {
        assert!(body.contains(&needle), "{needle}\n{body}");
    }

    {
        // The pull request is merged.
        let mut state = fake.state();
        let merged = state.file(BRANCH, FLEET_FILE).expect("branch file");
        state.push("main", &[(FLEET_FILE, &merged)], "Merge pull request #1");
        state.pulls[0].open = false;
    }
    // The next digest: the body names the one it replaces.
    let run = bump_with_report(V3);
    assert_eq!(run.code, 0, "{}", run.err);
    let state = fake.state();
    assert_eq!(state.pulls.len(), 2);
    let body = &state.pulls[1].body;
    assert!(
        body.contains(&format!("- **Digest:** `{V2}` → `{V3}`")),
        "{body}"
    );
}

#[test]
fn a_branch_created_meanwhile_is_updated_on_the_second_try_against_local_fake() {
    let fake = GitHubFake::fleet();
    fake.state().branch_race = true;
    let run = bump(&fake, V2);
    assert_eq!(run.code, 0, "{}", run.err);
    assert_eq!(run.output("operation"), "created");
    assert_branch_proposes(&fake, V2);
    let state = fake.state();
    assert_eq!(state.count("POST /repos/acme/fleet/git/refs"), 1);
    assert_eq!(state.count("PATCH /repos/acme/fleet/git/refs"), 1);
    assert_eq!(state.pulls.len(), 1);
}
