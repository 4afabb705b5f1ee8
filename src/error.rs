//! The one error type commands return, and what exit code it means.

/// A usage or environment error: bad flag, unreadable file, unreachable registry. Exit 2.
///
/// Verdicts on manifests are not errors; commands report those as [`Outcome::Failed`].
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Error(pub String);

impl Error {
    pub fn new(message: impl Into<String>) -> Error {
        Error(message.into())
    }
}

/// How a command that ran to the end judged its input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Exit 0.
    Passed,
    /// The input was judged and failed (invalid manifest, bad signature). Exit 1.
    Failed,
}

impl Outcome {
    pub fn from_passed(passed: bool) -> Outcome {
        if passed {
            Outcome::Passed
        } else {
            Outcome::Failed
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
