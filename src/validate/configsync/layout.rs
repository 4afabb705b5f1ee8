//! Which files belong to which Config Sync repository, so that the rules apply inside a
//! repository and not across unrelated folders that happen to sit in one tree.
//!
//! A repository's root is, from the most specific:
//! - a hierarchical repository: a folder holding `system/` beside `namespaces/` or `cluster/`
//!   (`nomos init`'s layout);
//! - the folder a RootSync or RepoSync syncs (`spec.git.dir`, `spec.oci.dir`), when a folder
//!   among the inputs ends with that path;
//! - otherwise the folder of the file that declares the RootSync or RepoSync (it is synced
//!   from there, with what sits beside it);
//! - with `--configsync`, every file outside those is in one repository of its own.
//!
//! A file belongs to the deepest root above it.

use std::collections::BTreeSet;
use std::path::{Component, Path};
use std::sync::Arc;

use serde_json::Value;

use crate::manifest::Resource;

/// Where one file sits in a Config Sync repository.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Place {
    /// The repository's root folder ("" for the one of `--configsync` outside any root).
    pub root: Arc<str>,
    /// In a hierarchical repository's `namespaces/` tree, the folder's namespace: what
    /// namespaced objects there without `metadata.namespace` are put in.
    pub namespace: Option<String>,
    /// Whether the repository is in hierarchical format (`system/`, `namespaces/`...).
    pub hierarchical: bool,
}

/// The repositories found among the inputs.
#[derive(Debug, Default)]
pub struct Layout {
    /// Root folders as path components, with whether they are hierarchical.
    roots: Vec<(Vec<String>, bool)>,
    /// Every file is in some repository (`--configsync`).
    everywhere: bool,
}

fn components(path: &Path) -> Vec<String> {
    path.components()
        .filter_map(|c| match c {
            Component::Normal(s) => Some(s.to_string_lossy().into_owned()),
            Component::RootDir => Some("/".to_owned()),
            Component::ParentDir => Some("..".to_owned()),
            _ => None,
        })
        .collect()
}

fn folder_of(name: &str) -> Vec<String> {
    components(Path::new(name).parent().unwrap_or(Path::new("")))
}

const HIERARCHY_DIRS: [&str; 4] = ["system", "namespaces", "cluster", "clusterregistry"];

/// The hierarchical root above a folder, if the folder is inside one.
fn hierarchical_root(folder: &[String]) -> Option<Vec<String>> {
    for (i, part) in folder.iter().enumerate().rev() {
        if !HIERARCHY_DIRS.contains(&part.as_str()) {
            continue;
        }
        let root = &folder[..i];
        let on_disk: std::path::PathBuf = if root.is_empty() {
            ".".into()
        } else {
            root.iter().collect()
        };
        let has = |d: &str| on_disk.join(d).is_dir();
        if has("system") && (has("namespaces") || has("cluster")) {
            return Some(root.to_vec());
        }
    }
    None
}

/// The folder a RootSync or RepoSync syncs, as path components; `None` when it names none.
pub type SyncedDir = Option<Vec<String>>;

/// The folders the RootSyncs and RepoSyncs among `resources` sync.
pub fn synced_dirs(resources: &[Resource]) -> Vec<SyncedDir> {
    let mut out = Vec::new();
    for r in resources {
        if !super::is_sync_kind(&r.gvk()) {
            continue;
        }
        let dir = ["/spec/git/dir", "/spec/oci/dir"]
            .iter()
            .find_map(|p| r.value.pointer(p).and_then(Value::as_str))
            .map(|d| components(Path::new(d.trim_start_matches('/'))))
            .filter(|d| !d.is_empty());
        out.push(dir);
    }
    out
}

impl Layout {
    /// Finds the repositories. `everywhere` is `--configsync`: files outside every root form
    /// one repository too.
    /// `files`: each input's name, with the folders its syncs sync ([`synced_dirs`]).
    pub fn new(files: &[(&str, &[SyncedDir])], everywhere: bool) -> Layout {
        let folders: BTreeSet<Vec<String>> =
            files.iter().map(|(name, _)| folder_of(name)).collect();
        let mut roots: Vec<(Vec<String>, bool)> = Vec::new();
        let add = |root: Vec<String>, hierarchical: bool, roots: &mut Vec<_>| {
            if !roots.iter().any(|(r, _)| *r == root) {
                roots.push((root, hierarchical));
            }
        };
        for folder in &folders {
            if let Some(root) = hierarchical_root(folder) {
                add(root, true, &mut roots);
            }
        }
        for (name, synced) in files {
            for dir in *synced {
                let matching: Vec<&Vec<String>> = dir
                    .as_ref()
                    .map(|d| folders.iter().filter(|f| f.ends_with(d)).collect())
                    .unwrap_or_default();
                if matching.is_empty() {
                    add(folder_of(name), false, &mut roots);
                }
                for f in matching {
                    let root = hierarchical_root(f).unwrap_or_else(|| f.clone());
                    let hierarchical = root != *f;
                    add(root, hierarchical, &mut roots);
                }
            }
        }
        Layout { roots, everywhere }
    }

    /// Whether any file can be in a repository.
    pub fn is_empty(&self) -> bool {
        self.roots.is_empty() && !self.everywhere
    }

    /// The repository a file is in, if any.
    pub fn place(&self, name: &str) -> Option<Place> {
        let folder = folder_of(name);
        let found = self
            .roots
            .iter()
            .filter(|(root, _)| folder.starts_with(root))
            .max_by_key(|(root, _)| root.len());
        let Some((root, hierarchical)) = found else {
            return self.everywhere.then(|| Place {
                root: Arc::from(""),
                namespace: None,
                hierarchical: false,
            });
        };
        let rest = &folder[root.len()..];
        let namespace = (*hierarchical && rest.len() >= 2 && rest[0] == "namespaces")
            .then(|| rest[rest.len() - 1].clone());
        Some(Place {
            root: Arc::from(root.join("/").as_str()),
            namespace,
            hierarchical: *hierarchical,
        })
    }
}
