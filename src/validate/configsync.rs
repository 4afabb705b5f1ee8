//! Config Sync's rules for declared resources, reported with Config Sync's own error codes
//! (`KNV1061`...) so that what the reconciler or `nomos vet` would reject is caught before
//! it is pushed.

use serde_json::Value;

use super::scope::Scope;
use crate::manifest::{Gvk, Location, Pos, Resource, escape_pointer};
use crate::report::Problem;

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

/// What makes two resources "the same object" for Config Sync (KNV1029).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Identity {
    pub group: String,
    pub kind: String,
    pub namespace: String,
    pub name: String,
}

/// The identity of a resource; `None` when its kind or name is missing.
pub fn identity(resource: &Resource) -> Option<Identity> {
    let name = resource.value.pointer("/metadata/name")?.as_str()?;
    let kind = resource.kind();
    if name.is_empty() || kind.is_empty() {
        return None;
    }
    Some(Identity {
        group: resource.gvk().group,
        kind: kind.to_owned(),
        namespace: resource.namespace().to_owned(),
        name: name.to_owned(),
    })
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
mod tests {
    use super::*;
    use crate::manifest::{parse_stream, resources_of};

    fn resource(yaml: &str) -> Resource {
        let stream = parse_stream(yaml);
        assert!(stream.error.is_none(), "{:?}", stream.error);
        let mut resources = stream.documents.into_iter().flat_map(resources_of);
        resources.next().expect("a resource")
    }

    /// Checks the problems found, written `code path line` and joined with `, `.
    #[track_caller]
    fn expect_in(yaml: &str, scope: Option<Scope>, expected: &str) {
        let problems = check(&resource(yaml), scope);
        let found: Vec<String> = problems
            .iter()
            .map(|p| {
                let code = p.code.expect("a code");
                assert!(p.msg.starts_with(&format!("{code}: ")), "{}", p.msg);
                format!("{code} {} {}", p.path, p.line)
            })
            .collect();
        assert_eq!(found.join(", "), expected, "{problems:#?}");
    }

    #[track_caller]
    fn expect(yaml: &str, expected: &str) {
        expect_in(yaml, None, expected);
    }

    /// The first message for a resource.
    fn message(yaml: &str) -> String {
        check(&resource(yaml), None).remove(0).msg
    }

    const OCI: &str = "spec:\n  sourceType: oci\n  oci:\n    image: us-docker.pkg.dev/p/r/i\n    auth: k8sserviceaccount\n";
    const GIT: &str = "spec:\n  git:\n    repo: https://example.com/r\n    auth: none\n";
    const HELM: &str = "spec:\n  sourceType: helm\n  helm:\n    repo: oci://example.com/charts\n    chart: web\n    auth: none\n";
    const CMS: &str = "config-management-system";

    /// A RootSync or RepoSync whose `spec` starts at line 6 (5 without a namespace).
    fn sync_of(kind: &str, name: &str, namespace: &str, spec: &str) -> String {
        let ns = match namespace {
            "" => String::new(),
            ns => format!("  namespace: {ns}\n"),
        };
        let head = format!("apiVersion: configsync.gke.io/v1beta1\nkind: {kind}\n");
        format!("{head}metadata:\n  name: {name}\n{ns}{spec}")
    }

    fn root(spec: &str) -> String {
        sync_of("RootSync", "root-sync", CMS, spec)
    }

    #[test]
    fn sync_metadata() {
        expect_in(&root(OCI), Some(Scope::Namespaced), "");
        expect(&sync_of("RootSync", &"a".repeat(38), CMS, OCI), "");
        let long = sync_of("RootSync", &"a".repeat(39), CMS, OCI);
        expect(&long, "KNV1061 /metadata/name 4");
        let elsewhere = sync_of("RootSync", "r", "default", OCI);
        expect(&elsewhere, "KNV1061 /metadata/namespace 5");
        expect(&sync_of("RootSync", "r", "", OCI), "KNV1061 /metadata 3");

        let repo = sync_of("RepoSync", "repo-sync", CMS, OCI);
        expect(&repo, "KNV1061 /metadata/namespace 5");
        // 45 characters together are fine, 46 are not.
        let (name, ns) = ("n".repeat(25), "s".repeat(20));
        expect(&sync_of("RepoSync", &name, &ns, OCI), "");
        let long = sync_of("RepoSync", &name, &format!("{ns}s"), OCI);
        expect(&long, "KNV1061 /metadata/name 4");
        // A RepoSync may inherit its namespace.
        expect(&sync_of("RepoSync", "repo-sync", "", GIT), "");
    }

    #[test]
    fn sync_sources() {
        let oci_gsa = OCI.replace("k8sserviceaccount", "gcpserviceaccount");
        let git_token = GIT.replace("none", "token");
        // Table layout reads better than rustfmt's one field a line.
        #[rustfmt::skip]
        let cases = [
            // No sourceType (or an empty one) means git, which then needs spec.git.
            ("spec: {}\n".to_owned(), "KNV1061 /spec 6"),
            ("spec:\n  sourceType: \"\"\n".to_owned(), "KNV1061 /spec 6"),
            ("spec:\n  sourceType: svn\n".to_owned(), "KNV1061 /spec/sourceType 7"),
            (format!("{OCI}  git:\n    repo: r\n"), ""),
            (OCI.to_owned(), ""),
            (OCI.replace("us-docker.pkg.dev/p/r/i", "\"\""), "KNV1061 /spec/oci/image 9"),
            (OCI.replace("    auth: k8sserviceaccount\n", ""), "KNV1061 /spec/oci 8"),
            (OCI.replace("k8sserviceaccount", "token"), "KNV1061 /spec/oci/auth 10"),
            (oci_gsa.clone(), "KNV1061 /spec/oci 8"),
            (format!("{oci_gsa}    gcpServiceAccountEmail: sa@p.iam.gserviceaccount.com\n"), ""),
            (GIT.to_owned(), ""),
            (GIT.replace("    repo: https://example.com/r\n", ""), "KNV1061 /spec/git 7"),
            (GIT.replace("none", "Token"), "KNV1061 /spec/git/auth 9"),
            (GIT.replace("none", "k8sserviceaccount"), ""),
            (GIT.replace("none", "gcpserviceaccount"), "KNV1061 /spec/git 7"),
            (GIT.replace("none", "githubapp"), "KNV1061 /spec/git/secretRef 7"),
            (git_token.clone(), "KNV1061 /spec/git/secretRef 7"),
            (format!("{git_token}    secretRef: {{}}\n"), "KNV1061 /spec/git/secretRef 10"),
            (format!("{git_token}    secretRef:\n      name: creds\n"), ""),
            (HELM.to_owned(), ""),
            (HELM.replace("    chart: web\n", ""), "KNV1061 /spec/helm 8"),
            (HELM.replace("none", "token"), "KNV1061 /spec/helm/secretRef 8"),
            (HELM.replace("none", "ssh"), "KNV1061 /spec/helm/auth 11"),
        ];
        for (spec, want) in cases {
            expect(&root(&spec), want);
        }
    }

    #[test]
    fn sync_messages() {
        let no_image = root(&OCI.replace("    image: us-docker.pkg.dev/p/r/i\n", ""));
        let want = "KNV1061: RootSync \"root-sync\" sets sourceType oci but no spec.oci.image; set spec.oci.image to the image to sync";
        assert_eq!(message(&no_image), want);
        let token = root(&GIT.replace("none", "token"));
        let want = "KNV1061: RootSync \"root-sync\" uses auth token but no spec.git.secretRef.name; set spec.git.secretRef.name to the Secret that holds the credentials";
        assert_eq!(message(&token), want);
    }

    #[test]
    fn namespace_on_cluster_scoped() {
        let ns = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: x\n  namespace: prod\n";
        expect(ns, "KNV1052 /metadata/namespace 5");
        let want =
            "KNV1052: Namespace \"x\" is cluster-scoped and must not declare metadata.namespace";
        assert_eq!(message(ns), want);
        let role = "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata:\n  namespace: prod\n  name: r\n";
        expect_in(role, Some(Scope::Cluster), "KNV1052 /metadata/namespace 4");
        expect(role, "");
        let cm = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n  namespace: prod\n";
        expect_in(cm, Some(Scope::Namespaced), "");
        // Namespace-less namespaced resources inherit a namespace: nothing to say.
        let bare = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n";
        expect_in(bare, Some(Scope::Namespaced), "");
        let list = "kind: List\nitems:\n- apiVersion: v1\n  kind: Namespace\n  metadata:\n    name: x\n    namespace: prod\n";
        expect(list, "KNV1052 /metadata/namespace 7");
    }

    #[test]
    fn server_fields() {
        let cm = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n  creationTimestamp: null\n  uid: \"1234\"\n  resourceVersion: \"5\"\n  ownerReferences: []\n  generation: 0\nstatus:\n  phase: x\n";
        expect(
            cm,
            "KNV1045 /metadata/uid 6, KNV1045 /metadata/resourceVersion 7",
        );
        assert_eq!(check(&resource(cm), None)[0].column, 3);
        let stamped = cm
            .replace("null", "\"2024-01-01T00:00:00Z\"")
            .replace(": 0", ": 2");
        let want = "KNV1045 /metadata/creationTimestamp 5, KNV1045 /metadata/uid 6, KNV1045 /metadata/resourceVersion 7, KNV1045 /metadata/generation 9";
        expect(&stamped, want);
    }

    #[test]
    fn reserved_annotations_and_labels() {
        let cm = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n  annotations:\n    configmanagement.gke.io/namespace-selector: sel\n    configsync.gke.io/deletion-propagation-policy: Foreground\n    example.com/x: z\n    configsync.gke.io/resource-id: z\n  labels:\n    app: web\n    configmanagement.gke.io/managed: enabled\n";
        let want = "KNV1010 /metadata/annotations/configsync.gke.io~1resource-id 9, KNV1011 /metadata/labels/configmanagement.gke.io~1managed 12";
        expect(cm, want);
        assert_eq!(check(&resource(cm), None)[0].column, 5);
    }

    #[test]
    fn identity_and_collision() {
        let web = resource(
            "kind: Deployment\napiVersion: apps/v1\nmetadata:\n  name: web\n  namespace: prod\n",
        );
        let id = identity(&web).expect("an identity");
        assert_eq!((id.group.as_str(), id.namespace.as_str()), ("apps", "prod"));
        let p = collision(&id, "a.yaml", 3, web.locate("/metadata/name"));
        let want = "KNV1029: Deployment \"web\" in namespace \"prod\" is declared twice; the first is at a.yaml:3";
        assert_eq!(p.msg, want);
        let found = (p.code, p.path.as_str(), p.line, p.column);
        assert_eq!(found, (Some("KNV1029"), "/metadata/name", 4, 9));

        let ns = resource("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: x\n");
        let id = identity(&ns).expect("an identity");
        let p = collision(&id, "b.yaml", 1, ns.locate("/metadata/name"));
        let want = "KNV1029: Namespace \"x\" is declared twice; the first is at b.yaml:1";
        assert_eq!(p.msg, want);

        let generated = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  generateName: c-\n";
        assert_eq!(identity(&resource(generated)), None);
        let kindless = "apiVersion: v1\nmetadata:\n  name: c\n";
        assert_eq!(identity(&resource(kindless)), None);
    }

    #[test]
    fn sync_kinds() {
        let gvk = Gvk::new;
        assert!(is_sync_kind(&gvk("configsync.gke.io/v1alpha1", "RepoSync")));
        assert!(is_sync_kind(&gvk("configsync.gke.io/v1beta1", "RootSync")));
        assert!(!is_sync_kind(&gvk("example.com/v1", "RootSync")));
        assert!(!is_sync_kind(&gvk("configsync.gke.io/v1", "ResourceGroup")));
    }
}
