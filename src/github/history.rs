//! What a branch holds beyond its base, and which of it kbundle wrote: the compare endpoint
//! (`GET /repos/{owner}/{repo}/compare/{base}...{head}`), a commit's author, committer and
//! signature verification (`GET /repos/{owner}/{repo}/git/commits/{sha}`), and the rule that
//! tells kbundle's own commits from anyone else's, so that `bump` never force-pushes over a
//! person's work.

use serde::{Deserialize, Serialize};

use super::api::{Repo, encode};
use crate::error::{Error, Result};

/// The trailer every commit kbundle makes carries, with the file's path as its value.
pub const TRAILER: &str = "Kbundle-Bump";

/// Who kbundle commits as when it has to say: with a personal access token GitHub would
/// record the token's owner, a person, and kbundle could no longer tell its commits from
/// theirs. With an installation token (a GitHub App, the job's `GITHUB_TOKEN`) no author is
/// sent, so the commit is the app's bot's and GitHub signs it.
pub const AUTHOR_NAME: &str = "kbundle";
pub const AUTHOR_EMAIL: &str = "kbundle-bump@noreply.invalid";

/// GitHub's own committer on commits it makes for someone (web edits, "Update branch").
const WEB_FLOW_EMAIL: &str = "noreply@github.com";

/// The Actions app's bot: what commits made with a workflow's own `GITHUB_TOKEN` are by.
pub const ACTIONS_BOT: &str = "github-actions[bot]";

/// A name and e-mail in a commit.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Person {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub email: String,
}

/// GitHub's `verification` object (components/schemas/verification).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Verification {
    #[serde(default)]
    pub verified: bool,
    #[serde(default)]
    pub reason: String,
}

/// One commit, as the compare and git/commits endpoints describe it.
#[derive(Debug, Clone)]
pub struct CommitInfo {
    pub sha: String,
    pub parents: usize,
    pub message: String,
    pub author: Person,
    pub committer: Person,
    /// The GitHub account behind the author, when GitHub linked one (`author.login`).
    pub login: Option<String>,
    pub verification: Verification,
}

impl CommitInfo {
    /// `1a2b3c4`
    pub fn short(&self) -> &str {
        self.sha.get(..7).unwrap_or(&self.sha)
    }

    /// Who to name for it: the login when GitHub knows one, else the author's name.
    pub fn who(&self) -> String {
        match &self.login {
            Some(login) if !login.is_empty() => login.clone(),
            _ if !self.author.name.is_empty() => self.author.name.clone(),
            _ => self.author.email.clone(),
        }
    }

    /// `1a2b3c4 (jane)`
    pub fn describe(&self) -> String {
        format!("{} ({})", self.short(), self.who())
    }

    /// Whether kbundle made this commit for `path`: one parent (kbundle never merges), the
    /// trailer naming `path` in the message's last paragraph, and an author that is kbundle's
    /// fixed identity or an app's bot, committed by that same author (or by GitHub for it).
    /// A person's commit fails the author test; a person's amend or rebase of kbundle's commit
    /// keeps the author but makes them the committer, and fails the committer test.
    pub fn is_kbundles(&self, path: &str) -> bool {
        let trailer = self
            .message
            .trim_end()
            .rsplit("\n\n")
            .next()
            .is_some_and(|last| {
                last.lines()
                    .any(|l| l.trim_end() == format!("{TRAILER}: {path}"))
            });
        let bot = self.author.name.ends_with("[bot]")
            || self.login.as_deref().is_some_and(|l| l.ends_with("[bot]"));
        let fixed = self.author.name == AUTHOR_NAME && self.author.email == AUTHOR_EMAIL;
        let committed_by_author =
            self.committer == self.author || (bot && self.committer.email == WEB_FLOW_EMAIL);
        self.parents == 1 && trailer && (bot || fixed) && committed_by_author
    }
}

/// The commits on a branch that its base does not have, oldest first.
pub struct Ahead {
    pub commits: Vec<CommitInfo>,
    /// The merge base's SHA.
    pub merge_base: String,
    /// False when GitHub counted more commits than kbundle read (it stops at 1,000); the
    /// unread ones are treated as someone else's.
    pub complete: bool,
}

#[derive(Deserialize)]
struct ApiCommit {
    sha: String,
    #[serde(default)]
    parents: Vec<serde_json::Value>,
    commit: GitPart,
    #[serde(default)]
    author: Option<Account>,
}

#[derive(Deserialize)]
struct GitPart {
    #[serde(default)]
    message: String,
    #[serde(default)]
    author: Option<Person>,
    #[serde(default)]
    committer: Option<Person>,
    #[serde(default)]
    verification: Option<Verification>,
}

#[derive(Deserialize)]
struct Account {
    #[serde(default)]
    login: String,
}

impl From<ApiCommit> for CommitInfo {
    fn from(c: ApiCommit) -> CommitInfo {
        CommitInfo {
            sha: c.sha,
            parents: c.parents.len(),
            message: c.commit.message,
            author: c.commit.author.unwrap_or_default(),
            committer: c.commit.committer.unwrap_or_default(),
            login: c.author.map(|a| a.login),
            verification: c.commit.verification.unwrap_or_default(),
        }
    }
}

/// Pages of the compare endpoint kbundle reads at most (100 commits each).
const MAX_PAGES: u32 = 10;

