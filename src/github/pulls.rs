//! Pull requests, their labels and reviewers, and issue comments.

use serde::{Deserialize, Serialize};

use super::api::{Repo, encode};
use crate::error::Result;

impl Repo {
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
