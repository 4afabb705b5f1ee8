//! AdmissionReview in and out (`admission.k8s.io/v1` and `v1beta1`), as pure code: what a
//! request asks, and the response body for a decision.
//!
//! Reading is deliberately lenient about everything but what the decision rests on: the API
//! server adds fields over releases, and a webhook that refuses an unknown field stops every
//! sync in the cluster. Whatever arrives, the caller gets a [`Review`] to answer with, so no
//! request is ever left without a well-formed response.

use oci_client::Reference;
use serde_json::{Value, json};

use crate::bundle::Digest;

/// The annotation Config Sync writes before it applies a new image: `<spec.oci.image>@sha256:…`.
pub const IMAGE_TO_SYNC: &str = "configsync.gke.io/image-to-sync";

const GROUP: &str = "configsync.gke.io";
const KINDS: [&str; 2] = ["RootSync", "RepoSync"];

/// The AdmissionReview version of a request; the response must be of the same version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Version {
    #[default]
    V1,
    V1beta1,
}

impl Version {
    fn api_version(self) -> &'static str {
        match self {
            Version::V1 => "admission.k8s.io/v1",
            Version::V1beta1 => "admission.k8s.io/v1beta1",
        }
    }
}

/// Who to answer: the version and the request's `uid` (empty when the body has none).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Review {
    pub version: Version,
    pub uid: String,
}

/// Why a request was allowed or denied; the metrics count by it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Reason {
    /// Not a RootSync/RepoSync CREATE or UPDATE: nothing for this webhook to check.
    NotSubject,
    /// The annotation is absent or the same as before: Config Sync is not switching images.
    Unchanged,
    /// The signatures were checked now and one holds.
    Verified,
    /// The digest was verified recently (the cache).
    Cached,
    /// The registry could not be asked and `--fail-open` lets it through.
    FailOpen,
    /// The request or the annotation cannot be read.
    Malformed,
    /// No signature holds: none, wrong key, tampered payload, missing annotation.
    Unsigned,
    /// The registry could not be asked.
    Unreachable,
    /// Too many signature checks were running to start this one in time.
    Busy,
}

impl Reason {
    pub fn label(self) -> &'static str {
        match self {
            Reason::NotSubject => "not_subject",
            Reason::Unchanged => "unchanged",
            Reason::Verified => "verified",
            Reason::Cached => "cached",
            Reason::FailOpen => "fail_open",
            Reason::Malformed => "malformed",
            Reason::Unsigned => "unsigned",
            Reason::Unreachable => "unreachable",
            Reason::Busy => "busy",
        }
    }
}

/// The answer to one review.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    pub allowed: bool,
    pub reason: Reason,
    /// Shown by `kubectl` and in Config Sync's status (KNV2002) when denied.
    pub message: String,
    /// Shown to the client even when allowed (`--fail-open`, an unexpected kind).
    pub warnings: Vec<String>,
}

impl Decision {
    pub fn allow(reason: Reason, message: impl Into<String>) -> Decision {
        Decision {
            allowed: true,
            reason,
            message: message.into(),
            warnings: Vec::new(),
        }
    }

    pub fn deny(reason: Reason, message: impl Into<String>) -> Decision {
        Decision {
            allowed: false,
            reason,
            message: message.into(),
            warnings: Vec::new(),
        }
    }

    pub fn with_warning(mut self, warning: impl Into<String>) -> Decision {
        self.warnings.push(warning.into());
        self
    }
}

/// The image Config Sync is about to sync, as the annotation names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PinnedImage {
    /// The annotation's value as written, for messages.
    pub annotation: String,
    /// Registry and repository, pinned to `digest` (any tag or earlier digest dropped).
    pub reference: Reference,
    pub digest: Digest,
}

impl PinnedImage {
    /// Reads `<image>@sha256:<hex>`. The digest is the one after the last `@`: `spec.oci.image`
    /// may itself be pinned (`repo:tag@sha256:a`), and Config Sync appends what it fetched.
    pub fn parse(value: &str) -> Result<PinnedImage, String> {
        let value = value.trim();
        let Some((image, digest)) = value.rsplit_once('@') else {
            return Err(format!(
                "annotation {IMAGE_TO_SYNC}={value:?} has no @sha256: digest; expected IMAGE@sha256:HEX"
            ));
        };
        let digest: Digest = digest
            .parse()
            .map_err(|e| format!("annotation {IMAGE_TO_SYNC}={value:?}: {e}"))?;
        let parsed = crate::oci::grammar::parse(image).map_err(|e| {
            format!(
                "annotation {IMAGE_TO_SYNC}={value:?}: {image:?} is not an image reference ({e})"
            )
        })?;
        let reference = Reference::with_digest(
            parsed.registry().to_owned(),
            parsed.repository().to_owned(),
            digest.to_string(),
        );
        Ok(PinnedImage {
            annotation: value.to_owned(),
            reference,
            digest,
        })
    }

