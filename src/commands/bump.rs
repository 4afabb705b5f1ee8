//! `kbundle bump`: point a fleet file at a new image digest, locally or in a pull request.

use std::path::{Path, PathBuf};

use crate::actions;
use crate::commands::args::BumpArgs;
use crate::error::{Error, Outcome, Result};
use crate::github::api::Repo;
use crate::github::pull_request::{self, Operation, Plan, Proposal};
use crate::gitops::{self, Change};

pub fn run(args: BumpArgs) -> Result<Outcome> {
    if let Some(repo) = &args.repo {
        return in_pull_request(&args, repo);
    }
    let path = &args.file;
    // A link is edited where it points, so the link itself stays a link.
    let target = link_target(path)?;
    let text = std::fs::read_to_string(&target)
        .map_err(|e| Error::new(format!("{}: {e}", path.display())))?;
    let edit = match gitops::bump(&text, &args.image, args.pin, args.name.as_deref()) {
        Ok(edit) => edit,
        Err(gitops::BumpError::DuplicateKey { key, line, first }) => {
            // A verdict on the file, not a usage error.
            let p = path.display();
            eprintln!(
                "kbundle: error: {p}:{line}: duplicate key {key:?}, also at {p}:{first}; a \
                 mapping holds each key once, remove one and run again"
            );
            return Ok(Outcome::Failed);
        }
        Err(e) => return Err(Error::new(format!("{}: {e}", path.display()))),
    };
    // A local edit opens no pull request: the outputs say so rather than stay unset.
    let fail = |e: std::io::Error| Error::new(format!("$GITHUB_OUTPUT: {e}"));
    for name in ["pull-request-number", "pull-request-url", "operation"] {
        actions::set_output(name, "").map_err(fail)?;
    }
    if edit.changes.is_empty() {
        println!("up to date");
        return Ok(Outcome::Passed);
    }
    super::write_atomically(&target, edit.text.as_bytes(), None)?;
    for c in &edit.changes {
        println!(
            "{}:{}: {} {} {}: {} -> {}",
            path.display(),
            c.line,
            c.kind,
            c.name,
            c.field,
            c.old,
            c.new
        );
    }
    Ok(Outcome::Passed)
}

/// The file `path` names: itself, or where it leads when it is a symbolic link. A link that
/// leaves the git work tree it sits in is refused: a fleet repository's link is meant to
/// share a file inside it, and following it out would let a checked-out repository point
/// bump at any file the runner can write.
pub(super) fn link_target(path: &Path) -> Result<PathBuf> {
    let shown = path.display();
    let is_link = std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink());
    if !is_link {
        return Ok(path.to_path_buf());
    }
    let target = std::fs::canonicalize(path).map_err(|e| {
        Error::new(format!(
            "{shown}: a symbolic link that cannot be followed ({e}); point it at the fleet file"
        ))
    })?;
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let folder = std::fs::canonicalize(parent).map_err(|e| Error::new(format!("{shown}: {e}")))?;
    if let Some(root) = folder.ancestors().find(|d| d.join(".git").exists()) {
        if !target.starts_with(root) {
            return Err(Error::new(format!(
                "{shown}: a symbolic link to {}, outside the git work tree {}; bump the file \
                 itself, or make the link point inside the repository",
                target.display(),
                root.display()
            )));
        }
    }
    Ok(target)
}

