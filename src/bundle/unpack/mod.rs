//! Unpacking image layers the way Config Sync's oci-sync does: every layer in order into one
//! folder, gzip or plain tar told apart by their magic bytes. Anything that would write or
//! point outside the folder is refused, not skipped, and so is anything past the limits.
//!
//! Links are checked against the tree as built so far (see `tree`), never by letting the
//! kernel follow them: no entry is written through a symlink an earlier entry (or layer) made,
//! a hard link must name a file already unpacked here, a later entry replaces a link instead
//! of writing through it, and every symlink left at the end resolves inside.

mod staging;
mod stream;
mod tree;

pub use staging::{Cleanup, STAGING_PREFIX, Staging, remove_stale};

use std::fs;
use std::io::{self, Read};
use std::path::{Component, Path, PathBuf};

use tar::EntryType;

use stream::{Allowance, Member};
use tree::{Blocked, Node, Tree};

/// Bounds on what a pull may unpack.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Bytes of the layers' tar streams after gunzip, headers included (so it bounds the
    /// disk written and the inflation work both).
    pub max_unpacked: u64,
    /// Archive members over all layers (files, folders, links).
    pub max_entries: u64,
}

impl Limits {
    /// A Config Sync repository is a few thousand small YAML files (each object must fit in
    /// etcd's 1.5 MiB, and oci-sync keeps the whole tree on the reconciler's emptyDir): 1 GiB
    /// and 100,000 entries are far above any real one, and far below what hurts a runner.
    pub const DEFAULT: Limits = Limits {
        max_unpacked: 1 << 30,
        max_entries: 100_000,
    };
}

impl Default for Limits {
    fn default() -> Limits {
        Limits::DEFAULT
    }
}

#[derive(Debug, thiserror::Error)]
pub enum UnpackError {
    #[error("layer {layer}: {path}: {reason}")]
    Unsafe {
        layer: usize,
        path: String,
        reason: String,
    },
    #[error("layer {layer}: {path}: {kind} entries are not unpacked")]
    Unsupported {
        layer: usize,
        path: String,
        kind: String,
    },
    #[error("layer {layer}: {message}")]
    Malformed { layer: usize, message: String },
    #[error("layer {layer}: the bundle unpacks to more than {} (the limit on unpacked size)", bytesize::ByteSize(*limit).display().iec())]
    TooLarge { layer: usize, limit: u64 },
    #[error("layer {layer}: the bundle has more than {limit} entries (the limit on entries)")]
    TooManyEntries { layer: usize, limit: u64 },
    #[error("layer {layer}: {message}")]
    Io { layer: usize, message: String },
}

/// Checks that a path from an archive stays inside the destination and returns it relative.
fn relative(path: &Path) -> Result<PathBuf, &'static str> {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::Normal(part) => out.push(part),
            Component::CurDir => {}
            Component::ParentDir => return Err("`..` in a path is refused"),
            Component::RootDir | Component::Prefix(_) => return Err("absolute paths are refused"),
        }
    }
    Ok(out)
}

/// Whether a link at `at` (relative) pointing to `target` stays inside as text: the quick
/// refusal of the obvious cases; `Tree::escaping_link` decides with links followed.
fn link_stays_inside(at: &Path, target: &Path) -> bool {
    let mut depth = at.parent().map_or(0, |p| p.components().count());
    for c in target.components() {
        match c {
            Component::Normal(_) => depth += 1,
            Component::CurDir => {}
            Component::ParentDir => match depth.checked_sub(1) {
                Some(d) => depth = d,
                None => return false,
            },
            Component::RootDir | Component::Prefix(_) => return false,
        }
    }
    true
}

/// Unpacks layers, one after the other, into one folder.
pub struct Unpacker {
    dest: PathBuf,
    tree: Tree,
    limits: Limits,
    allowance: Allowance,
    entries: u64,
    files: usize,
    layer: usize,
}

impl Unpacker {
    /// `dest` must exist and be empty, and nothing else may write to it meanwhile (a fresh
    /// staging folder): the in-memory tree is taken to be what is on disk.
    pub fn new(dest: &Path, limits: Limits) -> Unpacker {
        Unpacker {
            dest: dest.to_path_buf(),
            tree: Tree::default(),
            limits,
            allowance: Allowance::new(limits.max_unpacked),
            entries: 0,
            files: 0,
            layer: 0,
        }
    }

    /// Unpacks the next layer over the ones before it.
    pub fn layer(&mut self, data: impl Read) -> Result<(), UnpackError> {
        self.layer += 1;
        let layer = self.layer;
        let allowance = std::mem::replace(&mut self.allowance, Allowance::new(0));
        let result = stream::archive(data, &allowance)
            .map_err(|e| UnpackError::Io {
                layer,
                message: e.to_string(),
            })
            .and_then(|mut archive| {
                stream::for_each_member(&mut archive, layer, &allowance, |member, data| {
                    self.member(member, data)
                })
            });
        let spent = allowance.spent();
        self.allowance = allowance;
        match result {
            Err(_) if spent => Err(UnpackError::TooLarge {
                layer,
                limit: self.limits.max_unpacked,
            }),
            other => other,
        }
    }

