//! One pull request per branch that carries a single-file change: commit through the Git
//! data API (blob, tree, commit, ref), then create or update the open pull request.
//! Running it twice never opens a second pull request.

use super::api::Repo;
use super::foreign::{self, Stacked};
use super::git::{Move, RefUpdate};
use super::history::{self, CommitInfo};
use super::{NewPull, Pull};
use crate::error::{Error, Result};

pub use super::foreign::Refusal;

/// Where the change goes and who looks at it.
pub struct Plan<'a> {
    /// The file, relative to the repository root.
    pub path: &'a str,
    /// The branch the pull request merges into; `None` means the default branch.
    pub base: Option<&'a str>,
    /// The branch kbundle writes: rebuilt while only kbundle committed to it.
    pub branch: &'a str,
    pub labels: &'a [String],
    pub reviewers: &'a [String],
    pub team_reviewers: &'a [String],
    pub draft: bool,
}

/// What to write, decided from the file's text at the base.
pub struct Proposal {
    /// The new text; `None` when the file is already up to date.
    pub text: Option<String>,
    pub title: String,
    pub body: String,
    /// The values the edit replaces (`RootSync root-sync spec.oci.image=…`), to tell whether
    /// someone else's commits touched them.
    pub replaces: Vec<String>,
}

/// What happened to the pull request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Operation {
    Created,
    Updated,
    /// An open pull request already carries exactly this change and was left alone.
    Unchanged,
    /// The base already has the change (merged by hand, or by another pull request): the
    /// open pull request was left alone.
    Vanished,
    /// Nothing to change and no pull request open.
    UpToDate,
    /// Someone else's commits on the branch changed what kbundle writes: nothing was written.
    Refused(Refusal),
}

impl Operation {
    /// The action's `operation` output: `created`, `updated` or `unchanged`.
    pub fn output(&self) -> &'static str {
        match self {
            Operation::Created => "created",
            Operation::Updated => "updated",
            Operation::Unchanged | Operation::Vanished | Operation::UpToDate => "unchanged",
            Operation::Refused(_) => "refused",
        }
    }
}

pub struct Outcome {
    pub operation: Operation,
    pub pull: Option<Pull>,
    pub base: String,
    /// The commit the branch ends on, read back after the run (author, verification).
    pub commit: Option<CommitInfo>,
    /// Someone else's commits on the branch, kept under kbundle's new one.
    pub kept: Vec<CommitInfo>,
}

