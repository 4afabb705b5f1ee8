//! Formatting-preserving edits of GitOps files: point a RootSync/RepoSync, a Flux
//! `OCIRepository` or a kustomize `images:` entry at a new image.
//!
//! Pure code, no I/O: [`bump`] takes the file's text and returns the new text plus what
//! changed. The file is never re-serialised: `saphyr-parser` events give the exact span of
//! each scalar, and only those bytes are replaced (or new keys spliced in beside their
//! siblings), so comments, key order, quoting, indentation, line endings and the other
//! documents stay byte-identical and the pull request diff is exactly the changed values.

mod edit;
pub(crate) mod quote;
mod targets;
mod yaml;

#[cfg(test)]
mod tests;

use std::fmt;
use std::str::FromStr;

use crate::bundle::Digest;

/// How the new image is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Pin {
    /// repo@sha256:…
    Digest,
    /// repo:tag
    Tag,
    /// repo:tag@sha256:… (default)
    #[default]
    Both,
}

/// The image to point at, parsed once: `REGISTRY/REPO[:TAG]@sha256:<64 hex>`.
///
/// The digest is required: a bump exists to pin the exact bundle that was validated and
/// signed, which a tag alone cannot do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewImage {
    pub repository: String,
    pub tag: Option<String>,
    pub digest: Digest,
}

const EXPECTED: &str = "expected REGISTRY/REPOSITORY[:TAG]@sha256:<64 hex digits>, \
                        as printed by `kbundle push`";

impl FromStr for NewImage {
    type Err = String;

    fn from_str(text: &str) -> Result<NewImage, String> {
        if text.starts_with("oci-layout:") {
            return Err(format!(
                "image {text:?} is an OCI layout folder, which a cluster cannot pull; \
                 name the registry repository the bundle is (or will be) promoted to"
            ));
        }
        let Some((name, digest)) = text.split_once('@') else {
            return Err(format!("image {text:?} has no digest; {EXPECTED}"));
        };
        let digest: Digest = digest
            .parse()
            .map_err(|error| format!("image {text:?}: {error}; {EXPECTED}"))?;
        let (repository, tag) = match name.rfind(':') {
            // A colon before the last slash is a registry port, not a tag.
            Some(colon) if colon > name.rfind('/').unwrap_or(0) => {
                (&name[..colon], Some(&name[colon + 1..]))
            }
            _ => (name, None),
        };
        let valid_repository = !repository.is_empty()
            && !repository.starts_with('/')
            && !repository.ends_with('/')
            && !repository.contains("//")
            && repository
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "._-/:".contains(c));
        if !valid_repository {
            return Err(format!(
                "image {text:?} has an invalid repository {repository:?}; {EXPECTED}"
            ));
        }
        if let Some(tag) = tag {
            // The OCI distribution spec's tag grammar: [A-Za-z0-9_][A-Za-z0-9._-]{0,127}.
            let valid_tag = tag.len() <= 128
                && tag.chars().enumerate().all(|(index, c)| {
                    c.is_ascii_alphanumeric() || c == '_' || (index > 0 && ".-".contains(c))
                })
                && !tag.is_empty();
            if !valid_tag {
                return Err(format!(
                    "image {text:?} has an invalid tag {tag:?}; {EXPECTED}"
                ));
            }
        }
        Ok(NewImage {
            repository: repository.to_owned(),
            tag: tag.map(str::to_owned),
            digest,
        })
    }
}

impl NewImage {
    /// The reference a RootSync's `spec.oci.image` gets for `pin`; an error when the pin
    /// needs a tag and the image has none.
    pub fn reference(&self, pin: Pin) -> Result<String, String> {
        let NewImage {
            repository,
            tag,
            digest,
        } = self;
        match (pin, tag) {
            (Pin::Digest, _) => Ok(format!("{repository}@{digest}")),
            (Pin::Tag, Some(tag)) => Ok(format!("{repository}:{tag}")),
            (Pin::Both, Some(tag)) => Ok(format!("{repository}:{tag}@{digest}")),
            (Pin::Tag | Pin::Both, None) => Err(format!(
                "image {repository}@{digest} has no tag, so --pin {} cannot write one; \
                 add :TAG before the @ in --image, or use --pin digest",
                if pin == Pin::Tag { "tag" } else { "both" }
            )),
        }
    }
}

impl fmt::Display for NewImage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.tag {
            Some(tag) => write!(f, "{}:{tag}@{}", self.repository, self.digest),
            None => write!(f, "{}@{}", self.repository, self.digest),
        }
    }
}