fn in_pull_request(args: &BumpArgs, repo: &str) -> Result<Outcome> {
    let validation = match &args.report {
        Some(path) => {
            let report = super::comment::read_report(path)?;
            Some(crate::report::read::totals(report.summary()))
        }
        None => None,
    };
    // The new bundle is read where the fleet will pull it from.
    let registry = crate::commands::args::RegistryArgs::default();
    let new = format!("{}@{}", args.image.repository, args.image.digest).parse();
    let diff = new.map(|new| super::diff::FleetDiff::new(new, &registry));
    let fleet = Fleet {
        repo,
        file: &args.file,
        file_flag: "--file",
        image: &args.image,
        pin: args.pin,
        name: args.name.as_deref(),
        base: args.base.as_deref(),
        branch: args.branch.as_deref(),
        labels: &args.label,
        reviewers: &args.reviewer,
        team_reviewers: &args.team_reviewer,
        draft: args.draft,
        github: &args.github,
        validation,
        // bump only moves a reference; it has not looked at the signatures.
        signature: None,
        diff: diff.as_ref().ok().filter(|_| !args.no_diff),
    };
    let outcome = open_or_update(&fleet)?;
    if let Operation::Refused(refusal) = &outcome.operation {
        eprintln!("kbundle: error: {}", refused(&fleet, refusal)?);
        return Ok(Outcome::Failed);
    }
    println!("{}", describe_outcome(&fleet, &outcome)?);
    if let Some(line) = describe_commit(&outcome) {
        println!("{line}");
    }
    Ok(Outcome::Passed)
}

/// The exit-1 message when someone else's commits are in the way.
pub(super) fn refused(fleet: &Fleet, refusal: &pull_request::Refusal) -> Result<String> {
    let path = repo_path(fleet)?;
    let comment = match &refusal.comment {
        Some(url) => format!("; said so on the pull request: {url}"),
        None => String::new(),
    };
    Ok(format!(
        "{}: {path}: not updated: the branch holds commits kbundle did not make ({}), and {};          kbundle does not force-push over them: revert their change to the image value, or          close the pull request and delete the branch, then run bump again{comment}",
        fleet.repo,
        refusal.commits.join(", "),
        refusal.reason
    ))
}

/// `commit 1a2b3c4 on kbundle/root-sync: verified (signed by GitHub)`, or why it is not, and
/// a `::warning::` once when the commit is the job token's, whose pull requests start no
/// workflows.
pub(super) fn describe_commit(outcome: &pull_request::Outcome) -> Option<String> {
    let commit = outcome.commit.as_ref()?;
    let mut line = if commit.verification.verified {
        format!("commit {}: verified (signed by GitHub)", commit.short())
    } else {
        format!(
            "commit {}: not verified ({}); GitHub signs the commits a GitHub App makes through \
             its API: use --app-id and --app-private-key (action inputs app-id, app-private-key)",
            commit.short(),
            if commit.verification.reason.is_empty() {
                "no verification"
            } else {
                commit.verification.reason.as_str()
            }
        )
    };
    if !outcome.kept.is_empty() {
        let kept: Vec<String> = outcome.kept.iter().map(|c| c.describe()).collect();
        line.push_str(&format!(
            "\nkept commits by others on the branch, kbundle's change on top: {}",
            kept.join(", ")
        ));
    }
    if commit.author.name == crate::github::history::ACTIONS_BOT
        && outcome.operation != Operation::Unchanged
    {
        job_token_warning();
    }
    Some(line)
}

/// Pull requests and pushes made with a workflow's own GITHUB_TOKEN start no workflow runs,
/// so the fleet repository's required checks would wait forever.
fn job_token_warning() {
    let text = "the fleet pull request was written with the workflow's own GITHUB_TOKEN \
                (github-actions[bot]): GitHub starts no workflows for it, so the fleet \
                repository's checks will not run on it; give kbundle a GitHub App (inputs \
                app-id and app-private-key, or --app-id and --app-private-key)";
    if actions::active() {
        println!("::warning::{}", actions::escape_data(text));
    } else {
        eprintln!("kbundle: warning: {text}");
    }
}

/// A fleet file in another repository, changed through a pull request.
pub(super) struct Fleet<'a> {
    /// `OWNER/NAME`
    pub repo: &'a str,
    /// The path inside `repo`.
    pub file: &'a Path,
    /// The option that named `file`, for messages.
    pub file_flag: &'a str,
    pub image: &'a gitops::NewImage,
    pub pin: gitops::Pin,
    pub name: Option<&'a str>,
    pub base: Option<&'a str>,
    pub branch: Option<&'a str>,
    pub labels: &'a [String],
    pub reviewers: &'a [String],
    pub team_reviewers: &'a [String],
    pub draft: bool,
    pub github: &'a crate::commands::args::GitHubAuthArgs,
    /// The validation totals of the bundle, when known.
    pub validation: Option<String>,
    /// What is known about the bundle's signature.
    pub signature: Option<String>,
    /// The diff between the old and new bundle, for the body.
    pub diff: Option<&'a super::diff::FleetDiff<'a>>,
}

