//! The in-toto Statement v1 inside a cosign v3 image signature: the image digest as its one
//! subject, cosign's `-a` annotations on that subject, predicate type
//! `https://sigstore.dev/cosign/sign/v1`, an empty predicate.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::{Map, Value};

use super::SIGN_PREDICATE_TYPE;
use crate::bundle::Digest;

/// The statement types accepted (v0.1 statements still circulate; cosign writes v1).
const STATEMENT_TYPES: [&str; 2] = [
    "https://in-toto.io/Statement/v1",
    "https://in-toto.io/Statement/v0.1",
];

/// A statement as written by kbundle: compact, fields in the proto's order, as cosign's
/// (which adds random spaces, so the bytes never match it anyway).
pub fn for_image(digest: &Digest, annotations: &BTreeMap<String, String>) -> Vec<u8> {
    let mut subject = Map::new();
    subject.insert(
        "digest".into(),
        serde_json::json!({ "sha256": digest.hex() }),
    );
    let annotations: Map<String, Value> = annotations
        .iter()
        .map(|(k, v)| (k.clone(), Value::String(v.clone())))
        .collect();
    subject.insert("annotations".into(), Value::Object(annotations));
    let mut statement = Map::new();
    statement.insert("_type".into(), STATEMENT_TYPES[0].into());
    statement.insert("subject".into(), Value::Array(vec![Value::Object(subject)]));
    statement.insert("predicateType".into(), SIGN_PREDICATE_TYPE.into());
    statement.insert("predicate".into(), Value::Object(Map::new()));
    serde_json::to_vec(&Value::Object(statement)).unwrap_or_default()
}

/// A parsed statement; unknown fields are refused, as protojson does.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Statement {
    #[serde(rename = "_type")]
    pub kind: String,
    pub subject: Vec<Subject>,
    #[serde(rename = "predicateType")]
    pub predicate_type: String,
    #[serde(default)]
    pub predicate: Option<Value>,
}

/// An in-toto ResourceDescriptor.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Subject {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub uri: Option<String>,
    #[serde(default)]
    pub digest: BTreeMap<String, String>,
    #[serde(default)]
    pub content: Option<String>,
    #[serde(default)]
    pub download_location: Option<String>,
    #[serde(default)]
    pub media_type: Option<String>,
    #[serde(default)]
    pub annotations: Option<BTreeMap<String, Value>>,
}

pub fn parse(bytes: &[u8]) -> Result<Statement, String> {
    let statement: Statement = serde_json::from_slice(bytes)
        .map_err(|e| format!("the signed payload is not an in-toto statement: {e}"))?;
    if !STATEMENT_TYPES.contains(&statement.kind.as_str()) {
        return Err(format!(
            "the signed payload's _type is {:?}, not an in-toto statement",
            statement.kind
        ));
    }
    Ok(statement)
}

impl Statement {
    /// The subject naming `image` by its sha256, as cosign's claim check looks for it.
    pub fn subject_for(&self, image: &Digest) -> Option<&Subject> {
        self.subject
            .iter()
            .find(|s| s.digest.get("sha256").map(String::as_str) == Some(image.hex()))
    }

    /// The subject digests, for a message: `sha256:…, …`.
    pub fn digests(&self) -> String {
        let all: Vec<String> = self
            .subject
            .iter()
            .flat_map(|s| s.digest.iter().map(|(a, h)| format!("{a}:{h}")))
            .collect();
        if all.is_empty() {
            "no digest".to_owned()
        } else {
            all.join(", ")
        }
    }
}