/// One value changed in the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// `RootSync`, `RepoSync`, `OCIRepository` or `Kustomization`.
    pub kind: String,
    /// The document's `metadata.name`, empty when it has none (a plain kustomization.yaml).
    pub name: String,
    /// Path of the value in its document, e.g. `spec.oci.image` or `images[0].newTag`.
    pub field: String,
    /// 1-based line of the value in the new text (a created key counts where it now sits).
    pub line: u32,
    /// The previous value, empty when the key was created.
    pub old: String,
    pub new: String,
}

/// The result of [`bump`]: the new text and what changed in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edit {
    /// The whole new file; identical to the input when `changes` is empty.
    pub text: String,
    /// Changed values, by line. Empty means the file was already up to date.
    pub changes: Vec<Change>,
}

impl Edit {
    pub fn is_up_to_date(&self) -> bool {
        self.changes.is_empty()
    }
}

/// Why a file could not be bumped.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BumpError {
    /// The file is not valid YAML.
    #[error("invalid YAML at line {line}, column {column}: {message}; fix the file and run again")]
    Syntax {
        line: usize,
        column: usize,
        message: String,
    },
    /// A mapping holds a key twice: which one counts depends on the reader.
    #[error(
        "line {line}: duplicate key {key:?} (first defined at line {first}); a mapping \
         holds each key once, remove one and run again"
    )]
    DuplicateKey {
        key: String,
        line: usize,
        first: usize,
    },
    /// Nothing in the file refers to the image's repository.
    #[error(
        "no RootSync, RepoSync, Flux OCIRepository or kustomize images entry for {repository} \
         in the file; a RootSync/RepoSync needs spec.sourceType: oci, an OCIRepository \
         spec.url: oci://{repository}, a kustomize entry name: {repository}"
    )]
    NoTarget { repository: String },
    /// Several RootSync/RepoSync documents, none (or more than one) already on the repository.
    #[error("several RootSync/RepoSync documents sync from OCI ({}); pick one with --name", .names.join(", "))]
    Ambiguous { names: Vec<String> },
    /// `--name` matched no document.
    #[error("no document named {name:?} in the file{}; check --name", known(.available))]
    NameNotFound {
        name: String,
        available: Vec<String>,
    },
    /// The pin needs something the image does not have (a tag).
    #[error("{0}")]
    Pin(String),
    /// `--pin tag` where a digest (or semver) already there would win over the new tag.
    #[error(
        "line {line}: {kind} {name} has {field}, which takes precedence over the tag, so \
         --pin tag would change nothing; use --pin digest or --pin both, or remove {field}"
    )]
    Precedence {
        kind: String,
        name: String,
        field: String,
        line: usize,
    },
    /// The value to change is written in a form that cannot be replaced in place.
    #[error(
        "line {line}: {field} is {what}, which kbundle cannot rewrite without reformatting \
         the file; write it as a one-line value and run again"
    )]
    Unsupported {
        line: usize,
        field: String,
        what: String,
    },
}

fn known(available: &[String]) -> String {
    if available.is_empty() {
        " (it has no named RootSync, RepoSync, OCIRepository or Kustomization)".to_owned()
    } else {
        format!(" (it has {})", available.join(", "))
    }
}

/// Points every target in `text` at `image`, written as `pin` says.
///
/// Targets: the RootSync/RepoSync syncing from OCI (`spec.oci.image`; `name` picks one by
/// `metadata.name` when there are several), each Flux `OCIRepository` whose `spec.url` is
/// `oci://<repository>` (`spec.ref.digest` / `spec.ref.tag`), and each kustomize `images:`
/// entry whose `name` or `newName` is the repository (`digest` / `newTag`). With `name`, only
/// documents of that `metadata.name` are considered. Missing keys are created beside their
/// siblings. When everything already has the wanted value, the text comes back unchanged
/// with no changes.
pub fn bump(text: &str, image: &NewImage, pin: Pin, name: Option<&str>) -> Result<Edit, BumpError> {
    // Checked before reading the file: the pin is wrong whatever the file holds.
    let reference = image.reference(pin).map_err(BumpError::Pin)?;
    let documents = yaml::parse(text)?;
    let plans = targets::plan(&documents, image, pin, &reference, name)?;
    let mut editor = edit::Editor::new(text);
    for plan in &plans {
        editor.set(&plan.target, plan.map, &plan.field, &plan.wants)?;
    }
    Ok(editor.finish())
}