    /// `registry/repository@sha256:…`: what the signatures are looked up for.
    pub fn name(&self) -> String {
        self.reference.whole()
    }
}

/// What a request needs before it can be answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Nothing to verify: answer with this.
    Answer(Decision),
    /// The annotation is new or changed: verify this image's signatures first.
    Verify(PinnedImage),
}

fn malformed(message: impl Into<String>) -> Step {
    Step::Answer(Decision::deny(Reason::Malformed, message))
}

/// Reads a request body. The [`Review`] carries the uid whenever the body has one, even when
/// the rest is unusable.
pub fn read(body: &[u8]) -> (Review, Step) {
    let value: Value = match serde_json::from_slice(body) {
        Ok(v) => v,
        Err(e) => {
            return (
                Review::default(),
                malformed(format!("request body is not JSON: {e}")),
            );
        }
    };
    let uid = value
        .pointer("/request/uid")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let version = match value.get("apiVersion").and_then(Value::as_str) {
        Some("admission.k8s.io/v1") => Version::V1,
        Some("admission.k8s.io/v1beta1") => Version::V1beta1,
        other => {
            let review = Review {
                version: Version::V1,
                uid,
            };
            return (
                review,
                malformed(format!(
                    "apiVersion {} is not admission.k8s.io/v1 or v1beta1",
                    other.map_or("(missing)".to_owned(), |v| format!("{v:?}"))
                )),
            );
        }
    };
    let review = Review { version, uid };
    let step = step(&value, &review);
    (review, step)
}

fn step(value: &Value, review: &Review) -> Step {
    if value.get("kind").and_then(Value::as_str) != Some("AdmissionReview") {
        return malformed("kind is not AdmissionReview");
    }
    let Some(request) = value.get("request").filter(|r| r.is_object()) else {
        return malformed("AdmissionReview has no request");
    };
    if review.uid.is_empty() {
        return malformed("request.uid is missing");
    }
    let text = |pointer: &str| request.pointer(pointer).and_then(Value::as_str);
    let (group, kind) = (text("/kind/group"), text("/kind/kind"));
    if group != Some(GROUP) || !kind.is_some_and(|k| KINDS.contains(&k)) {
        let what = format!("{}/{}", group.unwrap_or(""), kind.unwrap_or("?"));
        return Step::Answer(
            Decision::allow(Reason::NotSubject, "").with_warning(format!(
                "kbundle webhook checks configsync.gke.io RootSync and RepoSync only; {what} was let \
                 through: narrow the ValidatingWebhookConfiguration's rules"
            )),
        );
    }
    match text("/operation") {
        Some("CREATE" | "UPDATE") => {}
        Some(_) => return Step::Answer(Decision::allow(Reason::NotSubject, "")),
        None => return malformed("request.operation is missing"),
    }
    let Some(object) = request.get("object").filter(|o| o.is_object()) else {
        return malformed("request.object is missing");
    };
    let new = match annotation(object) {
        Ok(Some(v)) => v,
        Ok(None) => return Step::Answer(Decision::allow(Reason::Unchanged, "")),
        Err(e) => return malformed(e),
    };
    let old = request
        .get("oldObject")
        .filter(|o| o.is_object())
        .map(annotation)
        .transpose();
    match old {
        Ok(Some(Some(old))) if old == new => {
            return Step::Answer(Decision::allow(Reason::Unchanged, ""));
        }
        // A malformed old value is no reason to refuse a good new one: verify the new.
        _ => {}
    }
    match PinnedImage::parse(new) {
        Ok(image) => Step::Verify(image),
        Err(e) => malformed(e),
    }
}

fn annotation(object: &Value) -> Result<Option<&str>, String> {
    match object.pointer("/metadata/annotations") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(map)) => match map.get(IMAGE_TO_SYNC) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(other) => Err(format!(
                "annotation {IMAGE_TO_SYNC} is {other}, not a string"
            )),
        },
        Some(_) => Err("metadata.annotations is not an object".to_owned()),
    }
}

/// The response body: an AdmissionReview of the request's version echoing its uid.
pub fn response(review: &Review, decision: &Decision) -> Vec<u8> {
    let mut response = json!({
        "uid": review.uid,
        "allowed": decision.allowed,
    });
    if !decision.allowed || !decision.message.is_empty() {
        response["status"] = json!({
            "code": if decision.allowed { 200 } else { 403 },
            "message": decision.message,
        });
    }
    if !decision.warnings.is_empty() {
        response["warnings"] = json!(decision.warnings);
    }
    let body = json!({
        "apiVersion": review.version.api_version(),
        "kind": "AdmissionReview",
        "response": response,
    });
    // Serialising a Value cannot fail; an empty body would still be answered by the caller.
    serde_json::to_vec(&body).unwrap_or_default()
}

pub mod prefix;
#[cfg(test)]
mod tests;
