//! `kbundle diff` on folders, OCI layouts and the real registry (Debian's docker-registry),
//! and the diff in promote, in bump's pull request (against the local GitHub FAKE,
//! tests/support/github_fake.rs) and in publish's job summary.

mod support;

#[path = "support/github_fake.rs"]
mod github_fake;

use std::path::Path;

use github_fake::{FLEET_FILE, GitHubFake, bump_args};
use serde_json::Value;
use support::{Registry, Run, skopeo};

const OLD_PASSWORD: &str = "b2xkLXBhc3N3b3JkLTE=";
const NEW_PASSWORD: &str = "bmV3LXBhc3N3b3JkLTI=";
const NEW_USER: &str = "YWRtaW4tdXNlcg==";

const NAMESPACE: &str = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop\n";

fn deployment(replicas: u32, image: &str) -> String {
    format!(
        "apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
spec:
  replicas: {replicas}
  selector:
    matchLabels: {{app: web}}
  template:
    metadata:
      labels: {{app: web}}
    spec:
      containers:
      - name: web
        image: {image}
"
    )
}

/// The bundle as it was: a Deployment, a Service, a ConfigMap, a Secret, a List of two
/// ConfigMaps and the Namespace.
fn old_tree(dir: &Path) {
    write(
        dir,
        &[
            (
                "apps.yaml",
                &format!(
                    "# the shop front end\n{}---\napiVersion: v1\nkind: Service\nmetadata:\n  name: old-svc\n  namespace: shop\nspec:\n  ports:\n  - port: 80\n",
                    deployment(2, "web:1")
                ),
            ),
            (
                "config.yaml",
                &format!(
                    "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n  namespace: shop\ndata:\n  mode: fast\n  level: '3'\n---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: db\n  namespace: shop\ndata:\n  password: {OLD_PASSWORD}\n"
                ),
            ),
            (
                "list.yaml",
                "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: ConfigMap\n  metadata: {name: listed-a, namespace: shop}\n  data: {a: '1'}\n- apiVersion: v1\n  kind: ConfigMap\n  metadata: {name: listed-b, namespace: shop}\n  data: {b: '2'}\n",
            ),
            ("ns.yaml", NAMESPACE),
        ],
    );
}

/// The bundle as it becomes: the Deployment moved to another file with its keys reordered
/// and two fields changed; the documents of config.yaml swapped, the ConfigMap's keys
/// reordered and commented (no change); the Secret's password changed and a key added; a
/// List item moved out to a file of its own (no change) and one added; the Service removed.
fn new_tree(dir: &Path) {
    let moved = deployment(3, "web:2")
        .replace("kind: Deployment\n", "")
        .replace("apiVersion: apps/v1\n", "");
    write(
        dir,
        &[
            (
                "web/deploy.yaml",
                &format!("{moved}kind: Deployment\napiVersion: apps/v1\n"),
            ),
            (
                "config.yaml",
                &format!(
                    "apiVersion: v1\nkind: Secret\nmetadata:\n  namespace: shop\n  name: db\ndata:\n  user: {NEW_USER}\n  password: {NEW_PASSWORD}\n---\n# tuned in October\nkind: ConfigMap\napiVersion: v1\ndata:\n  level: \"3\" # was 2\n  mode: fast\nmetadata:\n  namespace: shop\n  name: settings\n"
                ),
            ),
            (
                "list.yaml",
                "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: ConfigMap\n  metadata: {name: listed-b, namespace: shop}\n  data: {b: '2'}\n- apiVersion: v1\n  kind: ConfigMap\n  metadata: {name: listed-c, namespace: shop}\n  data: {c: '3'}\n",
            ),
            (
                "more/listed-a.yaml",
                "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  namespace: shop\n  name: listed-a\ndata:\n  a: \"1\"\n",
            ),
            ("ns.yaml", NAMESPACE),
        ],
    );
}

fn write(dir: &Path, files: &[(&str, &str)]) {
    for (name, text) in files {
        let path = dir.join(name);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(path, text).expect("write");
    }
}

