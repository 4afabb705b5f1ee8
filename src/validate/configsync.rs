//! Config Sync's rules for declared resources, reported with Config Sync's own error codes
//! (`KNV1061`...) so that what the reconciler or `nomos vet` would reject is caught before
//! it is pushed.

use std::sync::Arc;

use serde_json::Value;

use super::scope::Scope;

pub mod layout;

use crate::manifest::{Gvk, Location, Pos, Resource, escape_pointer};
use crate::report::Problem;
use layout::Place;

const SYNC_GROUP: &str = "configsync.gke.io";
const CONTROLLER_NAMESPACE: &str = "config-management-system";
/// 63 (a label value) minus `config-management-system_`: the inventory-id label holds both.
const MAX_ROOT_SYNC_NAME: usize = 38;
/// The reconciler is named `ns-reconciler-<namespace>-<name>-<len(name)>`.
const MAX_REPO_SYNC_NN: usize = 45;

const INVALID_SYNC: &str = "KNV1061";
const NAMESPACE_ON_CLUSTER_SCOPED: &str = "KNV1052";
const SERVER_FIELD: &str = "KNV1045";
const RESERVED_ANNOTATION: &str = "KNV1010";
const RESERVED_LABEL: &str = "KNV1011";
const NAME_COLLISION: &str = "KNV1029";
const UNKNOWN_SELECTOR: &str = "KNV1013";
const INVALID_SELECTOR: &str = "KNV1014";

const NAMESPACE_SELECTOR: &str = "configmanagement.gke.io/namespace-selector";
const CLUSTER_SELECTOR: &str = "configmanagement.gke.io/cluster-selector";
const CLUSTER_NAME_SELECTOR: &str = "configsync.gke.io/cluster-name-selector";

/// Metadata the API server sets; declaring it makes every apply fight the server.
const SERVER_FIELDS: &[&str] = &[
    "uid",
    "resourceVersion",
    "generation",
    "selfLink",
    "creationTimestamp",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "ownerReferences",
    "managedFields",
];

const RESERVED_PREFIXES: &[&str] = &["configsync.gke.io/", "configmanagement.gke.io/"];

/// The reserved-prefix annotations users are meant to set.
const USER_ANNOTATIONS: &[&str] = &[
    "configmanagement.gke.io/namespace-selector",
    "configmanagement.gke.io/cluster-selector",
    "configmanagement.gke.io/managed",
    "configsync.gke.io/cluster-name-selector",
    "configsync.gke.io/deletion-propagation-policy",
];

/// What one source type (`spec.git`, `spec.oci`, `spec.helm`) needs.
struct SourceRules {
    name: &'static str,
    /// Required fields and what to put in them.
    required: &'static [(&'static str, &'static str)],
    /// Auth types, space-separated.
    auths: &'static str,
    /// Auth types that read credentials from `secretRef.name`, space-separated.
    secret_auths: &'static str,
}

const SOURCES: [SourceRules; 3] = [
    SourceRules {
        name: "git",
        required: &[("repo", "the URL of the repository to sync")],
        auths: "none ssh cookiefile gcenode token gcpserviceaccount k8sserviceaccount githubapp",
        secret_auths: "ssh cookiefile token githubapp",
    },
    SourceRules {
        name: "oci",
        required: &[("image", "the image to sync")],
        auths: "none gcenode gcpserviceaccount k8sserviceaccount",
        secret_auths: "",
    },
    SourceRules {
        name: "helm",
        required: &[
            ("repo", "the URL of the Helm repository"),
            ("chart", "the name of the chart to sync"),
        ],
        auths: "none gcenode gcpserviceaccount k8sserviceaccount token",
        secret_auths: "token",
    },
];

/// What makes two resources "the same object" for Config Sync (KNV1029): the same object
/// in the same repository, sent to the same places (the same selectors).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Identity {
    pub root: Arc<str>,
    pub group: String,
    pub kind: String,
    pub namespace: String,
    pub name: String,
    /// The values of the selector annotations, which decide where the object goes.
    pub selectors: [String; 3],
}

fn annotation<'r>(resource: &'r Resource, key: &str) -> Option<&'r str> {
    resource
        .value
        .pointer("/metadata/annotations")?
        .get(key)?
        .as_str()
}

