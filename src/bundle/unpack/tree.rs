//! What the unpacked tree holds so far, kept in memory across all layers. This process is the
//! only writer of its private staging folder, so the model is the truth: every path is checked
//! against it before the filesystem is touched, and links are resolved through it, never by
//! the kernel following a link an archive planted.

use std::collections::HashMap;
use std::ffi::OsString;
use std::path::{Component, Path, PathBuf};

/// The kernel's limit on links followed in one lookup (Linux `MAXSYMLINKS`).
const MAX_HOPS: usize = 40;

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Node {
    Dir,
    /// A regular file, or a hard link to one.
    File,
    Symlink {
        target: PathBuf,
        layer: usize,
    },
}

/// Why a path cannot be written.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Blocked {
    /// An ancestor is a symlink an earlier entry made.
    ThroughSymlink(PathBuf),
    /// An ancestor is a file.
    ThroughFile(PathBuf),
}

#[derive(Default)]
pub(super) struct Tree {
    nodes: HashMap<PathBuf, Node>,
}

impl Tree {
    pub fn get(&self, rel: &Path) -> Option<&Node> {
        self.nodes.get(rel)
    }

    pub fn insert(&mut self, rel: PathBuf, node: Node) {
        self.nodes.insert(rel, node);
    }

    pub fn remove(&mut self, rel: &Path) {
        self.nodes.remove(rel);
    }

    /// The ancestors of `rel` that do not exist yet, outermost first, or why one that exists
    /// cannot be gone through. Refusing any path through a symlink is what keeps every write
    /// inside: each ancestor is a real folder this process made.
    pub fn missing_ancestors(&self, rel: &Path) -> Result<Vec<PathBuf>, Blocked> {
        let mut missing = Vec::new();
        let mut at = PathBuf::new();
        let mut parts = rel.components().peekable();
        while let Some(part) = parts.next() {
            if parts.peek().is_none() {
                break;
            }
            at.push(part);
            match self.nodes.get(&at) {
                Some(Node::Dir) => {}
                Some(Node::File) => return Err(Blocked::ThroughFile(at)),
                Some(Node::Symlink { .. }) => return Err(Blocked::ThroughSymlink(at)),
                None => missing.push(at.clone()),
            }
        }
        Ok(missing)
    }

    /// The first symlink (in path order) that resolves outside the tree when links are
    /// followed the way the kernel follows them, with the layer that made it.
    pub fn escaping_link(&self) -> Option<(&Path, &Path, usize)> {
        let mut links: Vec<_> = self
            .nodes
            .iter()
            .filter_map(|(at, node)| match node {
                Node::Symlink { target, layer } => Some((at.as_path(), target.as_path(), *layer)),
                _ => None,
            })
            .collect();
        links.sort();
        links
            .into_iter()
            .find(|(at, target, _)| !self.resolves_inside(at, target))
    }

    /// Follows `target` from the folder holding the link at `at`. A lookup the kernel would
    /// fail (a missing name, a file used as a folder, a loop) ends harmlessly; `..` above the
    /// root or an absolute target is an escape.
    fn resolves_inside(&self, at: &Path, target: &Path) -> bool {
        let mut here: Vec<OsString> = names(at.parent().unwrap_or(Path::new("")));
        let Some(mut pending) = steps(target) else {
            return false;
        };
        let mut hops = 0;
        while let Some(step) = pending.pop() {
            match step {
                Step::Up => {
                    if here.pop().is_none() {
                        return false;
                    }
                }
                Step::Name(name) => {
                    here.push(name);
                    let key: PathBuf = here.iter().collect();
                    match self.nodes.get(&key) {
                        Some(Node::Symlink { target, .. }) => {
                            hops += 1;
                            if hops > MAX_HOPS {
                                return true;
                            }
                            here.pop();
                            match steps(target) {
                                Some(more) => pending.extend(more),
                                None => return false,
                            }
                        }
                        Some(Node::File) if !pending.is_empty() => return true,
                        // A missing name: the rest is checked as text, since nothing below
                        // it exists to be followed.
                        _ => {}
                    }
                }
            }
        }
        true
    }
}

enum Step {
    Up,
    Name(OsString),
}

fn names(p: &Path) -> Vec<OsString> {
    p.components()
        .filter_map(|c| match c {
            Component::Normal(n) => Some(n.to_owned()),
            _ => None,
        })
        .collect()
}

/// A link target's steps, last first (a stack); None for an absolute target.
fn steps(target: &Path) -> Option<Vec<Step>> {
    let mut out = Vec::new();
    for c in target.components() {
        match c {
            Component::Normal(n) => out.push(Step::Name(n.to_owned())),
            Component::ParentDir => out.push(Step::Up),
            Component::CurDir => {}
            Component::RootDir | Component::Prefix(_) => return None,
        }
    }
    out.reverse();
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree(entries: &[(&str, Option<&str>)]) -> Tree {
        let mut t = Tree::default();
        for (at, link) in entries {
            let node = match link {
                None if at.ends_with('/') => Node::Dir,
                None => Node::File,
                Some(target) => Node::Symlink {
                    target: PathBuf::from(target),
                    layer: 1,
                },
            };
            t.insert(PathBuf::from(at.trim_end_matches('/')), node);
        }
        t
    }

    #[test]
    fn a_link_to_a_link_to_the_root_then_up_escapes() {
        // Each link alone looks inside as text; followed, `l/..` is the root's parent.
        let t = tree(&[("dot", Some(".")), ("l", Some("dot/.."))]);
        assert_eq!(
            t.escaping_link().map(|(at, _, _)| at.to_owned()),
            Some(PathBuf::from("l"))
        );
    }

    #[test]
    fn chains_that_stay_inside_pass() {
        let t = tree(&[
            ("d/", None),
            ("d/f", None),
            ("d/up", Some("..")),
            ("a", Some("d/up/d/f")),
            ("loop1", Some("loop2")),
            ("loop2", Some("loop1")),
            ("dangling", Some("nothing/../../x")),
        ]);
        // `dangling` climbs out as text even though `nothing` is missing.
        assert_eq!(
            t.escaping_link().map(|(at, _, _)| at.to_owned()),
            Some(PathBuf::from("dangling"))
        );
        let mut t = t;
        t.remove(Path::new("dangling"));
        assert_eq!(t.escaping_link(), None);
    }

    #[test]
    fn ancestors_through_links_or_files_are_blocked() {
        let t = tree(&[("a", Some(".")), ("f", None), ("d/", None)]);
        assert_eq!(
            t.missing_ancestors(Path::new("a/b")),
            Err(Blocked::ThroughSymlink(PathBuf::from("a")))
        );
        assert_eq!(
            t.missing_ancestors(Path::new("f/b")),
            Err(Blocked::ThroughFile(PathBuf::from("f")))
        );
        assert_eq!(
            t.missing_ancestors(Path::new("d/x/y/z")),
            Ok(vec![PathBuf::from("d/x"), PathBuf::from("d/x/y")])
        );
    }
}
