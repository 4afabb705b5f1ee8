//! Adapter: the GitHub REST API through octocrab, limited to what `bump` and `comment` use.
//! This file holds the connection (credentials, endpoint, errors); the calls themselves are
//! in `git.rs` (Git data and contents) and `pulls.rs` (pull requests and comments).
//!
//! Every request body is a serde struct of our own, shaped after GitHub's OpenAPI description
//! (npm `@octokit/openapi`); the contract tests replay them against it with Prism. Path
//! parameters are percent-encoded the way octokit's URL templates do (`heads%2Fmain`,
//! `clusters%2Fprod%2Froot-sync.yaml`): the description declares `{ref}` and `{path}` as one
//! path segment each.

use serde::{Deserialize, Serialize};

use super::app::App;
pub use super::endpoint::{api_url, encode};
use super::endpoint::{builder, status};
use crate::error::{Error, Result};

/// A repository on a GitHub (or GitHub Enterprise Server) API endpoint.
pub struct Repo {
    pub(super) client: octocrab::Octocrab,
    pub owner: String,
    pub name: String,
    /// The author and committer kbundle's commits name; `None` with an installation token,
    /// so that they are the app's bot's and signed by GitHub.
    pub(super) author: Option<super::history::Person>,
}

/// Who kbundle is on GitHub.
pub enum Credentials {
    /// `GITHUB_TOKEN`.
    Token,
    /// A GitHub App: an installation token for the repository is minted from the app's key.
    App(App),
}

/// `OWNER/NAME` split in two; `flag` names the option it came from.
pub fn split_repo<'a>(flag: &str, repo: &'a str) -> Result<(&'a str, &'a str)> {
    repo.split_once('/')
        .filter(|(o, n)| !o.is_empty() && !n.is_empty() && !n.contains('/'))
        .ok_or_else(|| Error::new(format!("{flag} {repo:?}: expected OWNER/NAME")))
}

impl Repo {
    /// Connects to `GITHUB_API_URL` as `credentials` say. `repo` is `OWNER/NAME`.
    ///
    /// Must run inside a Tokio runtime: octocrab starts its service tasks when it is built.
    pub async fn connect(repo: &str, credentials: &Credentials) -> Result<Repo> {
        let (owner, name) = split_repo("--repo", repo)?;
        let mut author = None;
        let client = match credentials {
            Credentials::Token => {
                let token = std::env::var("GITHUB_TOKEN")
                    .ok()
                    .filter(|t| !t.is_empty())
                    .ok_or_else(|| {
                        Error::new(format!(
                            "--repo {repo}: GITHUB_TOKEN is not set; pass a token that can write \
                             contents and pull requests on {repo}, or a GitHub App \
                             (--app-id, --app-private-key)"
                        ))
                    })?;
                crate::actions::mask(&token);
                // `ghs_` is an installation token: the job's GITHUB_TOKEN, or an app token
                // minted by an earlier step. Anything else is a person's token.
                if !token.starts_with("ghs_") {
                    author = Some(super::history::Person {
                        name: super::history::AUTHOR_NAME.to_owned(),
                        email: super::history::AUTHOR_EMAIL.to_owned(),
                    });
                }
                builder()?
                    .personal_token(token)
                    .build()
                    .map_err(|e| Error::new(format!("cannot set up the GitHub client: {e}")))?
            }
            Credentials::App(app) => app.installation_client(owner, name).await?,
        };
        Ok(Repo {
            client,
            owner: owner.to_owned(),
            name: name.to_owned(),
            author,
        })
    }

    /// `OWNER/NAME`
    pub fn full_name(&self) -> String {
        format!("{}/{}", self.owner, self.name)
    }

    pub(super) fn route(&self, rest: &str) -> String {
        format!(
            "/repos/{}/{}{rest}",
            encode(&self.owner),
            encode(&self.name)
        )
    }

    pub(super) fn fail(&self, what: &str, e: octocrab::Error) -> Error {
        let repo = self.full_name();
        match status(&e) {
            Some((status, message)) => {
                let hint = match status {
                    401 => " (the token is invalid or expired)".to_owned(),
                    403 => format!(
                        " (the token lacks permission: it needs contents: write and \
                         pull-requests: write on {repo}; the workflow's own GITHUB_TOKEN cannot \
                         write to another repository: use a GitHub App installed there \
                         (--app-id, --app-private-key) or a fine-grained token)"
                    ),
                    404 => " (no such repository or path, or the token cannot see it)".to_owned(),
                    _ => String::new(),
                };
                Error::new(format!("GitHub {repo}: {what}: {status} {message}{hint}"))
            }
            None => Error::new(format!("GitHub {repo}: {what}: {e}")),
        }
    }

    pub(super) async fn get<R: serde::de::DeserializeOwned>(
        &self,
        what: &str,
        route: String,
    ) -> Result<R> {
        tracing::debug!("GET {route}");
        self.client
            .get(route, None::<&()>)
            .await
            .map_err(|e| self.fail(what, e))
    }

    pub(super) async fn post<B: Serialize, R: serde::de::DeserializeOwned>(
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

    pub(super) async fn patch<B: Serialize, R: serde::de::DeserializeOwned>(
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
}

#[derive(Deserialize)]
pub(super) struct Sha {
    pub sha: String,
}

#[derive(Deserialize)]
pub(super) struct GitRef {
    pub object: Sha,
}
