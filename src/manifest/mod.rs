//! Manifests as read from disk: files, YAML documents, and the Kubernetes resources in them.

mod position;
mod source;
mod yaml;

use serde_json::Value;

pub use position::{Location, Pos, Positions, escape_pointer, segments};
pub use source::{Input, Source, discover, read_input};
pub use yaml::{Document, MAX_DEPTH, Stream, YamlProblem, parse_stream};

/// A group/version/kind, parsed once from `apiVersion` and `kind`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Gvk {
    /// Empty for the core group (`apiVersion: v1`).
    pub group: String,
    pub version: String,
    pub kind: String,
}

impl Gvk {
    pub fn new(api_version: &str, kind: &str) -> Gvk {
        let (group, version) = match api_version.rsplit_once('/') {
            Some((g, v)) => (g.to_owned(), v.to_owned()),
            None => (String::new(), api_version.to_owned()),
        };
        Gvk {
            group,
            version,
            kind: kind.to_owned(),
        }
    }

    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.clone()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }
}

/// One Kubernetes object: a YAML document, or one item of a `kind: List` document.
#[derive(Debug)]
pub struct Resource {
    pub value: Value,
    pub positions: Positions,
    /// Where the object starts in its file.
    pub start: Pos,
    /// Problems the YAML reader found in this object (duplicate keys), pointers relative to it.
    pub problems: Vec<YamlProblem>,
}

impl Resource {
    fn str_at(&self, pointer: &str) -> &str {
        self.value
            .pointer(pointer)
            .and_then(Value::as_str)
            .unwrap_or("")
    }
    pub fn kind(&self) -> &str {
        self.str_at("/kind")
    }
    pub fn api_version(&self) -> &str {
        self.str_at("/apiVersion")
    }
    pub fn name(&self) -> &str {
        match self.str_at("/metadata/name") {
            "" => self.str_at("/metadata/generateName"),
            name => name,
        }
    }
    pub fn namespace(&self) -> &str {
        self.str_at("/metadata/namespace")
    }
    pub fn gvk(&self) -> Gvk {
        Gvk::new(self.api_version(), self.kind())
    }

    /// The source location of a JSON pointer into this object: the value, or for a
    /// pointer past the end (a missing property), the closest ancestor.
    pub fn locate(&self, pointer: &str) -> Location {
        self.positions
            .locate(&self.value, pointer)
            .unwrap_or(Location {
                value: self.start,
                key: None,
            })
    }
}

/// Splits a document into resources: `kind: List` (and `*List` with `items`) is expanded;
/// empty documents give nothing.
pub fn resources_of(doc: Document) -> Vec<Resource> {
    if doc.value.is_null() {
        return Vec::new();
    }
    let is_list = doc
        .value
        .get("kind")
        .and_then(Value::as_str)
        .is_some_and(|k| k.ends_with("List"))
        && doc.value.get("items").is_some_and(Value::is_array);
    if !is_list {
        return vec![Resource {
            value: doc.value,
            positions: doc.positions,
            start: doc.start,
            problems: doc.problems,
        }];
    }
    let mut out = Vec::new();
    let count = doc.value["items"].as_array().map_or(0, Vec::len);
    for i in 0..count {
        let pointer = format!("/items/{i}");
        let positions = doc
            .positions
            .subtree(&doc.value, &pointer)
            .unwrap_or_default();
        let start = doc
            .positions
            .locate(&doc.value, &pointer)
            .map_or(doc.start, |l| l.value);
        let prefix = format!("{pointer}/");
        let problems = doc
            .problems
            .iter()
            .filter_map(|p| {
                let rest = p.pointer.as_deref()?.strip_prefix(prefix.as_str())?;
                Some(YamlProblem {
                    pointer: Some(format!("/{rest}")),
                    ..p.clone()
                })
            })
            .collect();
        out.push(Resource {
            value: Value::Null,
            positions,
            start,
            problems,
        });
    }
    let mut value = doc.value;
    if let Some(Value::Array(items)) = value.get_mut("items").map(Value::take) {
        for (resource, item) in out.iter_mut().zip(items) {
            resource.value = item;
        }
    }
    out.retain(|r| !r.value.is_null());
    out
}