fn kbundle(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Run {
    Run::of(
        support::kbundle_with_key_password(dir)
            .args(args)
            .envs(env.iter().copied()),
    )
}

/// Pushes `folder` to `image`; returns the digest.
fn push(dir: &Path, folder: &str, image: &str) -> String {
    let run = kbundle(dir, &["push", folder, "--image", image], &[]);
    assert_eq!(run.code, 0, "{}", run.err);
    support::pushed_digest(&run.out).to_string()
}

/// A work folder with `old/` and `new/` written.
fn trees() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    old_tree(&dir.path().join("old"));
    new_tree(&dir.path().join("new"));
    dir
}

fn assert_no_secret_values(text: &str) {
    for value in [OLD_PASSWORD, NEW_PASSWORD, NEW_USER] {
        assert!(!text.contains(value), "a Secret value is shown:\n{text}");
    }
}

#[test]
fn folders_compare_by_resource_not_by_file_and_hide_secret_values() {
    let dir = trees();
    let run = kbundle(dir.path(), &["diff", "old", "new"], &[]);
    assert_eq!(run.code, 1, "changes exit 1, like diff(1): {}", run.err);
    let first = run.out.lines().next().unwrap_or_default();
    assert_eq!(
        first,
        "+1 ~2 -1 resources (namespaces: shop; kinds: ConfigMap 1, Deployment.apps 1, Secret 1, Service 1)"
    );
    for line in [
        "- Service shop/old-svc (old/apps.yaml:19)",
        "+ ConfigMap shop/listed-c (new/list.yaml:8)",
        "~ Deployment.apps shop/web (old/apps.yaml:2 -> new/web/deploy.yaml:1): spec.replicas, spec.template.spec.containers[0].image",
        "~ Secret shop/db (old/config.yaml:10 -> new/config.yaml:1): data.password, data.user",
        "Secret shop/db: Secret values are not shown; changed: data.password (changed), data.user (added)",
        "-  replicas: 2",
        "+  replicas: 3",
    ] {
        assert!(
            run.out.lines().any(|l| l.starts_with(line)),
            "{line}\n{}",
            run.out
        );
    }
    // Moved, reordered and commented resources are not mentioned at all.
    for unchanged in ["settings", "listed-a", "listed-b", "Namespace"] {
        assert!(!run.out.contains(unchanged), "{unchanged}:\n{}", run.out);
    }
    assert_no_secret_values(&run.out);
    assert_no_secret_values(&run.err);

    let run = kbundle(dir.path(), &["diff", "old", "new", "-o", "json"], &[]);
    assert_eq!(run.code, 1, "{}", run.err);
    let json: Value = serde_json::from_str(&run.out).expect("json");
    assert_eq!(json["summary"]["added"], 1);
    assert_eq!(json["summary"]["changed"], 2);
    assert_eq!(json["summary"]["removed"], 1);
    assert_eq!(json["summary"]["unchanged"], 4);
    // Sorted by identity: the core group before apps.
    assert_eq!(json["removed"][0]["kind"], "Service");
    assert_eq!(json["changed"][1]["group"], "apps");
    assert_eq!(
        json["changed"][1]["fields"][0],
        serde_json::json!({"path": "spec.replicas", "change": "changed"})
    );
    assert_eq!(
        json["changed"][0]["secretKeys"],
        serde_json::json!(["data.password (changed)", "data.user (added)"])
    );
    assert_no_secret_values(&run.out);

    let run = kbundle(dir.path(), &["diff", "old", "new", "-o", "markdown"], &[]);
    assert_eq!(run.code, 1, "{}", run.err);
    assert!(
        run.out.contains("**+1 ~2 -1 resources** (4 unchanged)"),
        "{}",
        run.out
    );
    assert_eq!(run.out.matches("<details>").count(), 4, "{}", run.out);
    assert_no_secret_values(&run.out);
}

