//! Folders as extractors leave them (paths, bytes, permission bits), to hold kbundle's
//! `pull`, Config Sync's extraction (`crane export | tar -x`) and the source side by side.

use std::collections::{BTreeMap, BTreeSet};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

/// One entry of a tree.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Node {
    Dir { mode: u32 },
    File { mode: u32, bytes: Vec<u8> },
}

/// Every folder and file under `root` (not `root` itself) by relative path, with its
/// permission bits. Anything else (a symlink, a device) fails: bundles hold neither.
pub fn tree_with_modes(root: &Path) -> BTreeMap<String, Node> {
    let mut out = BTreeMap::new();
    collect(root, root, &mut out);
    out
}

fn collect(root: &Path, dir: &Path, out: &mut BTreeMap<String, Node>) {
    for entry in std::fs::read_dir(dir).expect("read_dir").flatten() {
        let path = entry.path();
        let rel = path
            .strip_prefix(root)
            .expect("under root")
            .to_string_lossy()
            .into_owned();
        let meta = std::fs::symlink_metadata(&path).expect("metadata");
        let mode = meta.permissions().mode() & 0o7777;
        if meta.is_dir() {
            out.insert(rel, Node::Dir { mode });
            collect(root, &path, out);
        } else if meta.is_file() {
            let bytes = std::fs::read(&path).expect("read");
            out.insert(rel, Node::File { mode, bytes });
        } else {
            panic!("{}: neither a file nor a folder", path.display());
        }
    }
}

/// What a bundle of `source` must unpack to: each file `keep` accepts (by relative path) with
/// its bytes and mode 0644, and each folder above one, mode 0755. kbundle normalises modes
/// (README, "Reproducible"), so the source's own bits do not count.
pub fn bundled(source: &Path, keep: impl Fn(&str) -> bool) -> BTreeMap<String, Node> {
    let mut out = BTreeMap::new();
    for (rel, node) in tree_with_modes(source) {
        let Node::File { bytes, .. } = node else {
            continue;
        };
        if !keep(&rel) {
            continue;
        }
        let mut parent = Path::new(&rel).parent();
        while let Some(dir) = parent.filter(|p| !p.as_os_str().is_empty()) {
            out.insert(
                dir.to_string_lossy().into_owned(),
                Node::Dir { mode: 0o755 },
            );
            parent = dir.parent();
        }
        out.insert(rel, Node::File { mode: 0o644, bytes });
    }
    out
}

/// What a bundle of examples/ holds: everything but its `.kbundleignore` entries (README.md,
/// workflows/, fleet/) and that file itself.
pub fn examples_bundle() -> BTreeMap<String, Node> {
    bundled(&super::examples(), |path| {
        path != "README.md"
            && path != ".kbundleignore"
            && !path.starts_with("workflows/")
            && !path.starts_with("fleet/")
    })
}

/// The files of a tree, by relative path to bytes (folders and modes left out).
pub fn files(tree: &BTreeMap<String, Node>) -> BTreeMap<String, Vec<u8>> {
    tree.iter()
        .filter_map(|(path, node)| match node {
            Node::File { bytes, .. } => Some((path.clone(), bytes.clone())),
            Node::Dir { .. } => None,
        })
        .collect()
}

/// Asserts that the expected tree, `kbundle pull`'s folder and Config Sync's extraction
/// (`crane export | tar -x`) hold the same paths with the same bytes and modes, listing
/// every difference.
pub fn assert_same_trees(expected: &BTreeMap<String, Node>, pulled: &Path, exported: &Path) {
    let pulled = tree_with_modes(pulled);
    let exported = tree_with_modes(exported);
    let mut problems = Vec::new();
    for (name, tree) in [("kbundle pull", &pulled), ("crane export", &exported)] {
        problems.extend(differences("expected", expected, name, tree));
    }
    assert!(
        !expected.is_empty(),
        "nothing expected: the comparison would prove nothing"
    );
    assert!(
        problems.is_empty(),
        "trees differ:\n{}",
        problems.join("\n")
    );
}

fn differences(
    a_name: &str,
    a: &BTreeMap<String, Node>,
    b_name: &str,
    b: &BTreeMap<String, Node>,
) -> Vec<String> {
    let paths: BTreeSet<&String> = a.keys().chain(b.keys()).collect();
    paths
        .into_iter()
        .filter_map(|path| match (a.get(path), b.get(path)) {
            (Some(x), Some(y)) if x == y => None,
            (Some(_), None) => Some(format!("{path}: only in {a_name}, not in {b_name}")),
            (None, Some(_)) => Some(format!("{path}: in {b_name}, not in {a_name}")),
            (Some(x), Some(y)) => Some(format!(
                "{path}: {a_name} has {}, {b_name} has {}",
                describe(x),
                describe(y)
            )),
            (None, None) => None,
        })
        .collect()
}

fn describe(node: &Node) -> String {
    match node {
        Node::Dir { mode } => format!("a folder, mode {mode:o}"),
        Node::File { mode, bytes } => format!(
            "a file, mode {mode:o}, {} bytes, sha256 {}",
            bytes.len(),
            kbundle::bundle::Digest::of(bytes)
        ),
    }
}
