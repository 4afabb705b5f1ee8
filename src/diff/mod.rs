//! What changes in the cluster between two sets of manifests, by resource.
//!
//! Pure code, no network: each side is a set of YAML sources (the files of a folder, or of an
//! unpacked bundle). Resources are matched by identity (API group, kind, namespace, name), not
//! by file, and compared after normalisation (keys sorted, comments and layout gone), so
//! moving a resource to another file, reordering keys or documents, and editing comments are
//! not changes. A Secret's `data` and `stringData` values never reach the output: the diff
//! says which keys changed.
//!
//! The namespace is taken as written: a namespaced resource without `metadata.namespace` and
//! the same resource with `namespace: default` are two identities, because which namespace an
//! unset one lands in is decided by the tool that applies it, not by the manifests.

mod normal;
mod paths;
mod render;

use std::collections::BTreeMap;
use std::fmt;

use serde_json::Value;

use crate::manifest::{self, Source};

pub use paths::{FieldChange, FieldOp};
pub use render::{Format, markdown_section, render, summary_line};

/// Which resource an object is: what the API server keys it by (the version is not part of
/// it: `apps/v1beta1` and `apps/v1` Deployments of one name are the same object).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Identity {
    /// Empty for the core group.
    pub group: String,
    pub kind: String,
    /// Empty when the manifest gives none.
    pub namespace: String,
    pub name: String,
}

impl Identity {
    /// `Deployment.apps`, `ConfigMap`.
    pub fn kind_group(&self) -> String {
        if self.group.is_empty() {
            self.kind.clone()
        } else {
            format!("{}.{}", self.kind, self.group)
        }
    }

    /// `prod/web`, or `web` without a namespace.
    pub fn qualified_name(&self) -> String {
        if self.namespace.is_empty() {
            self.name.clone()
        } else {
            format!("{}/{}", self.namespace, self.name)
        }
    }

    fn is_secret(&self) -> bool {
        self.group.is_empty() && self.kind == "Secret"
    }
}

impl fmt::Display for Identity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.kind_group(), self.qualified_name())
    }
}

/// One resource of a side.
#[derive(Debug, Clone)]
pub struct Object {
    pub identity: Identity,
    /// `FILE:LINE` where it starts.
    pub source: String,
    /// As parsed, values unredacted (never printed as such).
    value: Value,
    /// The normalised YAML: keys sorted, Secret values redacted. What is printed.
    pub yaml: String,
}

/// The resources of one side, by identity.
#[derive(Debug, Default)]
pub struct Side {
    objects: BTreeMap<Identity, Object>,
    /// `FILE:LINE` of documents that are not Kubernetes objects (no kind or no name): left
    /// out of the comparison.
    pub skipped: Vec<String>,
}

/// Why a side could not be read.
#[derive(Debug, thiserror::Error)]
pub enum SideError {
    #[error("{file}:{line}:{column}: {message}; fix the YAML")]
    Yaml {
        file: String,
        line: u32,
        column: u32,
        message: String,
    },
    #[error("{identity} is defined twice, at {first} and at {second}; a resource may appear once")]
    Duplicate {
        identity: Box<Identity>,
        first: String,
        second: String,
    },
}

impl Side {
    /// Reads the resources of `sources`; `kind: List` items count one by one.
    pub fn read(sources: &[Source]) -> Result<Side, SideError> {
        let mut side = Side::default();
        for source in sources {
            let stream = manifest::parse_stream(&source.text);
            if let Some(e) = stream.errors.into_iter().next() {
                return Err(SideError::Yaml {
                    file: source.name.to_string(),
                    line: e.pos.line,
                    column: e.pos.column,
                    message: e.message,
                });
            }
            for doc in stream.documents {
                for resource in manifest::resources_of(doc) {
                    let at = format!("{}:{}", source.name, resource.start.line);
                    let (kind, name) = (resource.kind(), resource.name());
                    if kind.is_empty() || name.is_empty() || !resource.value.is_object() {
                        side.skipped.push(at);
                        continue;
                    }
                    let gvk = resource.gvk();
                    let identity = Identity {
                        group: gvk.group,
                        kind: kind.to_owned(),
                        namespace: resource.namespace().to_owned(),
                        name: name.to_owned(),
                    };
                    if let Some(first) = side.objects.get(&identity) {
                        return Err(SideError::Duplicate {
                            identity: Box::new(identity),
                            first: first.source.clone(),
                            second: at,
                        });
                    }
                    let yaml = normal::yaml(&normal::redacted(&identity, &resource.value));
                    side.objects.insert(
                        identity.clone(),
                        Object {
                            identity,
                            source: at,
                            value: resource.value,
                            yaml,
                        },
                    );
                }
            }
        }
        Ok(side)
    }