#[test]
fn the_same_resources_in_other_files_and_order_are_no_change() {
    let dir = trees();
    // new/ once more, every document in one file, in reverse order, comments gone.
    let mut docs: Vec<String> = Vec::new();
    for entry in walk(&dir.path().join("new")) {
        let text = std::fs::read_to_string(entry).expect("read");
        docs.extend(text.split("---\n").map(str::to_owned));
    }
    docs.reverse();
    write(
        &dir.path().join("again"),
        &[("all.yaml", &docs.join("---\n"))],
    );
    let run = kbundle(dir.path(), &["diff", "new", "again"], &[]);
    assert_eq!(run.code, 0, "{}\n{}", run.out, run.err);
    assert_eq!(run.out, "no changes (7 resources)\n");
    // A single file is a side too.
    let run = kbundle(dir.path(), &["diff", "again/all.yaml", "new"], &[]);
    assert_eq!(run.code, 0, "{}\n{}", run.out, run.err);
    // And stdin (`kubectl kustomize … | kbundle diff IMAGE -`).
    let all = std::fs::read_to_string(dir.path().join("again/all.yaml")).expect("read");
    let out = support::kbundle()
        .current_dir(dir.path())
        .args(["diff", "old", "-"])
        .write_stdin(all)
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stdout).starts_with("+1 ~2 -1 resources"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).expect("read_dir") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out.sort();
    out
}

#[test]
fn bad_input_is_exit_2_with_the_file_and_line() {
    let dir = trees();
    write(
        &dir.path().join("broken"),
        &[(
            "x.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: [\n",
        )],
    );
    let run = kbundle(dir.path(), &["diff", "old", "broken"], &[]);
    assert_eq!(run.code, 2, "{}", run.out);
    assert!(run.err.contains("broken/x.yaml:"), "{}", run.err);
    assert!(run.out.is_empty(), "{}", run.out);

    write(
        &dir.path().join("twice"),
        &[("a.yaml", NAMESPACE), ("b.yaml", NAMESPACE)],
    );
    let run = kbundle(dir.path(), &["diff", "old", "twice"], &[]);
    assert_eq!(run.code, 2);
    assert!(
        run.err
            .contains("Namespace shop is defined twice, at twice/a.yaml:1 and at twice/b.yaml:1"),
        "{}",
        run.err
    );

    let run = kbundle(dir.path(), &["diff", "old", "no such dir"], &[]);
    assert_eq!(run.code, 2);
    assert!(
        run.err
            .contains("NEW \"no such dir\": no such folder or file"),
        "{}",
        run.err
    );
}

#[test]
fn images_on_the_registry_by_digest_and_tag_and_in_a_layout() {
    let registry = Registry::start();
    let dir = trees();
    let repo = format!("{}/shop", registry.addr);
    let old = push(dir.path(), "old", &format!("{repo}:v1"));
    let new = push(dir.path(), "new", &format!("{repo}:v2"));
    let run = kbundle(
        dir.path(),
        &["diff", &format!("{repo}@{old}"), &format!("{repo}:v2")],
        &[],
    );
    assert_eq!(run.code, 1, "{}", run.err);
    assert!(
        run.out.starts_with("+1 ~2 -1 resources"),
        "{}\n{}",
        run.out,
        run.err
    );
    // Inside a bundle, files are named by their path in it.
    assert!(
        run.out
            .contains("~ Deployment.apps shop/web (apps.yaml:2 -> web/deploy.yaml:1)"),
        "{}",
        run.out
    );
    assert_no_secret_values(&run.out);

    // The same bundle by tag and by digest, and against the folder it was built from.
    let run = kbundle(
        dir.path(),
        &["diff", &format!("{repo}:v2"), &format!("{repo}@{new}")],
        &[],
    );
    assert_eq!(run.code, 0, "{}\n{}", run.out, run.err);
    let layout = format!("oci-layout:{}:v1", dir.path().join("layout").display());
    push(dir.path(), "old", &layout);
    let run = kbundle(dir.path(), &["diff", &layout, "old"], &[]);
    assert_eq!(run.code, 0, "{}\n{}", run.out, run.err);

    // A digest the registry does not have: an environment error, exit 2.
    let missing = format!("{repo}@sha256:{}", "0".repeat(64));
    let run = kbundle(dir.path(), &["diff", &missing, "new"], &[]);
    assert_eq!(run.code, 2, "{}", run.out);
    assert!(run.err.contains(&repo), "{}", run.err);
}

