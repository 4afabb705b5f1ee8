//! The Git data and contents endpoints: read a file at a branch, commit one changed file
//! (blob, tree, commit) and point a branch at the commit.

use base64::Engine;
use serde::{Deserialize, Serialize};

use super::api::{GitRef, Repo, Sha, encode};
use crate::error::{Error, Result};

impl Repo {
    /// The repository's default branch.
    pub async fn default_branch(&self) -> Result<String> {
        #[derive(Deserialize)]
        struct Repository {
            default_branch: String,
        }
        let r: Repository = self.get("read the repository", self.route("")).await?;
        Ok(r.default_branch)
    }

    /// The commit a branch points at, or `None` when there is no such branch.
    pub async fn branch_head(&self, branch: &str) -> Result<Option<String>> {
        let route = self.route(&format!("/git/ref/{}", encode(&format!("heads/{branch}"))));
        tracing::debug!("GET {route}");
        match self.client.get::<GitRef, _, ()>(route, None).await {
            Ok(r) => Ok(Some(r.object.sha)),
            Err(e) if matches!(super::endpoint::status(&e), Some((404, _))) => Ok(None),
            Err(e) => Err(self.fail(&format!("read branch {branch}"), e)),
        }
    }

    /// The tree of a commit.
    pub async fn commit_tree(&self, sha: &str) -> Result<String> {
        Ok(self.commit(sha).await?.0)
    }

    /// The tree and the parents of a commit.
    pub async fn commit(&self, sha: &str) -> Result<(String, Vec<String>)> {
        #[derive(Deserialize)]
        struct Commit {
            tree: Sha,
            #[serde(default)]
            parents: Vec<Sha>,
        }
        let c: Commit = self
            .get(
                &format!("read commit {sha}"),
                self.route(&format!("/git/commits/{}", encode(sha))),
            )
            .await?;
        Ok((c.tree.sha, c.parents.into_iter().map(|p| p.sha).collect()))
    }

    /// A file's text at a commit or branch; `None` when there is no such file.
    pub async fn file(&self, path: &str, at: &str) -> Result<Option<String>> {
        #[derive(Deserialize)]
        struct Contents {
            #[serde(rename = "type")]
            kind: String,
            #[serde(default)]
            content: String,
            #[serde(default)]
            encoding: String,
        }
        let route = format!(
            "{}?ref={}",
            self.route(&format!("/contents/{}", encode(path))),
            encode(at)
        );
        tracing::debug!("GET {route}");
        let value: serde_json::Value = match self.client.get(route, None::<&()>).await {
            Ok(v) => v,
            Err(e) if matches!(super::endpoint::status(&e), Some((404, _))) => return Ok(None),
            Err(e) => return Err(self.fail(&format!("read {path} at {at}"), e)),
        };
        let c: Contents = serde_json::from_value(value).map_err(|_| {
            Error::new(format!(
                "GitHub {}: {path} at {at} is a folder, not a file",
                self.full_name()
            ))
        })?;
        if c.kind != "file" || c.encoding != "base64" {
            return Err(Error::new(format!(
                "GitHub {}: {path} at {at} is a {} (encoding {:?}); expected a file under 1 MB",
                self.full_name(),
                c.kind,
                c.encoding
            )));
        }
        let clean: String = c.content.split_whitespace().collect();
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(clean)
            .map_err(|e| {
                Error::new(format!(
                    "GitHub {}: {path}: bad base64: {e}",
                    self.full_name()
                ))
            })?;
        String::from_utf8(bytes).map(Some).map_err(|_| {
            Error::new(format!(
                "GitHub {}: {path} is not UTF-8 text",
                self.full_name()
            ))
        })
    }

