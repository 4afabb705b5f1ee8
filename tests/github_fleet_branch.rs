//! `bump --repo` on a fleet branch that people touch, against the stateful local FAKE of
//! GitHub (tests/support/github_fake.rs): their commits and merges survive a bump (stacked
//! on top, or refused with a comment when they changed the image), the job token's warning,
//! GitHub's verified flag read back, and the 65,536-character body cap.

#[path = "support/github_fake.rs"]
mod github_fake;
mod support;

use github_fake::{FLEET_FILE, GitHubFake, Person, bump_args, example_root_sync};
use support::Run;

const BRANCH: &str = "kbundle/root-sync";
const V2: &str = "sha256:2222222222222222222222222222222222222222222222222222222222222222";
const V3: &str = "sha256:3333333333333333333333333333333333333333333333333333333333333333";
const V4: &str = "sha256:4444444444444444444444444444444444444444444444444444444444444444";
/// An installation token, as the job's GITHUB_TOKEN is: the fake treats it as github-actions[bot].
const JOB_TOKEN: &str = "ghs_jobtoken000000000000000000000000000";

fn image(digest: &str) -> String {
    format!("us-docker.pkg.dev/example-project/config/root:v2@{digest}")
}

fn bump_with(fake: &GitHubFake, digest: &str, env: &[(&str, &str)]) -> Run {
    let image = image(digest);
    Run::with_outputs(
        fake.kbundle()
            .args(bump_args(&image))
            .env("GITHUB_TOKEN", JOB_TOKEN)
            .envs(env.iter().copied()),
    )
}

fn bump(fake: &GitHubFake, digest: &str) -> Run {
    bump_with(fake, digest, &[])
}

/// The fleet file as the branch has it.
fn on_branch(fake: &GitHubFake) -> String {
    fake.state().file(BRANCH, FLEET_FILE).expect("branch file")
}

#[test]
fn a_persons_commit_on_the_branch_survives_the_next_bump_stacked_on_top_against_local_fake() {
    let fake = GitHubFake::fleet();
    assert_eq!(bump(&fake, V2).code, 0);
    // A reviewer adds a note of their own to the pull request's branch.
    let theirs = fake.state().push_as(
        BRANCH,
        &[("NOTES.md", "rolled out to canary\n")],
        "note",
        Person::jane(),
    );

    let run = bump(&fake, V3);
    assert_eq!(run.code, 0, "{}\n{}", run.out, run.err);
    assert_eq!(run.output("operation"), "updated");
    let state = fake.state();
    let head = state.head(BRANCH);
    // Not rebuilt from main: kbundle's new commit sits on the reviewer's.
    assert_eq!(state.commits[&head].parents, std::slice::from_ref(&theirs));
    assert!(state.ancestors(&head).contains(&theirs));
    assert_eq!(
        state.file(BRANCH, "NOTES.md").as_deref(),
        Some("rolled out to canary\n")
    );
    assert!(state.file(BRANCH, FLEET_FILE).expect("file").contains(V3));
    assert!(
        run.out.contains(&format!(
            "kept commits by others on the branch, kbundle's change on top: {} (jane)",
            &theirs[..7]
        )),
        "{}",
        run.out
    );
    assert_eq!(state.pulls.len(), 1);
    assert!(state.pulls[0].title.contains("333333333333"));
}

#[test]
fn a_persons_change_to_the_image_is_refused_with_a_comment_naming_the_commit_against_local_fake() {
    let fake = GitHubFake::fleet();
    assert_eq!(bump(&fake, V2).code, 0);
    // A reviewer pins another digest by hand on the branch.
    let pinned = on_branch(&fake).replace(V2, V4);
    let theirs = fake
        .state()
        .push_as(BRANCH, &[(FLEET_FILE, &pinned)], "pin v4", Person::jane());

    for round in 0..2 {
        let run = bump(&fake, V3);
        assert_eq!(run.code, 1, "round {round}: {}\n{}", run.out, run.err);
        for needle in [
            format!("{} (jane)", &theirs[..7]),
            "does not force-push".to_owned(),
            "https://github.com/acme/fleet/pull/1#issuecomment-".to_owned(),
        ] {
            assert!(run.err.contains(&needle), "{needle}: {}", run.err);
        }
        assert_eq!(run.output("operation"), "refused");
        let state = fake.state();
        // Nothing written: the branch still ends on the reviewer's commit.
        assert_eq!(state.head(BRANCH), theirs);
        assert!(state.file(BRANCH, FLEET_FILE).expect("file").contains(V4));
        // One comment, updated in place on the second run, saying what to do.
        assert_eq!(state.comments.len(), 1, "round {round}");
        let body = &state.comments[0].body;
        for needle in [
            "<!-- kbundle:bump-refused -->",
            &format!("{} (jane)", &theirs[..7]),
            "delete `kbundle/root-sync`",
            "revert the change",
        ] {
            assert!(body.contains(needle), "{needle}: {body}");
        }
    }
}

#[test]
fn a_base_merged_into_the_branch_is_kept_and_the_bump_goes_on_top_against_local_fake() {
    let fake = GitHubFake::fleet();
    assert_eq!(bump(&fake, V2).code, 0);
    let merge = {
        let mut state = fake.state();
        state.push("main", &[("README.md", "fleet\n")], "main moved on");
        // "Update branch" on the pull request: main merged into the branch.
        state.merge(BRANCH, "main", Person::jane())
    };
    let run = bump(&fake, V3);
    assert_eq!(run.code, 0, "{}\n{}", run.out, run.err);
    let state = fake.state();
    let head = state.head(BRANCH);
    assert_eq!(state.commits[&head].parents, std::slice::from_ref(&merge));
    assert_eq!(state.commits[&merge].parents.len(), 2);
    assert!(state.file(BRANCH, FLEET_FILE).expect("file").contains(V3));
    assert!(state.file(BRANCH, "README.md").is_some());
    assert!(
        run.out.contains(&format!("{} (jane)", &merge[..7])),
        "{}",
        run.out
    );
}