#[test]
fn promote_prints_the_diff_first_and_dry_run_writes_nothing() {
    let registry = Registry::start();
    let dir = trees();
    assert_eq!(
        kbundle(
            dir.path(),
            &["keygen", "--output-key-prefix", "release"],
            &[]
        )
        .code,
        0
    );
    let staging = format!("{}/staging/shop", registry.addr);
    let prod = format!("{}/prod/shop:live", registry.addr);
    let sign = |image: &str| {
        let run = kbundle(dir.path(), &["sign", image, "--key", "release.key"], &[]);
        assert_eq!(run.code, 0, "{}", run.err);
    };
    let old = push(dir.path(), "old", &format!("{staging}:v1"));
    sign(&format!("{staging}:v1"));
    let new = push(dir.path(), "new", &format!("{staging}:v2"));
    sign(&format!("{staging}:v2"));

    // Nothing at the destination yet: every resource is new.
    let run = kbundle(
        dir.path(),
        &[
            "promote",
            &format!("{staging}:v1"),
            &prod,
            "--key",
            "release.pub",
        ],
        &[],
    );
    assert_eq!(run.code, 0, "{}", run.err);
    assert!(run.err.contains("+7 ~0 -0 resources"), "{}", run.err);

    let run = kbundle(
        dir.path(),
        &[
            "promote",
            &format!("{staging}:v2"),
            &prod,
            "--key",
            "release.pub",
            "--dry-run",
        ],
        &[],
    );
    assert_eq!(run.code, 0, "{}", run.err);
    assert!(run.out.starts_with("+1 ~2 -1 resources"), "{}", run.out);
    assert!(run.out.contains("+  replicas: 3"), "{}", run.out);
    assert_no_secret_values(&run.out);
    assert!(run.err.contains("dry run"), "{}", run.err);
    assert_eq!(digest_of(&prod), old, "--dry-run moved the tag");

    let run = kbundle(
        dir.path(),
        &[
            "promote",
            &format!("{staging}:v2"),
            &prod,
            "--key",
            "release.pub",
        ],
        &[],
    );
    assert_eq!(run.code, 0, "{}", run.err);
    assert!(run.err.contains("+1 ~2 -1 resources"), "{}", run.err);
    assert_eq!(run.out.trim(), format!("{prod}@{new}"));
    assert_eq!(digest_of(&prod), new);
}

