use super::*;
use crate::manifest::{parse_stream, resources_of};

fn resource(yaml: &str) -> Resource {
    let stream = parse_stream(yaml);
    assert!(stream.errors.is_empty(), "{:?}", stream.errors);
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
    let want = "KNV1052: Namespace \"x\" is cluster-scoped and must not declare metadata.namespace";
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
    let place = layout::Place {
        root: "repo".into(),
        namespace: None,
        hierarchical: false,
    };
    let identity = |r: &Resource| identity(r, &place, None);
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

    // A namespace folder of a hierarchical repository gives its namespace; selectors count.
    let folder = layout::Place {
        root: "repo".into(),
        namespace: Some("shop".into()),
        hierarchical: true,
    };
    let cm = resource("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n");
    assert_eq!(
        super::identity(&cm, &folder, None).unwrap().namespace,
        "shop"
    );
    let selected = resource(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n  annotations:\n    configmanagement.gke.io/cluster-selector: prod\n",
    );
    assert_ne!(identity(&cm), identity(&selected));
}

#[test]
fn sync_kinds() {
    let gvk = Gvk::new;
    assert!(is_sync_kind(&gvk("configsync.gke.io/v1alpha1", "RepoSync")));
    assert!(is_sync_kind(&gvk("configsync.gke.io/v1beta1", "RootSync")));
    assert!(!is_sync_kind(&gvk("example.com/v1", "RootSync")));
    assert!(!is_sync_kind(&gvk("configsync.gke.io/v1", "ResourceGroup")));
}