impl Repo {
    /// The commits reachable from `head` and not from `base` (both SHAs), oldest first.
    pub async fn ahead(&self, base: &str, head: &str) -> Result<Ahead> {
        #[derive(Deserialize)]
        struct Comparison {
            #[serde(default)]
            total_commits: usize,
            merge_base_commit: Sha,
            #[serde(default)]
            commits: Vec<ApiCommit>,
        }
        #[derive(Deserialize)]
        struct Sha {
            sha: String,
        }
        let basehead = format!("{}...{}", encode(base), encode(head));
        let mut commits = Vec::new();
        let mut merge_base = String::new();
        let mut total = 0;
        for page in 1..=MAX_PAGES {
            let route = format!(
                "{}?per_page=100&page={page}",
                self.route(&format!("/compare/{basehead}"))
            );
            tracing::debug!("GET {route}");
            let c: Comparison = match self.client.get(route, None::<&()>).await {
                Ok(c) => c,
                // GitHub's answer when the two share no history.
                Err(e) if matches!(super::endpoint::status(&e), Some((404, _))) => {
                    return Err(Error::new(format!(
                        "GitHub {}: commit {head} of the pull request branch shares no history \
                         with the base ({base}); kbundle cannot tell what on it is whose: \
                         delete the branch or pass another --branch",
                        self.full_name()
                    )));
                }
                Err(e) => return Err(self.fail(&format!("compare {head} with {base}"), e)),
            };
            total = c.total_commits;
            merge_base = c.merge_base_commit.sha;
            let last = c.commits.len() < 100;
            commits.extend(c.commits.into_iter().map(CommitInfo::from));
            if last || commits.len() >= total {
                break;
            }
        }
        Ok(Ahead {
            complete: commits.len() >= total,
            commits,
            merge_base,
        })
    }

    /// A commit's message, author, committer and signature verification.
    pub async fn commit_info(&self, sha: &str) -> Result<CommitInfo> {
        #[derive(Deserialize)]
        struct GitCommit {
            sha: String,
            #[serde(default)]
            parents: Vec<serde_json::Value>,
            #[serde(flatten)]
            git: GitPart,
        }
        let c: GitCommit = self
            .get(
                &format!("read commit {sha}"),
                self.route(&format!("/git/commits/{}", encode(sha))),
            )
            .await?;
        Ok(CommitInfo {
            sha: c.sha,
            parents: c.parents.len(),
            message: c.git.message,
            author: c.git.author.unwrap_or_default(),
            committer: c.git.committer.unwrap_or_default(),
            login: None,
            verification: c.git.verification.unwrap_or_default(),
        })
    }
}

/// The message of a commit kbundle makes: title, body, and the trailer.
pub fn message(title: &str, body: &str, path: &str) -> String {
    format!("{title}\n\n{}\n\n{TRAILER}: {path}\n", body.trim_end())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn commit(message: &str, author: (&str, &str), committer: (&str, &str)) -> CommitInfo {
        let person = |(name, email): (&str, &str)| Person {
            name: name.to_owned(),
            email: email.to_owned(),
        };
        CommitInfo {
            sha: "0123456789abcdef".to_owned(),
            parents: 1,
            message: message.to_owned(),
            author: person(author),
            committer: person(committer),
            login: None,
            verification: Verification::default(),
        }
    }

    const BOT: (&str, &str) = (
        "github-actions[bot]",
        "41898282+github-actions[bot]@users.noreply.github.com",
    );
    const JANE: (&str, &str) = ("Jane Doe", "jane@example.com");

    #[test]
    fn kbundles_own_commit_is_recognised_by_trailer_and_author() {
        let m = message("Bump", "body\n", "clusters/prod/root-sync.yaml");
        assert!(commit(&m, BOT, BOT).is_kbundles("clusters/prod/root-sync.yaml"));
        let fixed = (AUTHOR_NAME, AUTHOR_EMAIL);
        assert!(commit(&m, fixed, fixed).is_kbundles("clusters/prod/root-sync.yaml"));
        assert!(
            commit(&m, BOT, ("GitHub", "noreply@github.com"))
                .is_kbundles("clusters/prod/root-sync.yaml")
        );
    }

    #[test]
    fn a_persons_commit_amend_or_merge_is_not_kbundles() {
        let path = "clusters/prod/root-sync.yaml";
        let m = message("Bump", "body", path);
        // A person's commit, even one that copies the trailer.
        assert!(!commit(&m, JANE, JANE).is_kbundles(path));
        // kbundle's commit amended or rebased by a person: the committer changes.
        assert!(!commit(&m, BOT, JANE).is_kbundles(path));
        // No trailer, or a trailer for another file, or one quoted mid-message.
        assert!(!commit("Bump\n\nbody", BOT, BOT).is_kbundles(path));
        assert!(!commit(&message("Bump", "b", "other.yaml"), BOT, BOT).is_kbundles(path));
        let quoted = format!("Fix\n\n{TRAILER}: {path}\n\nmore words");
        assert!(!commit(&quoted, BOT, BOT).is_kbundles(path));
        // A merge commit.
        let mut merge = commit(&m, BOT, BOT);
        merge.parents = 2;
        assert!(!merge.is_kbundles(path));
    }
}
