//! `kbundle comment`: the validation report as one sticky pull request comment.

use crate::actions;
use crate::actions::summary::Timing;
use crate::commands::args::CommentArgs;
use crate::error::{Error, Outcome, Result};
use crate::github::api::{Credentials, Repo};
use crate::manifest::discover;
use crate::report::{Format, Report, Settings, render};

/// Finds kbundle's comment again; GitHub does not render it.
pub const MARKER: &str = "<!-- kbundle:validate -->";

pub fn run(args: CommentArgs) -> Result<Outcome> {
    let number = match args.pr {
        Some(n) => n,
        None => event_pr()?,
    };
    let credentials = super::github_credentials(&args.github)?;
    let report = match &args.report {
        Some(path) => read_report(path)?,
        None => {
            let inputs = discover(&args.paths, &[]).map_err(|e| Error::new(e.to_string()))?;
            super::validate::judge(&args.rules, &inputs, false)?
        }
    };
    if crate::actions::active() {
        annotate(&report)?;
    }
    println!("{}", upsert(&args.repo, &credentials, number, &report)?);
    Ok(Outcome::from_passed(report.passed()))
}

/// `--comment` of publish and validate: the sticky validation comment, on pull request events
/// when a token is there. A comment GitHub refuses is a warning, not a failure: a pull
/// request from a fork gets a read-only token, and its validation must still be reported.
pub(super) fn on_pull_request(report: &Report) -> Result<Option<Timing>> {
    let var = |n: &str| std::env::var(n).ok().filter(|v| !v.is_empty());
    let event = var("GITHUB_EVENT_NAME").unwrap_or_default();
    if !matches!(event.as_str(), "pull_request" | "pull_request_target") {
        return Ok(None);
    }
    if var("GITHUB_TOKEN").is_none() {
        return Ok(Some(super::step::skipped("comment", "no GitHub token")));
    }
    let repo = var("GITHUB_REPOSITORY").ok_or_else(|| {
        Error::new(
            "--comment: GITHUB_REPOSITORY is not set; it names the pull request's repository",
        )
    })?;
    let step = super::step::Step::start("comment");
    let number = event_pr()?;
    match upsert(&repo, &Credentials::Token, number, report) {
        Ok(what) => Ok(Some(step.done(&what))),
        Err(e) => {
            let message = format!(
                "the validation comment was not posted on #{number}: {e}; the report is in the job summary"
            );
            let timing = step.failed(&format!("not posted on #{number}"));
            actions::annotate("warning", "kbundle comment", &message);
            Ok(Some(timing))
        }
    }
}

/// A report `validate -o json` wrote earlier.
pub(super) fn read_report(path: &std::path::Path) -> Result<Report> {
    let shown = path.display();
    let text =
        std::fs::read_to_string(path).map_err(|e| Error::new(format!("--report {shown}: {e}")))?;
    crate::report::read::from_json(&text).map_err(|e| {
        Error::new(format!(
            "--report {shown}: {e}; write it with `kbundle validate -o json --summary`"
        ))
    })
}

/// In Actions: line annotations (GitHub shows 10 per step; the rest are counted) and the
/// markdown report in the job summary.
fn annotate(report: &Report) -> Result<()> {
    let mut out = Vec::new();
    render(report, Format::Github, Settings::default(), &mut out)
        .and_then(|()| std::io::Write::write_all(&mut std::io::stdout(), &out))
        .map_err(|e| Error::new(format!("cannot print the annotations: {e}")))?;
    let mut md = Vec::new();
    render(report, Format::Markdown, Settings::default(), &mut md)
        .map_err(|e| Error::new(format!("cannot render the report: {e}")))?;
    crate::actions::append_summary(&String::from_utf8_lossy(&md))
        .map_err(|e| Error::new(format!("$GITHUB_STEP_SUMMARY: {e}")))
}

/// Creates, updates or leaves alone the sticky comment with `report` on pull request
/// `number`; sets the comment-url output and says what happened (`created: URL`).
pub(super) fn upsert(
    repo: &str,
    credentials: &Credentials,
    number: u64,
    report: &Report,
) -> Result<String> {
    let mut md = Vec::new();
    render(report, Format::Markdown, Settings::default(), &mut md)
        .map_err(|e| Error::new(format!("cannot render the report: {e}")))?;
    let body = body(&String::from_utf8_lossy(&md));

    let runtime = super::runtime()?;
    let (verb, comment) = runtime.block_on(async {
        let repo = Repo::connect(repo, credentials).await?;
        let existing = repo
            .issue_comments(number)
            .await?
            .into_iter()
            // Ours start with the marker; a reply quoting it (`> <!-- …`) does not.
            .find(|c| c.body.as_deref().is_some_and(|b| b.starts_with(MARKER)));
        match existing {
            Some(c) if c.body.as_deref() == Some(body.as_str()) => Ok(("unchanged", c)),
            Some(c) => Ok(("updated", repo.update_comment(c.id, &body).await?)),
            None => Ok(("created", repo.create_comment(number, &body).await?)),
        }
    })?;
    let fail = |e: std::io::Error| Error::new(format!("$GITHUB_OUTPUT: {e}"));
    crate::actions::set_output("comment-url", &comment.html_url).map_err(fail)?;
    Ok(format!("{verb}: {}", comment.html_url))
}

/// The marker, then the report, cut to fit GitHub's comment limit.
fn body(markdown: &str) -> String {
    crate::github::limits::fit(
        &format!("{MARKER}\n{markdown}"),
        "the job summary and `kbundle validate` show the whole report",
    )
}

/// `pull_request.number` (or `number`) of the event in `GITHUB_EVENT_PATH`.
pub(super) fn event_pr() -> Result<u64> {
    let path = std::env::var_os("GITHUB_EVENT_PATH")
        .filter(|p| !p.is_empty())
        .ok_or_else(|| {
            Error::new("--pr is missing and GITHUB_EVENT_PATH is not set; pass --pr NUMBER")
        })?;
    let shown = std::path::Path::new(&path).display().to_string();
    let text = std::fs::read_to_string(&path)
        .map_err(|e| Error::new(format!("GITHUB_EVENT_PATH {shown}: {e}")))?;
    let event: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| Error::new(format!("GITHUB_EVENT_PATH {shown}: {e}")))?;
    event
        .pointer("/pull_request/number")
        .or_else(|| event.pointer("/number"))
        .and_then(serde_json::Value::as_u64)
        .ok_or_else(|| {
            Error::new(format!(
                "GITHUB_EVENT_PATH {shown}: the event is not about a pull request; pass --pr NUMBER"
            ))
        })
}