/// Opens or updates the fleet pull request and sets the pull-request-* and operation outputs.
pub(super) fn open_or_update(fleet: &Fleet) -> Result<pull_request::Outcome> {
    let path = repo_path(fleet)?;
    let branch = match fleet.branch {
        Some(b) => b.to_owned(),
        None => {
            let stem = fleet
                .file
                .file_stem()
                .and_then(|s| s.to_str())
                .unwrap_or("fleet");
            format!("kbundle/{stem}")
        }
    };
    let repo = fleet.repo;
    let credentials = super::github_credentials(fleet.github)?;
    let runtime = super::runtime()?;
    let client = runtime.block_on(Repo::connect(repo, &credentials))?;
    let plan = Plan {
        path: &path,
        base: fleet.base,
        branch: &branch,
        labels: fleet.labels,
        reviewers: fleet.reviewers,
        team_reviewers: fleet.team_reviewers,
        draft: fleet.draft,
    };
    let propose = |text: &str| -> Result<Proposal> {
        let edit = gitops::bump(text, fleet.image, fleet.pin, fleet.name)
            .map_err(|e| Error::new(format!("{repo}: {path}: {e}")))?;
        let (title, body) = describe(&path, &edit.changes, fleet);
        let replaces = edit
            .changes
            .iter()
            .map(|c| format!("{} {} {}={}", c.kind, c.name, c.field, c.old))
            .collect();
        Ok(Proposal {
            text: (!edit.changes.is_empty()).then_some(edit.text),
            title,
            body,
            replaces,
        })
    };
    let outcome = runtime.block_on(pull_request::open_or_update(&client, &plan, propose))?;
    drop(client);
    let pull = outcome
        .pull
        .as_ref()
        .map(|p| (p.number, p.html_url.as_str()));
    set_outputs(pull, &outcome.operation)?;
    if let Some(commit) = &outcome.commit {
        let fail = |e: std::io::Error| Error::new(format!("$GITHUB_OUTPUT: {e}"));
        actions::set_output("commit-sha", &commit.sha).map_err(fail)?;
        let verified = if commit.verification.verified {
            "true"
        } else {
            "false"
        };
        actions::set_output("commit-verified", verified).map_err(fail)?;
    }
    Ok(outcome)
}

/// One line saying what happened: `updated: URL`, `up to date: REPO PATH on BASE`.
pub(super) fn describe_outcome(fleet: &Fleet, outcome: &pull_request::Outcome) -> Result<String> {
    let path = repo_path(fleet)?;
    let repo = fleet.repo;
    let base = &outcome.base;
    Ok(match (&outcome.operation, &outcome.pull) {
        (Operation::Vanished, Some(pull)) => format!(
            "unchanged: {} left alone: {repo} {path} on {base} already points at the image",
            pull.html_url
        ),
        (Operation::Unchanged, Some(pull)) => {
            format!("unchanged: {} already proposes this change", pull.html_url)
        }
        (Operation::Created | Operation::Updated, Some(pull)) => {
            format!("{}: {}", outcome.operation.output(), pull.html_url)
        }
        _ => format!("up to date: {repo} {path} on {base}, no pull request needed"),
    })
}

/// The fleet file's path inside the repository: relative, UTF-8, with forward slashes.
fn repo_path(fleet: &Fleet) -> Result<String> {
    fleet
        .file
        .to_str()
        .map(|p| p.trim_start_matches("./").replace('\\', "/"))
        .filter(|p| !p.is_empty() && !p.starts_with('/'))
        .ok_or_else(|| {
            Error::new(format!(
                "{} {}: give the path inside the repository (relative, UTF-8)",
                fleet.file_flag,
                fleet.file.display()
            ))
        })
}