fn digest_of(image: &str) -> String {
    let out = skopeo(&[
        "inspect",
        "--tls-verify=false",
        &format!("docker://{image}"),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).expect("json");
    v["Digest"].as_str().unwrap_or_default().to_owned()
}

fn root_sync(image: &str) -> String {
    format!(
        "apiVersion: configsync.gke.io/v1beta1\nkind: RootSync\nmetadata:\n  name: root-sync\n  namespace: config-management-system\nspec:\n  sourceType: oci\n  sourceFormat: unstructured\n  oci:\n    image: {image}\n    dir: .\n    auth: k8sserviceaccount\n"
    )
}

fn bump(dir: &Path, fake: &GitHubFake, image: &str) -> Run {
    kbundle(
        dir,
        &bump_args(image),
        &[
            ("GITHUB_TOKEN", "ghp_faketoken"),
            ("GITHUB_API_URL", &fake.url),
        ],
    )
}

#[test]
fn the_bump_pull_request_shows_the_diff_folded_per_resource_against_local_fake() {
    let registry = Registry::start();
    let dir = trees();
    let repo = format!("{}/shop", registry.addr);
    let old = push(dir.path(), "old", &format!("{repo}:v1"));
    let new = push(dir.path(), "new", &format!("{repo}:v2"));
    let fake = GitHubFake::start(
        "acme",
        "fleet",
        "main",
        &[(FLEET_FILE, &root_sync(&format!("{repo}:v1@{old}")))],
    );
    let run = bump(dir.path(), &fake, &format!("{repo}:v2@{new}"));
    assert_eq!(run.code, 0, "{}", run.err);
    let body = fake.state().pulls[0].body.clone();
    for needle in [
        "#### What changes in the cluster",
        "**+1 ~2 -1 resources** (4 unchanged) · namespaces: <code>shop</code>",
        "<details><summary><b>−</b> <code>Service shop/old-svc</code> removed",
        "<details><summary><b>~</b> <code>Deployment.apps shop/web</code>: <code>spec.replicas</code>, <code>spec.template.spec.containers[0].image</code></summary>",
        "-  replicas: 2\n+  replicas: 3",
        "Secret values are not shown. Changed: <code>data.password (changed)</code>, <code>data.user (added)</code>",
        "<details><summary><b>+</b> <code>ConfigMap shop/listed-c</code> added",
    ] {
        assert!(body.contains(needle), "{needle}\n---\n{body}");
    }
    assert_no_secret_values(&body);
    // The rest of the body is still there, after the diff too.
    assert!(
        body.contains(&format!("- **Digest:** `{old}` → `{new}`")),
        "{body}"
    );
    assert!(body.trim_end().ends_with("</sub>"), "{body}");

    // Run again: the body is the same, so the pull request is left alone.
    let run = bump(dir.path(), &fake, &format!("{repo}:v2@{new}"));
    assert_eq!(run.code, 0, "{}", run.err);
    assert!(run.out.starts_with("unchanged:"), "{}", run.out);
}

#[test]
fn an_old_digest_that_cannot_be_read_is_explained_in_the_body_against_local_fake() {
    let registry = Registry::start();
    let dir = trees();
    let repo = format!("{}/shop", registry.addr);
    let new = push(dir.path(), "new", &format!("{repo}:v2"));
    let gone = format!("sha256:{}", "0".repeat(64));
    let fake = GitHubFake::start(
        "acme",
        "fleet",
        "main",
        &[(FLEET_FILE, &root_sync(&format!("{repo}:v1@{gone}")))],
    );
    let run = bump(dir.path(), &fake, &format!("{repo}:v2@{new}"));
    assert_eq!(
        run.code, 0,
        "a diff that cannot be made does not stop the bump: {}",
        run.err
    );
    let body = fake.state().pulls[0].body.clone();
    assert!(
        body.contains(&format!(
            "#### What changes in the cluster\n\nNot shown: the old bundle cannot be read: {repo}:v1@{gone}:"
        )),
        "{body}"
    );

    // By tag only: what the cluster runs is not known for certain, so nothing is pulled.
    let fake = GitHubFake::start(
        "acme",
        "fleet",
        "main",
        &[(FLEET_FILE, &root_sync(&format!("{repo}:v1")))],
    );
    let run = bump(dir.path(), &fake, &format!("{repo}:v2@{new}"));
    assert_eq!(run.code, 0, "{}", run.err);
    let body = fake.state().pulls[0].body.clone();
    assert!(
        body.contains(&format!(
            "Not shown: the fleet file named `{repo}:v1` by tag, not by digest"
        )),
        "{body}"
    );
}

#[test]
fn no_diff_leaves_the_section_out_and_pulls_nothing_against_local_fake() {
    let registry = Registry::start();
    let dir = trees();
    let repo = format!("{}/shop", registry.addr);
    let new = push(dir.path(), "new", &format!("{repo}:v2"));
    // The old image names a registry nobody listens on: reading it would fail and say so.
    let old = format!("127.0.0.1:9/shop:v1@sha256:{}", "1".repeat(64));
    let fake = GitHubFake::start("acme", "fleet", "main", &[(FLEET_FILE, &root_sync(&old))]);
    let image = format!("{repo}:v2@{new}");
    let mut args = bump_args(&image).to_vec();
    args.push("--no-diff");
    let run = kbundle(
        dir.path(),
        &args,
        &[
            ("GITHUB_TOKEN", "ghp_faketoken"),
            ("GITHUB_API_URL", &fake.url),
        ],
    );
    assert_eq!(run.code, 0, "{}", run.err);
    let body = fake.state().pulls[0].body.clone();
    assert!(!body.contains("What changes in the cluster"), "{body}");
    assert!(!body.contains("Not shown"), "{body}");
    assert!(body.contains(&format!("`{new}`")), "{body}");
}

#[test]
fn a_diff_over_the_body_limit_is_shortened_and_counted_against_local_fake() {
    let registry = Registry::start();
    let dir = tempfile::tempdir().expect("tempdir");
    // 400 ConfigMaps whose 400-character values all change: about 400 kB of diff.
    for (side, letter) in [("old", "a"), ("new", "b")] {
        let mut text = String::new();
        for i in 0..400 {
            text.push_str(&format!(
                "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {{name: c{i:03}, namespace: shop}}\ndata: {{v: {}}}\n",
                letter.repeat(400)
            ));
        }
        write(&dir.path().join(side), &[("many.yaml", &text)]);
    }
    let repo = format!("{}/shop", registry.addr);
    let old = push(dir.path(), "old", &format!("{repo}:v1"));
    let new = push(dir.path(), "new", &format!("{repo}:v2"));
    let fake = GitHubFake::start(
        "acme",
        "fleet",
        "main",
        &[(FLEET_FILE, &root_sync(&format!("{repo}:v1@{old}")))],
    );
    // The fake refuses a body over 65,536 characters, as GitHub does.
    let run = bump(dir.path(), &fake, &format!("{repo}:v2@{new}"));
    assert_eq!(run.code, 0, "{}", run.err);
    let body = fake.state().pulls[0].body.clone();
    assert!(body.chars().count() <= 65_536, "{}", body.len());
    assert!(body.len() > 50_000, "the budget is used: {}", body.len());
    assert!(body.contains("**+0 ~400 -0 resources**"), "{body}");
    assert!(body.contains("_Shortened to fit: "), "{body}");
    assert!(body.contains("<code>ConfigMap shop/c000</code>"), "{body}");
    assert!(body.trim_end().ends_with("</sub>"), "{body}");
}

#[test]
fn publish_puts_the_diff_in_the_pull_request_and_the_job_summary_against_local_fake() {
    let registry = Registry::start();
    let dir = trees();
    let repo = format!("{}/shop", registry.addr);
    let old = push(dir.path(), "old", &format!("{repo}:v1"));
    let fake = GitHubFake::start(
        "acme",
        "fleet",
        "main",
        &[(FLEET_FILE, &root_sync(&format!("{repo}:v1@{old}")))],
    );
    let summary = dir.path().join("summary.md");
    let run = kbundle(
        dir.path(),
        &[
            "publish",
            "new",
            "--image",
            &format!("{repo}:v2"),
            "--sign",
            "none",
            "--fleet-repo",
            "acme/fleet",
            "--fleet-file",
            FLEET_FILE,
            "--no-config",
        ],
        &[
            ("GITHUB_TOKEN", "ghp_faketoken"),
            ("GITHUB_API_URL", &fake.url),
            ("GITHUB_STEP_SUMMARY", summary.to_str().expect("utf-8")),
        ],
    );
    assert_eq!(run.code, 0, "{}\n{}", run.out, run.err);
    let body = fake.state().pulls[0].body.clone();
    let summary = std::fs::read_to_string(&summary).expect("summary");
    for text in [&body, &summary] {
        assert!(
            text.contains("#### What changes in the cluster\n\n**+1 ~2 -1 resources**"),
            "{text}"
        );
        assert!(
            text.contains("<code>Deployment.apps shop/web</code>"),
            "{text}"
        );
        assert_no_secret_values(text);
    }
}
