//! Validation results and the formats they are printed in.

use std::sync::Arc;

use serde::Serialize;

use crate::manifest::Pos;

/// The verdict on one resource, named as kubeconform names them in its JSON output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Status {
    #[serde(rename = "statusValid")]
    Valid,
    #[serde(rename = "statusInvalid")]
    Invalid,
    #[serde(rename = "statusError")]
    Error,
    #[serde(rename = "statusSkipped")]
    Skipped,
}

/// One reason a resource is invalid, at the exact place in its file.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Problem {
    /// JSON pointer into the resource (`/spec/replicas`), empty for the whole resource.
    pub path: String,
    pub msg: String,
    pub line: u32,
    pub column: u32,
    /// Config Sync error code (`KNV1029`) for Config Sync rules.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<&'static str>,
}

/// What happened to one resource (or to a file that could not be read as resources).
#[derive(Debug, Clone, PartialEq)]
pub struct ResourceResult {
    pub filename: Arc<str>,
    pub kind: String,
    pub name: String,
    pub namespace: String,
    /// The resource's `apiVersion`.
    pub version: String,
    pub status: Status,
    /// A one-line explanation for invalid, error and skipped resources.
    pub msg: String,
    /// Where the resource starts.
    pub pos: Pos,
    pub errors: Vec<Problem>,
}

impl ResourceResult {
    /// A file that could not be read as resources at all (unreadable, bad YAML).
    pub fn file_error(filename: Arc<str>, msg: String, pos: Pos) -> ResourceResult {
        ResourceResult {
            filename,
            kind: String::new(),
            name: String::new(),
            namespace: String::new(),
            version: String::new(),
            status: Status::Error,
            msg,
            pos,
            errors: Vec::new(),
        }
    }

    /// `Deployment web` or, with no name, just the kind; for file-level errors, empty.
    pub fn label(&self) -> String {
        match (self.kind.is_empty(), self.name.is_empty()) {
            (true, _) => String::new(),
            (false, true) => self.kind.clone(),
            (false, false) => format!("{} {}", self.kind, self.name),
        }
    }

    /// Every problem, or for an error without problems, one at the resource itself, so
    /// that line-oriented formats always have a line to point at.
    pub fn located_problems(&self) -> Vec<Problem> {
        if self.errors.is_empty() {
            vec![Problem {
                path: String::new(),
                msg: self.msg.clone(),
                line: self.pos.line.max(1),
                column: self.pos.column.max(1),
                code: None,
            }]
        } else {
            self.errors.clone()
        }
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub valid: usize,
    pub invalid: usize,
    pub errors: usize,
    pub skipped: usize,
}

/// The outcome of a validation run, in input order.
#[derive(Debug, Clone, Default)]
pub struct Report {
    pub resources: Vec<ResourceResult>,
    /// Number of files (stdin counts as one) that were read.
    pub files: usize,
}

impl Report {
    pub fn summary(&self) -> Summary {
        let mut s = Summary::default();
        for r in &self.resources {
            match r.status {
                Status::Valid => s.valid += 1,
                Status::Invalid => s.invalid += 1,
                Status::Error => s.errors += 1,
                Status::Skipped => s.skipped += 1,
            }
        }
        s
    }

    /// True when nothing was invalid or failed.
    pub fn passed(&self) -> bool {
        let s = self.summary();
        s.invalid == 0 && s.errors == 0
    }
}

/// How much a format prints.
#[derive(Debug, Clone, Copy, Default)]
pub struct Settings {
    /// Print valid and skipped resources too (kubeconform's `-verbose`).
    pub verbose: bool,
    /// Print the totals (kubeconform's `-summary`).
    pub summary: bool,
}

mod format;
pub mod read;
pub use format::{Format, render};
