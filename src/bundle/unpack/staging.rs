//! Where a pull unpacks before the output folder appears: a folder beside it, named
//! `.kbundle-pull-<pid namespace>-<pid>-<random>`, so that a run that was killed leaves
//! something the next run finds and can prove stale (its process is gone), and a failed run
//! removes what it staged.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

pub const STAGING_PREFIX: &str = ".kbundle-pull-";

/// A staging folder owned by this process; removed when dropped unless published.
pub struct Staging {
    dir: tempfile::TempDir,
}

impl Staging {
    /// Creates a staging folder in `parent` (the output folder's parent, so the final rename
    /// stays on one filesystem). It holds `tree/`, what becomes the output, and scratch files.
    pub fn create(parent: &Path) -> io::Result<Staging> {
        let prefix = format!(
            "{STAGING_PREFIX}{}-{}-",
            pid_namespace().unwrap_or(0),
            std::process::id()
        );
        let dir = tempfile::Builder::new()
            .prefix(&prefix)
            .tempdir_in(parent)?;
        fs::create_dir(dir.path().join("tree"))?;
        Ok(Staging { dir })
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// The folder to unpack into.
    pub fn tree(&self) -> PathBuf {
        self.dir.path().join("tree")
    }

    /// A scratch file beside the tree (a downloaded layer), removed with the staging folder.
    pub fn scratch(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Moves the tree to `dest` (which must not exist) and removes the rest.
    pub fn publish(self, dest: &Path) -> io::Result<()> {
        fs::rename(self.tree(), dest)
        // Dropping `dir` removes the scratch files.
    }
}

/// This process's pid namespace: a pid only says whether a process lives when it was
/// recorded in the same namespace (containers sharing a folder have their own).
fn pid_namespace() -> Option<u64> {
    let link = fs::read_link("/proc/self/ns/pid").ok()?;
    let text = link.to_str()?;
    text.strip_prefix("pid:[")?.strip_suffix(']')?.parse().ok()
}

/// What `remove_stale` found.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Cleanup {
    pub removed: Vec<PathBuf>,
    /// Staging folders named the way kbundle before pid-named staging named them
    /// (`.kbundle-pull-XXXXXX`): nothing proves them stale, so they are only reported.
    pub unproven: Vec<PathBuf>,
}

/// Removes the staging folders in `parent` that provably belong to no running pull: named by
/// this scheme, recorded in this pid namespace by a process that no longer exists, real
/// folders (not links) owned by the same user as `ours`. Anything else is left alone.
pub fn remove_stale(parent: &Path, ours: &Staging) -> Cleanup {
    let mut cleanup = Cleanup::default();
    let Ok(entries) = fs::read_dir(parent) else {
        return cleanup;
    };
    let namespace = pid_namespace().filter(|_| Path::new("/proc/self").exists());
    let owner = owner_of(ours.path());
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(rest) = name.to_str().and_then(|n| n.strip_prefix(STAGING_PREFIX)) else {
            continue;
        };
        let mut parts = rest.splitn(3, '-');
        let (Some(Ok(ns)), Some(Ok(pid)), Some(_)) = (
            parts.next().map(str::parse::<u64>),
            parts.next().map(str::parse::<u32>),
            parts.next(),
        ) else {
            if !rest.contains('-') && entry.file_type().is_ok_and(|t| t.is_dir()) {
                cleanup.unproven.push(entry.path());
            }
            continue;
        };
        let Some(namespace) = namespace else {
            continue;
        };
        if ns != namespace || pid == std::process::id() {
            continue;
        }
        let path = entry.path();
        let alive = !matches!(
            fs::symlink_metadata(format!("/proc/{pid}")),
            Err(e) if e.kind() == io::ErrorKind::NotFound
        );
        let ours_to_take = fs::symlink_metadata(&path)
            .is_ok_and(|m| m.is_dir() && owner.is_some() && owner_of(&path) == owner);
        if alive || !ours_to_take {
            continue;
        }
        if fs::remove_dir_all(&path).is_ok() {
            cleanup.removed.push(path);
        }
    }
    cleanup.removed.sort();
    cleanup.unproven.sort();
    cleanup
}

#[cfg(unix)]
fn owner_of(path: &Path) -> Option<u32> {
    use std::os::unix::fs::MetadataExt;
    fs::symlink_metadata(path).ok().map(|m| m.uid())
}

#[cfg(not(unix))]
fn owner_of(_: &Path) -> Option<u32> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dead_pid() -> u32 {
        let mut child = std::process::Command::new("true")
            .spawn()
            .expect("spawn true");
        let pid = child.id();
        child.wait().expect("wait");
        pid
    }

    #[test]
    fn removes_only_folders_of_dead_pulls_in_this_namespace() {
        let Some(ns) = pid_namespace() else {
            return; // no /proc: nothing is ever removed, checked below by construction
        };
        let parent = tempfile::tempdir().expect("tempdir");
        let dead = dead_pid();
        let names = [
            format!("{STAGING_PREFIX}{ns}-{dead}-abc123"),
            format!("{STAGING_PREFIX}{ns}-1-abc123"), // pid 1 lives
            format!("{STAGING_PREFIX}{}-{dead}-abc123", ns + 1), // another namespace
            format!("{STAGING_PREFIX}abc123"),        // not provably anything
        ];
        for n in &names {
            fs::create_dir(parent.path().join(n)).expect("mkdir");
            fs::write(parent.path().join(n).join("f"), "x").expect("write");
        }
        let ours = Staging::create(parent.path()).expect("staging");
        let found = remove_stale(parent.path(), &ours);
        assert_eq!(
            found,
            Cleanup {
                removed: vec![parent.path().join(&names[0])],
                unproven: vec![parent.path().join(&names[3])],
            }
        );
        for n in &names[1..] {
            assert!(parent.path().join(n).is_dir(), "{n} was kept");
        }
        assert!(ours.tree().is_dir());
        let path = ours.path().to_path_buf();
        drop(ours);
        assert!(!path.exists(), "a dropped staging folder is removed");
    }
}