    /// Checks the links left in the tree; returns the number of regular files written.
    pub fn finish(self) -> Result<usize, UnpackError> {
        if let Some((at, target, layer)) = self.tree.escaping_link() {
            return Err(UnpackError::Unsafe {
                layer,
                path: at.display().to_string(),
                reason: format!(
                    "the link to {} resolves outside the destination through other links; refused",
                    target.display()
                ),
            });
        }
        Ok(self.files)
    }

    fn member(&mut self, member: Member, data: &mut dyn Read) -> Result<(), UnpackError> {
        let layer = self.layer;
        let refuse = |reason: String| UnpackError::Unsafe {
            layer,
            path: member.shown.clone(),
            reason,
        };
        let io = |e: io::Error| UnpackError::Io {
            layer,
            message: format!("{}: {e}", member.shown),
        };
        self.entries += 1;
        if self.entries > self.limits.max_entries {
            return Err(UnpackError::TooManyEntries {
                layer,
                limit: self.limits.max_entries,
            });
        }
        let rel = relative(&member.path).map_err(|r| refuse(r.into()))?;
        if rel.as_os_str().is_empty() {
            return Ok(());
        }
        let target = self.dest.join(&rel);
        match member.kind {
            EntryType::Directory => {
                if self.tree.get(&rel) != Some(&Node::Dir) {
                    self.make_room(&rel, true).map_err(refuse)?;
                    fs::create_dir(&target).map_err(io)?;
                    self.tree.insert(rel, Node::Dir);
                }
            }
            EntryType::Regular | EntryType::Continuous => {
                self.make_room(&rel, false).map_err(refuse)?;
                // create_new: never opens an existing file, nor follows a link at the name.
                let mut file = fs::OpenOptions::new()
                    .write(true)
                    .create_new(true)
                    .open(&target)
                    .map_err(io)?;
                io::copy(data, &mut file).map_err(io)?;
                self.tree.insert(rel, Node::File);
                self.files += 1;
            }
            EntryType::Link => {
                let link = member.link.clone().unwrap_or_default();
                let Ok(source) = relative(&link) else {
                    return Err(refuse(
                        "a link that points outside the destination is refused".into(),
                    ));
                };
                if self.tree.get(&source) != Some(&Node::File) || source == rel {
                    return Err(refuse(format!(
                        "a hard link must name a file unpacked before it, and {} is not one",
                        link.display()
                    )));
                }
                self.make_room(&rel, false).map_err(refuse)?;
                fs::hard_link(self.dest.join(&source), &target).map_err(io)?;
                self.tree.insert(rel, Node::File);
                self.files += 1;
            }
            EntryType::Symlink => {
                let link = member.link.clone().unwrap_or_default();
                if link.as_os_str().is_empty() {
                    return Err(refuse("a symlink with no target is refused".into()));
                }
                if !link_stays_inside(&rel, &link) {
                    return Err(refuse(
                        "a link that points outside the destination is refused".into(),
                    ));
                }
                self.make_room(&rel, false).map_err(refuse)?;
                symlink(&link, &target).map_err(io)?;
                self.tree.insert(
                    rel,
                    Node::Symlink {
                        target: link,
                        layer,
                    },
                );
            }
            EntryType::XGlobalHeader => {}
            other => {
                return Err(UnpackError::Unsupported {
                    layer,
                    path: member.shown,
                    kind: format!("{other:?}").to_lowercase(),
                });
            }
        }
        Ok(())
    }

    /// Makes the folders above `rel` and removes a file or link already at `rel`, so the new
    /// entry replaces it instead of writing through it. A folder is only replaced by a folder.
    fn make_room(&mut self, rel: &Path, dir: bool) -> Result<(), String> {
        let missing = self.tree.missing_ancestors(rel).map_err(|b| match b {
            Blocked::ThroughSymlink(at) => format!(
                "goes through {}, a symlink an earlier entry made; refused",
                at.display()
            ),
            Blocked::ThroughFile(at) => format!("{} is a file, not a folder", at.display()),
        })?;
        for at in missing {
            fs::create_dir(self.dest.join(&at)).map_err(|e| format!("{}: {e}", at.display()))?;
            self.tree.insert(at, Node::Dir);
        }
        match self.tree.get(rel) {
            None => {}
            Some(Node::Dir) if dir => {}
            Some(Node::Dir) => {
                return Err("would replace a folder an earlier entry made; refused".into());
            }
            Some(Node::File | Node::Symlink { .. }) => {
                fs::remove_file(self.dest.join(rel)).map_err(|e| e.to_string())?;
                self.tree.remove(rel);
            }
        }
        Ok(())
    }
}

#[cfg(unix)]
fn symlink(target: &Path, at: &Path) -> io::Result<()> {
    std::os::unix::fs::symlink(target, at)
}

#[cfg(not(unix))]
fn symlink(_: &Path, _: &Path) -> io::Result<()> {
    Err(io::Error::other("symlinks are unpacked on Unix only"))
}

/// Unpacks in-memory layers into `dest` (which must exist and be empty), later layers over
/// earlier ones, with the default limits. Returns the number of regular files written.
pub fn unpack(layers: &[Vec<u8>], dest: &Path) -> Result<usize, UnpackError> {
    let mut unpacker = Unpacker::new(dest, Limits::DEFAULT);
    for data in layers {
        unpacker.layer(data.as_slice())?;
    }
    unpacker.finish()
}

#[cfg(test)]
mod tests;
