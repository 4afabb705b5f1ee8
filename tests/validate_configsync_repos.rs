//! Config Sync's rules inside Config Sync repositories only: hierarchical repositories
//! (namespace folders, NamespaceSelectors, ClusterSelectors), the folder a RootSync or
//! RepoSync syncs, and not across unrelated folders of one tree.

use std::path::{Path, PathBuf};
use std::process::Command;

const EXAMPLE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/validate/configsync-repos/bookstore"
);

fn validate(args: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_kbundle"))
        .arg("validate")
        .args(args)
        .output()
        .expect("kbundle");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

fn copy_tree(from: &Path, to: &Path) {
    for entry in walkdir(from) {
        let rel = entry.strip_prefix(from).expect("prefix");
        let target = to.join(rel);
        std::fs::create_dir_all(target.parent().expect("parent")).expect("mkdir");
        std::fs::copy(&entry, &target).expect("copy");
    }
}

fn walkdir(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).expect("read_dir") {
        let p = e.expect("entry").path();
        if p.is_dir() {
            out.extend(walkdir(&p));
        } else {
            out.push(p);
        }
    }
    out
}

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    std::fs::write(path, text).expect("write");
}

/// The Config Sync codes reported, as `code file` with the file relative to `root`.
fn codes(out: &str, root: &Path) -> Vec<String> {
    let root = format!("{}/", root.display());
    let mut found: Vec<String> = out
        .lines()
        .filter_map(|l| {
            let code = l.split("KNV").nth(1)?.get(..4)?;
            let file = l.split(':').next()?.trim_start_matches(&root);
            Some(format!("KNV{code} {file}"))
        })
        .collect();
    found.sort();
    found
}

#[test]
fn the_hierarchical_example_is_valid() {
    // ConfigMaps of one name for other clusters (cluster-selector annotations), and in other
    // namespace folders: no collision. Repo and the selectors have embedded schemas.
    let (code, out) = validate(&["--strict", EXAMPLE]);
    assert_eq!(code, 0, "{out}");
}

#[test]
fn hierarchical_namespace_folders_and_selectors() {
    let dir = tempfile::tempdir().expect("tempdir");
    let repo = dir.path().join("repo");
    copy_tree(Path::new(EXAMPLE), &repo);
    let cm = |name: &str, extra: &str| {
        format!(
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n{extra}data:\n  a: b\n"
        )
    };
    // Declared twice in one namespace folder: a collision.
    write(
        &repo.join("namespaces/outlet/settings-again.yaml"),
        &cm("settings", ""),
    );
    // The same name in two namespace folders, no metadata.namespace: two namespaces.
    write(
        &repo.join("namespaces/bookstore/shared.yaml"),
        &cm("shared", ""),
    );
    write(
        &repo.join("namespaces/outlet/shared.yaml"),
        &cm("shared", ""),
    );
    // A ClusterSelector nobody declares.
    let qa = "  annotations:\n    configmanagement.gke.io/cluster-selector: selector-qa\n";
    write(&repo.join("namespaces/bookstore/qa.yaml"), &cm("qa", qa));
    let (code, out) = validate(&["--ignore-missing-schemas", &repo.display().to_string()]);
    assert_eq!(code, 1, "{out}");
    assert_eq!(
        codes(&out, &repo),
        [
            "KNV1013 namespaces/bookstore/qa.yaml",
            "KNV1029 namespaces/outlet/settings.yaml",
        ],
        "{out}"
    );
}

#[test]
fn rules_stay_inside_the_repository_a_sync_names() {
    let dir = tempfile::tempdir().expect("tempdir");
    let tree = dir.path().join("samples");
    let uid = "  uid: 0b9c6b1e-1111-2222-3333-444455556666\n";
    let cm = format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n  namespace: shop\n{uid}"
    );
    write(
        &tree.join("one/root-sync.yaml"),
        "apiVersion: configsync.gke.io/v1beta1\nkind: RootSync\nmetadata:\n  name: root-sync\n  namespace: config-management-system\nspec:\n  sourceType: git\n  git:\n    repo: https://github.com/example/one\n    dir: one/config\n    auth: none\n",
    );
    write(&tree.join("one/config/cm.yaml"), &cm);
    // Another sample: no RootSync syncs it, so no Config Sync rule applies, and its
    // ConfigMap of the same name does not collide with sample one's.
    write(&tree.join("two/cm.yaml"), &cm);
    write(&tree.join("two/deeper/cm.yaml"), &cm);
    let (code, out) = validate(&[&tree.display().to_string()]);
    assert_eq!(code, 1, "{out}");
    assert_eq!(codes(&out, &tree), ["KNV1045 one/config/cm.yaml"], "{out}");

    // Asked for everywhere, the rest is one repository of its own.
    let (_, out) = validate(&["--configsync", &tree.display().to_string()]);
    assert_eq!(
        codes(&out, &tree),
        [
            "KNV1029 two/deeper/cm.yaml",
            "KNV1045 one/config/cm.yaml",
            "KNV1045 two/cm.yaml",
            "KNV1045 two/deeper/cm.yaml",
        ],
        "{out}"
    );
}

#[test]
fn config_sync_kinds_users_commit_have_schemas() {
    // Repo, NamespaceSelector and ClusterSelector of the example, strictly.
    let (code, out) = validate(&[
        "--strict",
        &format!("{EXAMPLE}/system/repo.yaml"),
        &format!("{EXAMPLE}/namespaces/shops.yaml"),
        &format!("{EXAMPLE}/clusterregistry/cluster-selector-dev.yaml"),
    ]);
    assert_eq!(code, 0, "{out}");
    let dir = tempfile::tempdir().expect("tempdir");
    let bad = dir.path().join("hc.yaml");
    write(
        &bad,
        "apiVersion: configmanagement.gke.io/v1\nkind: HierarchyConfig\nmetadata:\n  name: rq\nspec:\n  resources:\n  - group: \"\"\n    kinds: ResourceQuota\n    hierarchyMode: none\n",
    );
    let (code, out) = validate(&[&bad.display().to_string()]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains(":8:12: ") && out.contains("/spec/resources/0/kinds"),
        "{out}"
    );
    let cm = dir.path().join("cm.yaml");
    write(
        &cm,
        "apiVersion: configmanagement.gke.io/v1\nkind: ConfigManagement\nmetadata:\n  name: config-management\nspec:\n  enableMultiRepo: \"yes\"\n",
    );
    let (code, out) = validate(&[&cm.display().to_string()]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("/spec/enableMultiRepo"), "{out}");
}