/// The identity of a resource in its repository; `None` when its kind or name is missing.
/// In a hierarchical repository's namespace folder a namespaced object without a namespace
/// is in the folder's namespace.
pub fn identity(resource: &Resource, place: &Place, scope: Option<Scope>) -> Option<Identity> {
    let name = resource.value.pointer("/metadata/name")?.as_str()?;
    let kind = resource.kind();
    if name.is_empty() || kind.is_empty() {
        return None;
    }
    let gvk = resource.gvk();
    let namespaced =
        scope != Some(Scope::Cluster) && !(gvk.group.is_empty() && kind == "Namespace");
    let namespace = match (resource.namespace(), &place.namespace) {
        ("", Some(folder)) if namespaced => folder.clone(),
        (ns, _) => ns.to_owned(),
    };
    let selector = |k| annotation(resource, k).unwrap_or("").to_owned();
    Some(Identity {
        root: place.root.clone(),
        group: gvk.group,
        kind: kind.to_owned(),
        namespace,
        name: name.to_owned(),
        selectors: [
            selector(NAMESPACE_SELECTOR),
            selector(CLUSTER_SELECTOR),
            selector(CLUSTER_NAME_SELECTOR),
        ],
    })
}

/// A selector kind (`NamespaceSelector`, `ClusterSelector`) and name.
pub type SelectorName = (&'static str, String);

/// The selector this resource declares, if it is one.
pub fn declared_selector(resource: &Resource) -> Option<SelectorName> {
    let gvk = resource.gvk();
    if gvk.group != "configmanagement.gke.io" {
        return None;
    }
    let kind = match gvk.kind.as_str() {
        "NamespaceSelector" => "NamespaceSelector",
        "ClusterSelector" => "ClusterSelector",
        _ => return None,
    };
    Some((kind, resource.name().to_owned()))
}

/// The selectors this resource's annotations name, with where each value is.
pub fn selector_references(resource: &Resource) -> Vec<(SelectorName, Location, String)> {
    let mut out = Vec::new();
    for (key, kind) in [
        (NAMESPACE_SELECTOR, "NamespaceSelector"),
        (CLUSTER_SELECTOR, "ClusterSelector"),
    ] {
        if let Some(name) = annotation(resource, key).filter(|n| !n.is_empty()) {
            let pointer = format!("/metadata/annotations/{}", escape_pointer(key));
            out.push(((kind, name.to_owned()), resource.locate(&pointer), pointer));
        }
    }
    out
}

/// KNV1014: in a hierarchical repository a NamespaceSelector must select statically
/// (`mode: dynamic` needs the unstructured format), as `nomos vet` says.
pub fn hierarchy_rules(resource: &Resource) -> Vec<Problem> {
    let dynamic = declared_selector(resource).is_some_and(|(kind, _)| kind == "NamespaceSelector")
        && resource.value.pointer("/spec/mode").and_then(Value::as_str) == Some("dynamic");
    if !dynamic {
        return Vec::new();
    }
    let at = resource.locate("/spec/mode");
    let msg = format!(
        "NamespaceSelector {:?} MUST NOT use the dynamic mode with the hierarchy source format; use mode: static, or the unstructured format",
        resource.name()
    );
    vec![problem(
        INVALID_SELECTOR,
        "/spec/mode".to_owned(),
        at.value,
        &msg,
    )]
}

/// KNV1013: an annotation names a selector its repository does not declare.
pub fn unknown_selector(
    subject_kind: &str,
    subject_name: &str,
    (kind, name): &SelectorName,
    at: Location,
    pointer: String,
) -> Problem {
    let msg = format!(
        "{subject_kind} {subject_name:?} names {kind} {name:?}, which this repository does not declare; add it or fix the annotation"
    );
    problem(UNKNOWN_SELECTOR, pointer, at.value, &msg)
}

/// The KNV1029 problem for the later of two colliding resources; `first` says where the
/// first is (file and line), `at` is where the later one's name is.
pub fn collision(id: &Identity, first_file: &str, first_line: u32, at: Location) -> Problem {
    let namespace = if id.namespace.is_empty() {
        String::new()
    } else {
        format!(" in namespace {:?}", id.namespace)
    };
    let msg = format!(
        "{} {:?}{namespace} is declared twice; the first is at {first_file}:{first_line}",
        id.kind, id.name
    );
    problem(NAME_COLLISION, "/metadata/name".to_owned(), at.value, &msg)
}

/// RootSync or RepoSync in group configsync.gke.io (any version).
pub fn is_sync_kind(gvk: &Gvk) -> bool {
    gvk.group == SYNC_GROUP && matches!(gvk.kind.as_str(), "RootSync" | "RepoSync")
}

/// Rules that look at one resource alone. `scope` is the kind's scope if known (built-in or
/// from a CRD).
pub fn check(resource: &Resource, scope: Option<Scope>) -> Vec<Problem> {
    let mut c = Checker {
        resource,
        subject: subject(resource),
        out: Vec::new(),
    };
    let gvk = resource.gvk();
    if is_sync_kind(&gvk) {
        c.sync_metadata(gvk.kind == "RootSync");
        c.sync_source();
    }
    // A Namespace is cluster-scoped even when the caller could not say so.
    let namespace_kind = gvk.group.is_empty() && gvk.kind == "Namespace";
    let cluster = scope == Some(Scope::Cluster) || namespace_kind;
    if cluster && c.get("/metadata/namespace").is_some_and(is_set) {
        let msg = "is cluster-scoped and must not declare metadata.namespace";
        c.key(NAMESPACE_ON_CLUSTER_SCOPED, "/metadata/namespace", msg);
    }
    let metadata = resource.value.get("metadata").and_then(Value::as_object);
    for (field, value) in metadata.into_iter().flatten() {
        if SERVER_FIELDS.contains(&field.as_str()) && is_set(value) {
            let msg = format!("declares metadata.{field}, which the API server sets; remove it");
            c.key(SERVER_FIELD, &format!("/metadata/{field}"), &msg);
        }
    }
    c.reserved_keys("annotations", RESERVED_ANNOTATION, USER_ANNOTATIONS);
    // Every reserved-prefix label is Config Sync's own.
    c.reserved_keys("labels", RESERVED_LABEL, &[]);
    // Top to bottom, as the file reads.
    c.out.sort_by_key(|p| (p.line, p.column));
    c.out
}

/// Collects the problems of one resource; every message starts with the resource's kind and
/// name.
struct Checker<'r> {
    resource: &'r Resource,
    subject: String,
    out: Vec<Problem>,
}

