//! Behaviour of `kbundle comment` across runs, against a stateful local FAKE of GitHub's
//! issue comment endpoints (tests/support/github_fake.rs, written from GitHub's REST docs):
//! one sticky comment, found again (on any page) and updated in place; reports from files;
//! annotations. Request shapes are checked against GitHub's real description in
//! tests/github.rs (Prism).

#[path = "support/github_fake.rs"]
mod github_fake;
mod support;

use std::path::Path;

use github_fake::GitHubFake;
use support::Run;

fn kbundle(fake: &GitHubFake, args: &[&str]) -> Run {
    kbundle_env(fake, args, &[])
}

fn kbundle_env(fake: &GitHubFake, args: &[&str], env: &[(&str, &str)]) -> Run {
    Run::of(fake.kbundle().args(args).envs(env.iter().copied()))
}

/// `kbundle validate -o json --summary` on `manifest`, written to `report`.
fn validate_to(manifest: &str, report: &Path) {
    let out = support::kbundle()
        .args(["validate", "-o", "json", "--summary", manifest])
        .output()
        .expect("validate");
    std::fs::write(report, &out.stdout).expect("write report");
}

#[test]
fn the_sticky_comment_is_found_on_a_later_page_and_updated_in_place_against_local_fake() {
    let fake = GitHubFake::start("acme", "config", "main", &[]);
    {
        // 120 other comments: kbundle's lands on the second page of 100.
        let mut state = fake.state();
        // A reviewer quoting an older kbundle comment: not kbundle's to update.
        state.add_comment(42, "> <!-- kbundle:validate -->\n> 1 invalid\n\nwhy?");
        for i in 0..120 {
            state.add_comment(42, &format!("comment {i}"));
        }
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let manifest = dir.path().join("cm.yaml");
    let post = |replicas: &str| {
        std::fs::write(
            &manifest,
            format!(
                "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: {replicas}\n  selector:\n    matchLabels: {{app: web}}\n  template:\n    metadata:\n      labels: {{app: web}}\n    spec:\n      containers: [{{name: web, image: nginx}}]\n"
            ),
        )
        .expect("write");
        kbundle(
            &fake,
            &[
                "comment",
                "--repo",
                "acme/config",
                "--pr",
                "42",
                manifest.to_str().expect("utf-8"),
            ],
        )
    };
    let first = post("2");
    assert_eq!(first.code, 0, "{}", first.err);
    assert!(first.out.starts_with("created: "), "{}", first.out);
    let second = post("\"two\"");
    assert_eq!(second.code, 1, "invalid now: {}", second.err);
    assert!(second.out.starts_with("updated: "), "{}", second.out);
    let third = post("\"two\"");
    assert!(third.out.starts_with("unchanged: "), "{}", third.out);

    let state = fake.state();
    let ours: Vec<_> = state
        .comments
        .iter()
        .filter(|c| c.body.starts_with("<!-- kbundle:validate -->"))
        .collect();
    assert_eq!(ours.len(), 1, "never duplicated");
    assert_eq!(state.comments.len(), 122);
    assert!(
        state.comments[0].body.ends_with("why?"),
        "the quote was left alone"
    );
    assert!(ours[0].body.contains("replicas"), "{}", ours[0].body);
    assert_eq!(state.count("PATCH /repos/acme/config/issues/comments/"), 1);
}

#[test]
fn comment_posts_a_report_file_with_annotations_and_summary_against_local_fake() {
    let fake = GitHubFake::start("acme", "config", "main", &[]);
    let dir = tempfile::tempdir().expect("tempdir");
    // 12 broken ConfigMaps: more problems than GitHub shows annotations for.
    let manifest = dir.path().join("bad.yaml");
    let docs: Vec<String> = (0..12)
        .map(|i| format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c{i}\ndata: 5\n"))
        .collect();
    std::fs::write(&manifest, docs.join("---\n")).expect("write");
    let report = dir.path().join("report.json");
    validate_to(manifest.to_str().expect("utf-8"), &report);
    let summary = dir.path().join("summary.md");
    let summary_env = summary.to_str().expect("utf-8");
    let run = kbundle_env(
        &fake,
        &[
            "comment",
            "--repo",
            "acme/config",
            "--pr",
            "7",
            "--report",
            report.to_str().expect("utf-8"),
        ],
        &[
            ("GITHUB_ACTIONS", "true"),
            ("GITHUB_STEP_SUMMARY", summary_env),
        ],
    );
    assert_eq!(run.code, 1, "judged invalid: {}", run.err);
    let errors = run
        .out
        .lines()
        .filter(|l| l.starts_with("::error "))
        .count();
    assert_eq!(errors, 10, "{}", run.out);
    assert!(
        run.out
            .contains("::notice title=kbundle::2 more problems not annotated"),
        "{}",
        run.out
    );
    assert!(
        std::fs::read_to_string(&summary)
            .expect("summary")
            .contains("12 invalid")
    );
    let state = fake.state();
    assert_eq!(state.comments.len(), 1);
    assert!(
        state.comments[0].body.contains("ConfigMap c11"),
        "{}",
        state.comments[0].body
    );
    // The report was posted, not validated again: no manifest path was given.
    assert_eq!(state.count("POST /repos/acme/config/issues/7/comments"), 1);
}

#[test]
fn a_report_that_is_not_one_is_a_usage_error_naming_the_flag_against_local_fake() {
    let fake = GitHubFake::start("acme", "config", "main", &[]);
    let dir = tempfile::tempdir().expect("tempdir");
    let report = dir.path().join("report.json");
    std::fs::write(&report, "apiVersion: v1\n").expect("write");
    let path = report.to_str().expect("utf-8");
    let run = kbundle(
        &fake,
        &[
            "comment",
            "--repo",
            "acme/config",
            "--pr",
            "7",
            "--report",
            path,
        ],
    );
    assert_eq!(run.code, 2, "{}", run.out);
    assert!(
        run.err.contains(&format!(
            "--report {path}: not a `kbundle validate -o json` report"
        )),
        "{}",
        run.err
    );
    assert!(fake.state().requests.is_empty());
}

#[test]
fn a_report_past_65536_characters_is_cut_with_the_cut_counted_against_local_fake() {
    let fake = GitHubFake::start("acme", "config", "main", &[]);
    let dir = tempfile::tempdir().expect("tempdir");
    // 300 invalid ConfigMaps with 400-character names: the report's rows (200 shown, the
    // rest counted) come to far past GitHub's cap.
    let long = "x".repeat(400);
    for i in 0..300 {
        std::fs::write(
            dir.path().join(format!("cm-{i:04}.yaml")),
            format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {long}-{i}\ndata:\n  replicas: 3\n"),
        )
        .expect("write");
    }
    let run = kbundle(
        &fake,
        &[
            "comment",
            "--repo",
            "acme/config",
            "--pr",
            "42",
            dir.path().to_str().expect("utf-8"),
        ],
    );
    assert_eq!(run.code, 1, "{}\n{}", run.out, run.err);
    let state = fake.state();
    assert_eq!(state.comments.len(), 1, "{}", run.err);
    let body = &state.comments[0].body;
    assert!(body.chars().count() <= 65_536, "{}", body.chars().count());
    assert!(body.starts_with("<!-- kbundle:validate -->"));
    let note = body.lines().last().expect("note");
    let lines: usize = note
        .trim_start_matches("… ")
        .split(' ')
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{} chars, ends: {note}", body.len()));
    assert!(lines > 10, "{note}");
    assert!(
        note.contains("cut to fit GitHub's 65536-character limit"),
        "{note}"
    );
}
