//! Adapter: the GitHub REST API through octocrab, limited to what `bump` and `comment` use.
//!
//! Every request body is a serde struct of our own, shaped after GitHub's OpenAPI description
//! (npm `@octokit/openapi`); the contract tests replay them against it with Prism. Path
//! parameters are percent-encoded the way octokit's URL templates do (`heads%2Fmain`,
//! `clusters%2Fprod%2Froot-sync.yaml`): the description declares `{ref}` and `{path}` as one
//! path segment each.

use base64::Engine;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// A repository on a GitHub (or GitHub Enterprise Server) API endpoint.
pub struct Repo {
    client: octocrab::Octocrab,
    pub owner: String,
    pub name: String,
}

/// `GITHUB_API_URL`, or github.com's.
pub fn api_url() -> String {
    std::env::var("GITHUB_API_URL")
        .ok()
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| "https://api.github.com".to_owned())
}

/// Percent-encodes one path parameter, slashes included (RFC 6570 simple expansion).
pub fn encode(param: &str) -> String {
    let mut out = String::with_capacity(param.len());
    for b in param.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

impl Repo {
    /// Connects with `GITHUB_TOKEN` to `GITHUB_API_URL`. `repo` is `OWNER/NAME`.
    pub fn connect(repo: &str) -> Result<Repo> {
        let (owner, name) = repo
            .split_once('/')
            .filter(|(o, n)| !o.is_empty() && !n.is_empty() && !n.contains('/'))
            .ok_or_else(|| Error::new(format!("--repo {repo:?}: expected OWNER/NAME")))?;
        let token = std::env::var("GITHUB_TOKEN")
            .ok()
            .filter(|t| !t.is_empty())
            .ok_or_else(|| {
                Error::new(format!(
                    "--repo {repo}: GITHUB_TOKEN is not set; pass a token that can write \
                     contents and pull requests on {repo}"
                ))
            })?;
        super::actions::mask(&token);
        let url = api_url();
        let client = octocrab::Octocrab::builder()
            .base_uri(url.as_str())
            .map_err(|e| Error::new(format!("GITHUB_API_URL {url:?}: {e}")))?
            .personal_token(token)
            // GitHub's default media type; Prism (the contract tests) cannot negotiate
            // `application/vnd.github+json` against the spec's `application/json`.
            .add_header(http::header::ACCEPT, "application/json".to_owned())
            .add_header(
                http::header::HeaderName::from_static("x-github-api-version"),
                "2022-11-28".to_owned(),
            )
            .build()
            .map_err(|e| Error::new(format!("cannot set up the GitHub client: {e}")))?;
        Ok(Repo {
            client,
            owner: owner.to_owned(),
            name: name.to_owned(),
        })
    }

    /// `OWNER/NAME`
    pub fn full_name(&self) -> String {
        format!("{}/{}", self.owner, self.name)
    }

    fn route(&self, rest: &str) -> String {
        format!(
            "/repos/{}/{}{rest}",
            encode(&self.owner),
            encode(&self.name)
        )
    }

    fn fail(&self, what: &str, e: octocrab::Error) -> Error {
        let repo = self.full_name();
        match e {
            octocrab::Error::GitHub { source, .. } => {
                let status = source.status_code;
                let hint = match status.as_u16() {
                    401 => " (the token is invalid or expired)",
                    403 => {
                        " (the token lacks permission: it needs contents: write and pull-requests: write on this repository; the default workflow token cannot write to another repository)"
                    }
                    404 => " (no such repository or path, or the token cannot see it)",
                    _ => "",
                };
                Error::new(format!(
                    "GitHub {repo}: {what}: {status} {}{hint}",
                    source.message
                ))
            }
            other => Error::new(format!("GitHub {repo}: {what}: {other}")),
        }
    }

    fn not_found(e: &octocrab::Error) -> bool {
        matches!(e, octocrab::Error::GitHub { source, .. } if source.status_code == http::StatusCode::NOT_FOUND)
    }

    async fn get<R: serde::de::DeserializeOwned>(&self, what: &str, route: String) -> Result<R> {
        tracing::debug!("GET {route}");
        self.client
            .get(route, None::<&()>)
            .await
            .map_err(|e| self.fail(what, e))
    }

    async fn post<B: Serialize, R: serde::de::DeserializeOwned>(
        &self,
        what: &str,
        route: String,
        body: &B,
    ) -> Result<R> {
        tracing::debug!("POST {route}");
        self.client
            .post(route, Some(body))
            .await
            .map_err(|e| self.fail(what, e))
    }

    async fn patch<B: Serialize, R: serde::de::DeserializeOwned>(
        &self,
        what: &str,
        route: String,
        body: &B,
    ) -> Result<R> {
        tracing::debug!("PATCH {route}");
        self.client
            .patch(route, Some(body))
            .await
            .map_err(|e| self.fail(what, e))
    }

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
            Err(e) if Self::not_found(&e) => Ok(None),
            Err(e) => Err(self.fail(&format!("read branch {branch}"), e)),
        }
    }

    /// The tree of a commit.
    pub async fn commit_tree(&self, sha: &str) -> Result<String> {
        #[derive(Deserialize)]
        struct Commit {
            tree: Sha,
        }
        let c: Commit = self
            .get(
                &format!("read commit {sha}"),
                self.route(&format!("/git/commits/{}", encode(sha))),
            )
            .await?;
        Ok(c.tree.sha)
    }

    /// A file's text at a commit or branch.
    pub async fn file(&self, path: &str, at: &str) -> Result<String> {
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
        let value: serde_json::Value = self.get(&format!("read {path} at {at}"), route).await?;
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
        String::from_utf8(bytes).map_err(|_| {
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
        #[derive(Serialize)]
        struct NewCommit<'a> {
            message: &'a str,
            tree: &'a str,
            parents: Vec<&'a str>,
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
                },
            )
            .await?;
        Ok((commit.sha, tree.sha))
    }

    /// Points `refs/heads/<branch>` at `sha`: creates it, or force-updates it when `exists`.
    pub async fn set_branch(&self, branch: &str, sha: &str, exists: bool) -> Result<()> {
        if exists {
            #[derive(Serialize)]
            struct Update<'a> {
                sha: &'a str,
                force: bool,
            }
            let _: GitRef = self
                .patch(
                    &format!("update branch {branch}"),
                    self.route(&format!("/git/refs/{}", encode(&format!("heads/{branch}")))),
                    &Update { sha, force: true },
                )
                .await?;
        } else {
            #[derive(Serialize)]
            struct Create<'a> {
                #[serde(rename = "ref")]
                name: String,
                sha: &'a str,
            }
            let _: GitRef = self
                .post(
                    &format!("create branch {branch}"),
                    self.route("/git/refs"),
                    &Create {
                        name: format!("refs/heads/{branch}"),
                        sha,
                    },
                )
                .await?;
        }
        Ok(())
    }

    /// The open pull request from `branch` of this repository, if any.
    pub async fn open_pull(&self, branch: &str) -> Result<Option<Pull>> {
        let route = format!(
            "{}?state=open&head={}",
            self.route("/pulls"),
            encode(&format!("{}:{branch}", self.owner))
        );
        let pulls: Vec<Pull> = self
            .get(&format!("list pull requests from {branch}"), route)
            .await?;
        Ok(pulls.into_iter().next())
    }

    pub async fn create_pull(&self, new: &NewPull<'_>) -> Result<Pull> {
        self.post("create the pull request", self.route("/pulls"), new)
            .await
    }

    pub async fn update_pull(&self, number: u64, title: &str, body: &str) -> Result<Pull> {
        #[derive(Serialize)]
        struct Update<'a> {
            title: &'a str,
            body: &'a str,
        }
        self.patch(
            &format!("update pull request #{number}"),
            self.route(&format!("/pulls/{number}")),
            &Update { title, body },
        )
        .await
    }

    pub async fn add_labels(&self, number: u64, labels: &[String]) -> Result<()> {
        #[derive(Serialize)]
        struct Labels<'a> {
            labels: &'a [String],
        }
        let _: serde_json::Value = self
            .post(
                &format!("label #{number}"),
                self.route(&format!("/issues/{number}/labels")),
                &Labels { labels },
            )
            .await?;
        Ok(())
    }

    pub async fn request_reviewers(
        &self,
        number: u64,
        reviewers: &[String],
        team_reviewers: &[String],
    ) -> Result<()> {
        #[derive(Serialize)]
        struct Reviewers<'a> {
            reviewers: &'a [String],
            team_reviewers: &'a [String],
        }
        let _: serde_json::Value = self
            .post(
                &format!("request reviewers on #{number}"),
                self.route(&format!("/pulls/{number}/requested_reviewers")),
                &Reviewers {
                    reviewers,
                    team_reviewers,
                },
            )
            .await?;
        Ok(())
    }

    /// Every comment on an issue or pull request, oldest first.
    pub async fn issue_comments(&self, number: u64) -> Result<Vec<Comment>> {
        let mut all = Vec::new();
        for page in 1.. {
            let route = format!(
                "{}?per_page=100&page={page}",
                self.route(&format!("/issues/{number}/comments"))
            );
            let batch: Vec<Comment> = self
                .get(&format!("list comments on #{number}"), route)
                .await?;
            let last = batch.len() < 100;
            all.extend(batch);
            if last {
                break;
            }
        }
        Ok(all)
    }

    pub async fn create_comment(&self, number: u64, body: &str) -> Result<Comment> {
        self.post(
            &format!("comment on #{number}"),
            self.route(&format!("/issues/{number}/comments")),
            &CommentBody { body },
        )
        .await
    }

    pub async fn update_comment(&self, id: u64, body: &str) -> Result<Comment> {
        self.patch(
            &format!("update comment {id}"),
            self.route(&format!("/issues/comments/{id}")),
            &CommentBody { body },
        )
        .await
    }
}

#[derive(Deserialize)]
struct Sha {
    sha: String,
}

#[derive(Deserialize)]
struct GitRef {
    object: Sha,
}

/// The fields of a pull request kbundle reads.
#[derive(Debug, Clone, Deserialize)]
pub struct Pull {
    pub number: u64,
    pub html_url: String,
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub body: Option<String>,
}

/// `POST /repos/{owner}/{repo}/pulls`
#[derive(Serialize)]
pub struct NewPull<'a> {
    pub title: &'a str,
    pub head: &'a str,
    pub base: &'a str,
    pub body: &'a str,
    pub draft: bool,
}

#[derive(Serialize)]
struct CommentBody<'a> {
    body: &'a str,
}

/// An issue comment.
#[derive(Debug, Clone, Deserialize)]
pub struct Comment {
    pub id: u64,
    #[serde(default)]
    pub body: Option<String>,
    #[serde(default)]
    pub html_url: String,
}