impl<'r> Checker<'r> {
    fn get(&self, pointer: &str) -> Option<&'r Value> {
        self.resource.value.pointer(pointer)
    }

    fn str(&self, pointer: &str) -> Option<&'r str> {
        self.get(pointer).and_then(Value::as_str)
    }

    /// A wrong value: points at the value.
    fn value(&mut self, code: &'static str, pointer: &str, msg: &str) {
        let pos = self.resource.locate(pointer).value;
        self.push(code, pointer, pos, msg);
    }

    /// A key that must not be there, or the object a required key is missing from: points
    /// at the key, or at the value when it has none (the document root, a list item).
    fn key(&mut self, code: &'static str, pointer: &str, msg: &str) {
        let location = self.resource.locate(pointer);
        self.push(code, pointer, location.key.unwrap_or(location.value), msg);
    }

    fn push(&mut self, code: &'static str, pointer: &str, pos: Pos, msg: &str) {
        let msg = format!("{} {msg}", self.subject);
        self.out.push(problem(code, pointer.to_owned(), pos, &msg));
    }

    /// Where a RootSync or RepoSync may live, and how long its name may be.
    fn sync_metadata(&mut self, root: bool) {
        let namespace = self.resource.namespace();
        let name = self.str("/metadata/name").unwrap_or("");
        if root {
            if namespace.is_empty() {
                let msg = format!("has no metadata.namespace; set it to {CONTROLLER_NAMESPACE}");
                self.key(INVALID_SYNC, "/metadata", &msg);
            } else if namespace != CONTROLLER_NAMESPACE {
                let msg =
                    format!("is in namespace {namespace:?}; move it to {CONTROLLER_NAMESPACE}");
                self.value(INVALID_SYNC, "/metadata/namespace", &msg);
            }
            let length = name.chars().count();
            if length > MAX_ROOT_SYNC_NAME {
                let msg =
                    format!("has a {length}-character name; shorten it to {MAX_ROOT_SYNC_NAME}");
                self.value(INVALID_SYNC, "/metadata/name", &msg);
            }
            return;
        }
        if namespace == CONTROLLER_NAMESPACE {
            let msg =
                format!("must not be in {CONTROLLER_NAMESPACE}; move it to the namespace it syncs");
            self.value(INVALID_SYNC, "/metadata/namespace", &msg);
        }
        let length = name.chars().count() + namespace.chars().count();
        if !name.is_empty() && length > MAX_REPO_SYNC_NN {
            let msg = format!(
                "has {length} characters of name and namespace; shorten to {MAX_REPO_SYNC_NN}"
            );
            self.value(INVALID_SYNC, "/metadata/name", &msg);
        }
    }

    /// The source a RootSync or RepoSync pulls from: the section for its sourceType must be
    /// complete, and the others absent.
    fn sync_source(&mut self) {
        const POINTER: &str = "/spec/sourceType";
        let default = || ("git", "syncs from git (the default sourceType)".to_owned());
        let (source, how) = match self.get(POINTER) {
            None | Some(Value::Null) => default(),
            Some(Value::String(s)) if s.is_empty() => default(),
            Some(Value::String(s)) if SOURCES.iter().any(|r| r.name == s) => {
                (s.as_str(), format!("sets sourceType {s}"))
            }
            Some(other) => {
                let msg = format!("sets sourceType to {other}; use one of git, oci, helm");
                self.value(INVALID_SYNC, POINTER, &msg);
                return;
            }
        };
        for rules in &SOURCES {
            let section = format!("/spec/{}", rules.name);
            let set = self.get(&section).is_some_and(|v| !v.is_null());
            if rules.name == source && set {
                self.source_section(&how, rules);
            } else if rules.name == source {
                let msg = format!("{how} but has no spec.{source}; add it");
                self.key(INVALID_SYNC, "/spec", &msg);
            }
            // A section for another source type is left alone: Config Sync ignores it.
        }
    }

    fn source_section(&mut self, how: &str, rules: &SourceRules) {
        let name = rules.name;
        for (field, hint) in rules.required {
            self.require(name, field, how, hint);
        }
        let choices = rules.auths.replace(' ', ", ");
        if !self.require(name, "auth", how, &format!("one of {choices}")) {
            return;
        }
        let pointer = format!("/spec/{name}/auth");
        let known = |a: &&str| rules.auths.split(' ').any(|x| x == *a);
        let Some(auth) = self.str(&pointer).filter(known) else {
            let value = self.get(&pointer).map_or(String::new(), Value::to_string);
            let msg = format!("sets spec.{name}.auth to {value}; use one of {choices}");
            self.value(INVALID_SYNC, &pointer, &msg);
            return;
        };
        let why = format!("uses auth {auth}");
        if auth == "gcpserviceaccount" {
            let hint = "the email of the Google service account to authenticate as";
            self.require(name, "gcpServiceAccountEmail", &why, hint);
        }
        if rules.secret_auths.split(' ').any(|x| x == auth) {
            let hint = "the Secret that holds the credentials";
            self.require(name, "secretRef/name", &why, hint);
        }
    }

    /// Reports `spec.<section>.<field>` (a relative pointer) when missing or empty; true when
    /// it is there.
    fn require(&mut self, section: &str, field: &str, why: &str, hint: &str) -> bool {
        let pointer = format!("/spec/{section}/{field}");
        let dotted = format!("spec.{section}.{}", field.replace('/', "."));
        let msg = format!("{why} but no {dotted}; set {dotted} to {hint}");
        match self.get(&pointer) {
            None | Some(Value::Null) => {
                let parent = pointer.rsplit_once('/').map_or("", |(p, _)| p);
                self.key(INVALID_SYNC, parent, &msg);
                false
            }
            Some(Value::String(s)) if s.is_empty() => {
                self.value(INVALID_SYNC, &pointer, &msg);
                false
            }
            Some(_) => true,
        }
    }

    /// Annotations or labels under Config Sync's prefixes that users must not set.
    fn reserved_keys(&mut self, field: &str, code: &'static str, allowed: &[&str]) {
        let pointer = format!("/metadata/{field}");
        let Some(Value::Object(map)) = self.get(&pointer) else {
            return;
        };
        let singular = field.trim_end_matches('s');
        for key in map.keys() {
            let reserved = RESERVED_PREFIXES.iter().any(|p| key.starts_with(p));
            if reserved && !allowed.contains(&key.as_str()) {
                let msg =
                    format!("declares {singular} {key:?}, reserved for Config Sync; remove it");
                self.key(code, &format!("{pointer}/{}", escape_pointer(key)), &msg);
            }
        }
    }
}

/// `Kind "name"`, or what there is of it, for messages.
fn subject(resource: &Resource) -> String {
    let kind = match resource.kind() {
        "" => "resource",
        kind => kind,
    };
    match resource.name() {
        "" => kind.to_owned(),
        name => format!("{kind} {name:?}"),
    }
}

/// Whether a field holds something; Go's zero values count as unset, as in Config Sync.
fn is_set(value: &Value) -> bool {
    match value {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64() != Some(0.0),
        Value::String(s) => !s.is_empty(),
        Value::Array(items) => !items.is_empty(),
        Value::Object(map) => !map.is_empty(),
    }
}

fn problem(code: &'static str, path: String, pos: Pos, msg: &str) -> Problem {
    Problem {
        path,
        msg: format!("{code}: {msg}"),
        line: pos.line,
        column: pos.column,
        code: Some(code),
    }
}

#[cfg(test)]
mod tests;