#[test]
fn a_branch_kbundle_alone_wrote_is_still_rebuilt_from_the_base_against_local_fake() {
    let fake = GitHubFake::fleet();
    assert_eq!(bump(&fake, V2).code, 0);
    fake.state()
        .push("main", &[("README.md", "fleet\n")], "main moved on");
    let run = bump(&fake, V3);
    assert_eq!(run.code, 0, "{}", run.err);
    let state = fake.state();
    let head = state.head(BRANCH);
    // One commit on top of main as it is now: the old one is replaced, not stacked on.
    assert_eq!(state.commits[&head].parents, [state.head("main")]);
    assert!(
        run.out.lines().all(|l| !l.contains("kept commits")),
        "{}",
        run.out
    );
}

#[test]
fn the_job_token_in_actions_warns_once_that_checks_will_not_run_against_local_fake() {
    let fake = GitHubFake::fleet();
    let run = bump_with(&fake, V2, &[("GITHUB_ACTIONS", "true")]);
    assert_eq!(run.code, 0, "{}", run.err);
    let warnings: Vec<&str> = run
        .out
        .lines()
        .filter(|l| l.starts_with("::warning::"))
        .collect();
    assert_eq!(warnings.len(), 1, "{}", run.out);
    for needle in [
        "GITHUB_TOKEN",
        "checks will not run",
        "app-id",
        "app-private-key",
    ] {
        assert!(warnings[0].contains(needle), "{needle}: {}", warnings[0]);
    }

    // A person's token: GitHub starts workflows for its pull requests; no warning.
    let fake = GitHubFake::fleet();
    let run = bump_with(
        &fake,
        V2,
        &[
            ("GITHUB_ACTIONS", "true"),
            ("GITHUB_TOKEN", "ghp_persontoken"),
        ],
    );
    assert_eq!(run.code, 0, "{}", run.err);
    assert!(!run.out.contains("::warning::"), "{}", run.out);
}

#[test]
fn an_installation_tokens_commit_is_read_back_verified_and_a_persons_is_not_against_local_fake() {
    let fake = GitHubFake::fleet();
    let run = bump(&fake, V2);
    assert_eq!(run.code, 0, "{}", run.err);
    let head = fake.state().head(BRANCH);
    assert!(
        run.out.contains(&format!(
            "commit {}: verified (signed by GitHub)",
            &head[..7]
        )),
        "{}",
        run.out
    );
    assert_eq!(run.output("commit-verified"), "true");
    assert_eq!(run.output("commit-sha"), head);
    {
        // kbundle named no author, so GitHub made the bot the author and signed it.
        let state = fake.state();
        assert_eq!(state.commits[&head].author, Person::actions_bot());
        assert!(state.commits[&head].verified);
    }

    let fake = GitHubFake::fleet();
    let run = bump_with(&fake, V2, &[("GITHUB_TOKEN", "ghp_persontoken")]);
    assert_eq!(run.code, 0, "{}", run.err);
    assert_eq!(run.output("commit-verified"), "false");
    assert!(
        run.out.contains("not verified (unsigned)") && run.out.contains("--app-id"),
        "{}",
        run.out
    );
    let state = fake.state();
    let author = &state.commits[&state.head(BRANCH)].author;
    assert_eq!(author.name, "kbundle", "{author:?}");
}

#[test]
fn a_body_past_65536_characters_is_cut_and_the_cut_counted_against_local_fake() {
    // A broken fleet file whose image value is 70,000 characters long: the pull request
    // body quotes the old value twice, far past GitHub's cap, which would refuse it (422).
    let long = format!(
        "us-docker.pkg.dev/example-project/config/root:{}",
        "x".repeat(70_000)
    );
    let file = example_root_sync().replace(
        "us-docker.pkg.dev/example-project/config/root:latest",
        &long,
    );
    let fake = GitHubFake::start("acme", "fleet", "main", &[(FLEET_FILE, &file)]);
    let run = bump(&fake, V2);
    assert_eq!(run.code, 0, "{}", run.err);
    let state = fake.state();
    let body = &state.pulls[0].body;
    assert!(body.len() <= 65_536, "{}", body.len());
    assert!(
        body.starts_with("Points `clusters/prod/root-sync.yaml` at"),
        "{body}"
    );
    let note = body.lines().last().expect("note");
    assert!(
        note.contains("cut to fit GitHub's 65536-character limit"),
        "{note}"
    );
    // What was cut is counted: every line after the kept ones, and their characters.
    let full_lines = 4 + 2 + 1 + 4 + 2; // header, table, digest, source…, footer
    let lines: usize = note
        .trim_start_matches("… ")
        .split(' ')
        .next()
        .and_then(|n| n.parse().ok())
        .expect("a line count");
    assert!(lines >= 2 && lines <= full_lines, "{note}");
    let chars: usize = note
        .split(", ")
        .nth(1)
        .and_then(|c| c.split(' ').next())
        .and_then(|n| n.parse().ok())
        .expect("a character count");
    assert!(chars > 140_000, "{note}");
    // The branch has the change, whatever the body shows.
    assert!(state.file(BRANCH, FLEET_FILE).expect("file").contains(V2));
}
