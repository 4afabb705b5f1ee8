//! The Kubernetes 1.30–1.37 schemas compiled into the binary (see `schemas/README.md`).
//!
//! `scripts/gen-schemas` stores every distinct schema once as a raw-deflate blob and one small
//! gzipped index per version. Only the index of the version in use is inflated, and only the
//! blobs that the kinds being validated reach through `$ref`.

use std::collections::HashMap;
use std::io::Read;
use std::sync::OnceLock;

use flate2::read::{DeflateDecoder, GzDecoder};
use serde::Deserialize;
use serde_json::Value;

const BLOBS: &[u8] = include_bytes!("../../../schemas/kubernetes/blobs.bin");

macro_rules! indexes {
    ($($minor:literal),*) => {
        [$(($minor, include_bytes!(concat!("../../../schemas/kubernetes/v1.", $minor, ".json.gz")) as &[u8])),*]
    };
}
const INDEXES: [(u32, &[u8]); 8] = indexes!(30, 31, 32, 33, 34, 35, 36, 37);

/// The oldest and newest embedded minor versions of Kubernetes 1.x.
pub const MINORS: std::ops::RangeInclusive<u32> = 30..=37;

/// Base of the URIs embedded schemas are known by inside the validator's registry.
pub const BASE_URI: &str = "https://schemas.kbundle.invalid/kubernetes/";

#[derive(Deserialize)]
struct Index {
    kinds: HashMap<String, (usize, usize)>,
    defs: HashMap<String, (usize, usize)>,
}

/// Lazily inflated access to the embedded schemas.
#[derive(Default)]
pub struct Embedded {
    indexes: [OnceLock<Option<Index>>; 8],
}

impl Embedded {
    fn index(&self, minor: u32) -> Option<&Index> {
        let slot = INDEXES.iter().position(|(m, _)| *m == minor)?;
        self.indexes[slot]
            .get_or_init(|| {
                let mut json = Vec::new();
                GzDecoder::new(INDEXES[slot].1)
                    .read_to_end(&mut json)
                    .ok()?;
                serde_json::from_slice(&json).ok()
            })
            .as_ref()
    }

    fn blob(range: (usize, usize)) -> Option<Value> {
        let bytes = BLOBS.get(range.0..range.0 + range.1)?;
        let mut json = Vec::new();
        DeflateDecoder::new(bytes).read_to_end(&mut json).ok()?;
        serde_json::from_slice(&json).ok()
    }

    /// The schema of a kind file (`deployment-apps-v1`), if this version has it.
    pub fn kind(&self, minor: u32, stem: &str) -> Option<Value> {
        Self::blob(*self.index(minor)?.kinds.get(stem)?)
    }

    /// One entry of the version's `_definitions.json`.
    pub fn definition(&self, minor: u32, name: &str) -> Option<Value> {
        Self::blob(*self.index(minor)?.defs.get(name)?)
    }

    /// Resolves a registry URI made by [`uri`] back to its schema, strict if asked.
    pub fn resolve(&self, uri: &str) -> Option<Value> {
        let rest = uri.strip_prefix(BASE_URI)?;
        let (dir, name) = rest.split_once('/')?;
        let (version, strict) = match dir.strip_suffix("-strict") {
            Some(v) => (v, true),
            None => (dir, false),
        };
        let minor = version
            .strip_prefix("v1.")?
            .strip_suffix(".0")?
            .parse()
            .ok()?;
        let mut schema = match name.strip_suffix(".json") {
            Some(stem) => self.kind(minor, stem)?,
            None => self.definition(minor, name)?,
        };
        if strict {
            strictify(&mut schema, name.ends_with(".json"));
        }
        Some(schema)
    }
}

/// The registry URI of an embedded kind file or definition. Definitions are referenced by
/// bare name, so a `$ref` inside a blob resolves relative to this URI.
pub fn uri(minor: u32, strict: bool, kind_stem: &str) -> String {
    let suffix = if strict { "-strict" } else { "" };
    format!("{BASE_URI}v1.{minor}.0{suffix}/{kind_stem}.json")
}

/// Forbids properties a schema does not name, the way kubeconform's openapi2jsonschema
/// derives its `-strict` schemas: every object with `properties` (and the top of a kind
/// file) gets `additionalProperties: false` unless it says otherwise. `scripts/gen-schemas`
/// checks that this reproduces the `-strict` folders of the source wheel exactly.
pub fn strictify(schema: &mut Value, top: bool) {
    match schema {
        Value::Object(map) => {
            for v in map.values_mut() {
                strictify(v, false);
            }
            if (top || map.contains_key("properties")) && !map.contains_key("additionalProperties")
            {
                map.insert("additionalProperties".into(), Value::Bool(false));
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|v| strictify(v, false)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_version_has_deployment_and_resolves_its_references() {
        let e = Embedded::default();
        for minor in MINORS {
            let d = e.kind(minor, "deployment-apps-v1").unwrap();
            assert_eq!(
                d["properties"]["spec"]["$ref"],
                "io.k8s.api.apps.v1.DeploymentSpec"
            );
            assert!(
                e.definition(minor, "io.k8s.api.apps.v1.DeploymentSpec")
                    .is_some()
            );
        }
        assert!(e.kind(29, "deployment-apps-v1").is_none());
    }

    #[test]
    fn strict_uris_add_additional_properties_false() {
        let e = Embedded::default();
        let lax = e
            .resolve(&format!(
                "{BASE_URI}v1.37.0/io.k8s.api.apps.v1.DeploymentSpec"
            ))
            .unwrap();
        assert!(lax.get("additionalProperties").is_none());
        let strict = e
            .resolve(&format!(
                "{BASE_URI}v1.37.0-strict/io.k8s.api.apps.v1.DeploymentSpec"
            ))
            .unwrap();
        assert_eq!(strict["additionalProperties"], false);
        let kind = e.resolve(&uri(37, true, "namespace-v1")).unwrap();
        assert_eq!(kind["additionalProperties"], false);
    }
}