    /// Commits one changed file on top of `parent` (whose tree is `base_tree`); returns the
    /// new commit and its tree.
    pub async fn commit_file(
        &self,
        parent: &str,
        base_tree: &str,
        path: &str,
        text: &str,
        message: &str,
    ) -> Result<(String, String)> {
        #[derive(Serialize)]
        struct NewBlob<'a> {
            content: String,
            encoding: &'a str,
        }
        #[derive(Serialize)]
        struct Entry<'a> {
            path: &'a str,
            mode: &'a str,
            #[serde(rename = "type")]
            kind: &'a str,
            sha: &'a str,
        }
        #[derive(Serialize)]
        struct NewTree<'a> {
            base_tree: &'a str,
            tree: Vec<Entry<'a>>,
        }
        // No author or committer when the token is an app's (GitHub then signs the commit:
        // verified); kbundle's fixed identity otherwise (see `history::AUTHOR_NAME`).
        #[derive(Serialize)]
        struct NewCommit<'a> {
            message: &'a str,
            tree: &'a str,
            parents: Vec<&'a str>,
            #[serde(skip_serializing_if = "Option::is_none")]
            author: Option<&'a super::history::Person>,
            #[serde(skip_serializing_if = "Option::is_none")]
            committer: Option<&'a super::history::Person>,
        }
        let blob: Sha = self
            .post(
                "create a blob",
                self.route("/git/blobs"),
                &NewBlob {
                    content: base64::engine::general_purpose::STANDARD.encode(text),
                    encoding: "base64",
                },
            )
            .await?;
        let tree: Sha = self
            .post(
                "create a tree",
                self.route("/git/trees"),
                &NewTree {
                    base_tree,
                    tree: vec![Entry {
                        path,
                        mode: "100644",
                        kind: "blob",
                        sha: &blob.sha,
                    }],
                },
            )
            .await?;
        let commit: Sha = self
            .post(
                "create a commit",
                self.route("/git/commits"),
                &NewCommit {
                    message,
                    tree: &tree.sha,
                    parents: vec![parent],
                    author: self.author.as_ref(),
                    committer: self.author.as_ref(),
                },
            )
            .await?;
        Ok((commit.sha, tree.sha))
    }

    /// Points `refs/heads/<branch>` at `sha` as `how` says. A conflict (409, a 422 because
    /// someone created the branch meanwhile, or a fast-forward that is no longer one) is
    /// returned as [`RefUpdate::Conflict`] for the caller to retry on fresh state.
    pub async fn set_branch(&self, branch: &str, sha: &str, how: Move) -> Result<RefUpdate> {
        let exists = how != Move::Create;
        let force = how == Move::Force;
        let result = if exists {
            #[derive(Serialize)]
            struct Update<'a> {
                sha: &'a str,
                force: bool,
            }
            let route = self.route(&format!("/git/refs/{}", encode(&format!("heads/{branch}"))));
            tracing::debug!("PATCH {route}");
            self.client
                .patch::<GitRef, _, _>(route, Some(&Update { sha, force }))
                .await
        } else {
            #[derive(Serialize)]
            struct Create<'a> {
                #[serde(rename = "ref")]
                name: String,
                sha: &'a str,
            }
            let route = self.route("/git/refs");
            tracing::debug!("POST {route}");
            let body = Create {
                name: format!("refs/heads/{branch}"),
                sha,
            };
            self.client.post::<_, GitRef>(route, Some(&body)).await
        };
        match result {
            Ok(_) => Ok(RefUpdate::Done),
            Err(e) => match super::endpoint::status(&e) {
                Some((409, message)) => Ok(RefUpdate::Conflict(format!("409 {message}"))),
                Some((422, message)) if !exists && message.contains("already exists") => {
                    Ok(RefUpdate::Conflict(format!("422 {message}")))
                }
                Some((422, message)) if !force && message.contains("fast forward") => {
                    Ok(RefUpdate::Conflict(format!("422 {message}")))
                }
                _ => Err(self.fail(&format!("update branch {branch}"), e)),
            },
        }
    }
}

/// How to move a branch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Move {
    /// It does not exist yet.
    Create,
    /// Replace what it holds (only kbundle's own commits are on it).
    Force,
    /// Only forward: the new commit sits on top of what it holds (someone else's commits).
    FastForward,
}

/// How a branch update went.
#[derive(Debug)]
pub enum RefUpdate {
    Done,
    /// GitHub refused because the branch or its base moved meanwhile; the status and message.
    Conflict(String),
}
