//! A branch that holds someone else's work: their commits, or a merge of the base. kbundle
//! never force-pushes it. Its change goes on top as one more commit when the file at the tip
//! still has the values kbundle would replace; otherwise it writes nothing, says which commits
//! are in the way, and leaves one comment on the pull request saying what to do.

use super::Pull;
use super::api::Repo;
use super::git::{Move, RefUpdate};
use super::history::{self, Ahead, CommitInfo, TRAILER};
use super::pull_request::{Plan, Proposal};
use crate::error::Result;

/// Finds kbundle's refusal comment again; GitHub does not render it.
pub const MARKER: &str = "<!-- kbundle:bump-refused -->";

/// Why kbundle left the branch alone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// Someone else's commits on the branch, `1a2b3c4 (jane)`.
    pub commits: Vec<String>,
    /// What they did to the file.
    pub reason: String,
    /// The refusal comment's URL, when a pull request is open.
    pub comment: Option<String>,
}

pub(super) enum Stacked {
    /// The change is on the branch (`same`: it already was, nothing written).
    Done {
        same: bool,
    },
    /// The branch moved while kbundle wrote; try again from fresh state.
    Moved(String),
    Refused(Refusal),
}

/// Adds the change on top of `tip`, or refuses (see the module doc).
pub(super) async fn stack(
    repo: &Repo,
    plan: &Plan<'_>,
    propose: &impl Fn(&str) -> Result<Proposal>,
    tip: &str,
    ahead: &Ahead,
    theirs: &[CommitInfo],
    open: Option<&Pull>,
) -> Result<Stacked> {
    let path = plan.path;
    // What kbundle last wrote: the file at its newest own commit, else at the merge base.
    let reference_at = ahead
        .commits
        .iter()
        .rev()
        .find(|c| c.is_kbundles(path))
        .map_or(ahead.merge_base.as_str(), |c| c.sha.as_str());
    let reference = repo.file(path, reference_at).await?;
    let at_tip = repo.file(path, tip).await?;
    let Some(at_tip) = at_tip else {
        let reason = format!("{path} was deleted on the branch");
        return refuse(repo, plan, theirs, reason, open)
            .await
            .map(Stacked::Refused);
    };
    let edit = match propose(&at_tip) {
        Ok(edit) => edit,
        Err(e) => {
            let reason = format!("kbundle cannot edit {path} as the branch has it: {e}");
            return refuse(repo, plan, theirs, reason, open)
                .await
                .map(Stacked::Refused);
        }
    };
    let Some(new_text) = &edit.text else {
        // The tip already points at the image.
        return Ok(Stacked::Done { same: true });
    };
    let untouched = reference.as_deref() == Some(at_tip.as_str())
        || match reference.as_deref().map(propose) {
            Some(Ok(before)) => before.text.is_some() && before.replaces == edit.replaces,
            _ => false,
        };
    if !untouched {
        let reason = format!(
            "they changed the value kbundle writes in {path} (now {})",
            edit.replaces.join(", ")
        );
        return refuse(repo, plan, theirs, reason, open)
            .await
            .map(Stacked::Refused);
    }
    let tree = repo.commit_tree(tip).await?;
    let message = history::message(&edit.title, &edit.body, path);
    let (commit, _) = repo
        .commit_file(tip, &tree, path, new_text, &message)
        .await?;
    Ok(
        match repo
            .set_branch(plan.branch, &commit, Move::FastForward)
            .await?
        {
            RefUpdate::Done => Stacked::Done { same: false },
            RefUpdate::Conflict(why) => Stacked::Moved(why),
        },
    )
}

/// Writes (or updates) the refusal comment on the open pull request and says why.
async fn refuse(
    repo: &Repo,
    plan: &Plan<'_>,
    theirs: &[CommitInfo],
    reason: String,
    open: Option<&Pull>,
) -> Result<Refusal> {
    let commits: Vec<String> = theirs.iter().map(CommitInfo::describe).collect();
    let mut comment = None;
    if let Some(pull) = open {
        let body = comment_body(plan, &commits, &reason);
        let existing = repo
            .issue_comments(pull.number)
            .await?
            .into_iter()
            .find(|c| c.body.as_deref().is_some_and(|b| b.starts_with(MARKER)));
        let posted = match existing {
            Some(c) if c.body.as_deref() == Some(body.as_str()) => c,
            Some(c) => repo.update_comment(c.id, &body).await?,
            None => repo.create_comment(pull.number, &body).await?,
        };
        comment = Some(posted.html_url);
    }
    Ok(Refusal {
        commits,
        reason,
        comment,
    })
}

fn comment_body(plan: &Plan<'_>, commits: &[String], reason: &str) -> String {
    let list: String = commits.iter().map(|c| format!("- {c}\n")).collect();
    let text = format!(
        "{MARKER}\n**kbundle bump did not update this branch.** It holds commits that kbundle \
         did not make, and {reason}:\n\n{list}\nkbundle never force-pushes over them. To let \
         the next bump through, either\n\n- revert the change to the image value in `{path}` on \
         `{branch}` (kbundle then adds its change on top of your commits), or\n- close this \
         pull request and delete `{branch}` (kbundle then opens a new one from the base), or\n\
         - set the image yourself and merge.\n\n<sub>kbundle recognises its own commits by the \
         `{TRAILER}: {path}` trailer and their bot or kbundle author.</sub>\n",
        path = plan.path,
        branch = plan.branch,
    );
    super::limits::fit(&text, "see the bump step's log")
}