    pub fn len(&self) -> usize {
        self.objects.len()
    }

    pub fn is_empty(&self) -> bool {
        self.objects.is_empty()
    }
}

/// A resource on both sides that differs.
#[derive(Debug, Clone)]
pub struct Changed {
    pub old: Object,
    pub new: Object,
    /// The fields that differ, in document order of the new side.
    pub fields: Vec<FieldChange>,
    /// A unified diff of the normalised YAML (Secret values redacted).
    pub unified: String,
    /// For a Secret: the `data`/`stringData` keys whose values changed (`data.password`).
    pub secret_keys: Vec<String>,
}

/// Everything that differs between two sides.
#[derive(Debug, Default)]
pub struct Diff {
    pub added: Vec<Object>,
    pub removed: Vec<Object>,
    pub changed: Vec<Changed>,
    pub unchanged: usize,
    /// What each side left out (not Kubernetes objects).
    pub skipped: (Vec<String>, Vec<String>),
}

impl Diff {
    pub fn is_empty(&self) -> bool {
        self.added.is_empty() && self.removed.is_empty() && self.changed.is_empty()
    }

    /// The namespaces of the resources that change, sorted; `(none)` for cluster-scoped ones
    /// and those whose manifest gives no namespace.
    pub fn namespaces(&self) -> Vec<String> {
        let mut out: Vec<String> = self
            .identities()
            .map(|i| {
                if i.namespace.is_empty() {
                    "(none)".to_owned()
                } else {
                    i.namespace.clone()
                }
            })
            .collect();
        out.sort();
        out.dedup();
        out
    }

    /// The kinds of the resources that change, with how many of each.
    pub fn kinds(&self) -> Vec<(String, usize)> {
        let mut counts: BTreeMap<String, usize> = BTreeMap::new();
        for i in self.identities() {
            *counts.entry(i.kind_group()).or_default() += 1;
        }
        counts.into_iter().collect()
    }

    fn identities(&self) -> impl Iterator<Item = &Identity> {
        self.added
            .iter()
            .chain(&self.removed)
            .map(|o| &o.identity)
            .chain(self.changed.iter().map(|c| &c.new.identity))
    }
}

/// Compares two sides by resource identity.
pub fn compare(old: Side, new: Side) -> Diff {
    let mut diff = Diff {
        skipped: (old.skipped, new.skipped),
        ..Diff::default()
    };
    let mut old_objects = old.objects;
    for (identity, new_object) in new.objects {
        let Some(old_object) = old_objects.remove(&identity) else {
            diff.added.push(new_object);
            continue;
        };
        if old_object.value == new_object.value {
            diff.unchanged += 1;
            continue;
        }
        let fields = paths::changes(&old_object.value, &new_object.value);
        if fields.is_empty() {
            // Equal but for key order, which Value equality already ignores; kept for safety.
            diff.unchanged += 1;
            continue;
        }
        let secret_keys = if identity.is_secret() {
            normal::secret_keys(&old_object.value, &new_object.value)
        } else {
            Vec::new()
        };
        let unified = render::unified(&old_object, &new_object);
        diff.changed.push(Changed {
            old: old_object,
            new: new_object,
            fields,
            unified,
            secret_keys,
        });
    }
    diff.removed = old_objects.into_values().collect();
    diff
}

#[cfg(test)]
mod tests;