/// Reads `plan.path` at the base, asks `propose` what to change, and carries it out.
///
/// A branch that holds only kbundle's own commits is rebuilt from the base. One that holds
/// anyone else's (a commit, a merge of the base) is never force-pushed: the change goes on
/// top as one more commit when the file there still has what kbundle wrote (or the edit
/// applies to it untouched), else nothing is written and the pull request gets a comment.
///
/// When GitHub refuses the branch update because something moved meanwhile (409), it starts
/// over once from the base as it is now; a second conflict is an error.
pub async fn open_or_update(
    repo: &Repo,
    plan: &Plan<'_>,
    propose: impl Fn(&str) -> Result<Proposal>,
) -> Result<Outcome> {
    let base = match plan.base {
        Some(b) => b.to_owned(),
        None => repo.default_branch().await?,
    };
    let mut attempt = 1;
    let (proposal, same, open, kept) = loop {
        let head = repo.branch_head(&base).await?.ok_or_else(|| {
            Error::new(format!(
                "GitHub {}: base branch {base} does not exist; check --base",
                repo.full_name()
            ))
        })?;
        let text = repo.file(plan.path, &head).await?.ok_or_else(|| {
            Error::new(format!(
                "GitHub {}: {} does not exist on branch {base} (commit {head}); give the file's \
                 path inside the repository",
                repo.full_name(),
                plan.path
            ))
        })?;
        let proposal = propose(&text)?;
        let open = repo.open_pull(plan.branch).await?;

        let Some(new_text) = &proposal.text else {
            let operation = match open {
                Some(_) => Operation::Vanished,
                None => Operation::UpToDate,
            };
            return Ok(Outcome {
                operation,
                pull: open,
                base,
                commit: None,
                kept: Vec::new(),
            });
        };

        let branch_head = repo.branch_head(plan.branch).await?;
        if let Some(tip) = &branch_head {
            let ahead = repo.ahead(&head, tip).await?;
            let theirs: Vec<_> = ahead
                .commits
                .iter()
                .filter(|c| !c.is_kbundles(plan.path))
                .cloned()
                .collect();
            if !theirs.is_empty() || !ahead.complete {
                match foreign::stack(repo, plan, &propose, tip, &ahead, &theirs, open.as_ref())
                    .await?
                {
                    Stacked::Done { same } => break (proposal, same, open, theirs),
                    Stacked::Moved(why) if attempt == 1 => {
                        tracing::info!("branch {}: {why}; starting over", plan.branch);
                        attempt += 1;
                        continue;
                    }
                    Stacked::Moved(why) => return Err(twice(repo, plan, &base, &why)),
                    Stacked::Refused(refusal) => {
                        return Ok(Outcome {
                            operation: Operation::Refused(refusal),
                            pull: open,
                            base,
                            commit: None,
                            kept: theirs,
                        });
                    }
                }
            }
            // Only kbundle's commits. The branch is already one commit on top of the base
            // with exactly this file (the previous run made it): keep it, and the reviews on
            // it, without writing anything.
            let (_, parents) = repo.commit(tip).await?;
            if parents == [head.as_str()]
                && repo.file(plan.path, tip).await?.as_deref() == Some(new_text.as_str())
            {
                break (proposal, true, open, Vec::new());
            }
        }
        let base_tree = repo.commit_tree(&head).await?;
        let message = history::message(&proposal.title, &proposal.body, plan.path);
        let (commit, tree) = repo
            .commit_file(&head, &base_tree, plan.path, new_text, &message)
            .await?;
        // The branch already holds exactly this content: keep its commit (and the reviews on it).
        let same = match &branch_head {
            Some(sha) => repo.commit_tree(sha).await? == tree,
            None => false,
        };
        if same {
            break (proposal, same, open, Vec::new());
        }
        // GitHub's REST ref update has no compare-and-swap: a push landing between the compare
        // above and this force is still replaced. The window is a few requests long; the
        // README names it as the one case kbundle cannot guard against.
        let how = match branch_head {
            Some(_) => Move::Force,
            None => Move::Create,
        };
        match repo.set_branch(plan.branch, &commit, how).await? {
            RefUpdate::Done => break (proposal, same, open, Vec::new()),
            RefUpdate::Conflict(why) if attempt == 1 => {
                tracing::info!("branch {}: {why}; starting over from {base}", plan.branch);
                attempt += 1;
            }
            RefUpdate::Conflict(why) => return Err(twice(repo, plan, &base, &why)),
        }
    };

    let (operation, pull) = match open {
        Some(pull)
            if same
                && pull.title == proposal.title
                && pull.body.as_deref() == Some(proposal.body.as_str()) =>
        {
            (Operation::Unchanged, pull)
        }
        Some(pull) => {
            let pull = repo
                .update_pull(pull.number, &proposal.title, &proposal.body)
                .await?;
            (Operation::Updated, pull)
        }
        None => {
            let pull = repo
                .create_pull(&NewPull {
                    title: &proposal.title,
                    head: plan.branch,
                    base: &base,
                    body: &proposal.body,
                    draft: plan.draft,
                })
                .await?;
            (Operation::Created, pull)
        }
    };
    if operation != Operation::Unchanged {
        if !plan.labels.is_empty() {
            repo.add_labels(pull.number, plan.labels).await?;
        }
        if !plan.reviewers.is_empty() || !plan.team_reviewers.is_empty() {
            repo.request_reviewers(pull.number, plan.reviewers, plan.team_reviewers)
                .await?;
        }
    }
    // What the branch ends on, read back for its author and GitHub's signature verdict.
    let commit = match repo.branch_head(plan.branch).await? {
        Some(tip) => Some(repo.commit_info(&tip).await?),
        None => None,
    };
    Ok(Outcome {
        operation,
        pull: Some(pull),
        base,
        commit,
        kept,
    })
}

fn twice(repo: &Repo, plan: &Plan<'_>, base: &str, why: &str) -> Error {
    Error::new(format!(
        "GitHub {}: update branch {}: {why}, twice: the branch or {base} keeps moving while \
         kbundle writes; run it again",
        repo.full_name(),
        plan.branch
    ))
}