fn set_outputs(pull: Option<(u64, &str)>, operation: &Operation) -> Result<()> {
    let fail = |e: std::io::Error| Error::new(format!("$GITHUB_OUTPUT: {e}"));
    let (number, url) = pull.map_or((String::new(), ""), |(n, u)| (n.to_string(), u));
    actions::set_output("pull-request-number", &number).map_err(fail)?;
    actions::set_output("pull-request-url", url).map_err(fail)?;
    actions::set_output("operation", operation.output()).map_err(fail)
}

/// The pull request's title and body: what changes (old and new digest), where it was built
/// from, how it was validated and signed.
fn describe(path: &str, changes: &[Change], fleet: &Fleet) -> (String, String) {
    let digest: &str = fleet.image.digest.as_ref();
    let short = digest
        .split_once(':')
        .map_or(digest, |(_, hex)| hex)
        .get(..12)
        .unwrap_or(digest);
    let title = match changes {
        [c] if !c.name.is_empty() => format!("Bump {} {} to {short}", c.kind, c.name),
        [c] => format!("Bump {} to {short}", c.kind),
        [c, ..] => format!(
            "Bump {} {} and {} more to {short}",
            c.kind,
            c.name,
            changes.len() - 1
        ),
        [] => format!("Bump {path} to {short}"),
    };
    let mut body = format!("Points `{path}` at the new image digest `{digest}`.\n\n");
    body.push_str("| resource | field | old | new |\n|---|---|---|---|\n");
    for c in changes {
        let old = if c.old.is_empty() { "(none)" } else { &c.old };
        body.push_str(&format!(
            "| {} {} | `{}` | `{old}` | `{}` |\n",
            c.kind, c.name, c.field, c.new
        ));
    }
    let mut old: Vec<String> = changes
        .iter()
        .map(|c| match digest_in(&c.old) {
            Some(d) => format!("`{d}`"),
            None if c.old.is_empty() => "none".to_owned(),
            None => format!("none (`{}`, by tag)", c.old),
        })
        .collect();
    old.dedup();
    body.push_str(&format!(
        "\n- **Digest:** {} → `{digest}`\n",
        old.join(", ")
    ));
    body.push_str(&format!(
        "- **Source commit:** {}\n",
        source_commit()
            .unwrap_or_else(|| "unknown (GITHUB_REPOSITORY and GITHUB_SHA are not set)".to_owned())
    ));
    body.push_str(&format!(
        "- **Validation:** {}\n",
        fleet.validation.as_deref().unwrap_or(
            "not given to kbundle bump (pass --report with a `kbundle validate -o json --summary` file)"
        )
    ));
    body.push_str(&format!(
        "- **Signature:** {}\n",
        fleet
            .signature
            .as_deref()
            .unwrap_or("not checked by kbundle bump (check it with `kbundle verify`)")
    ));
    let footer = "\n<sub>Opened by kbundle bump. Commits you push to this branch are kept: the next \
                  bump adds its change on top, or stops and comments here if you changed the \
                  image.</sub>\n";
    if let Some(diff) = fleet.diff {
        let budget = super::diff::BODY_LIMIT.saturating_sub(body.len() + footer.len() + 1);
        let section = diff.section(changes, budget);
        if !section.is_empty() {
            body.push('\n');
            body.push_str(&section);
        }
    }
    body.push_str(footer);
    let body = crate::github::limits::fit(&body, "the diff shows every change");
    (title, body)
}

/// The digest in `repo:tag@sha256:…`, or a bare `sha256:…` (Flux's `spec.ref.digest`).
fn digest_in(value: &str) -> Option<&str> {
    let d = value.rsplit_once('@').map_or(value, |(_, d)| d);
    d.starts_with("sha256:").then_some(d)
}

/// `GITHUB_SERVER_URL/GITHUB_REPOSITORY/commit/GITHUB_SHA` when running in Actions.
fn source_commit() -> Option<String> {
    let var = |n: &str| std::env::var(n).ok().filter(|v| !v.is_empty());
    let server = var("GITHUB_SERVER_URL").unwrap_or_else(|| "https://github.com".to_owned());
    Some(format!(
        "{}/{}/commit/{}",
        server.trim_end_matches('/'),
        var("GITHUB_REPOSITORY")?,
        var("GITHUB_SHA")?
    ))
}
