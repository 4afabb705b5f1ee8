//! Writing a file whole: a temporary file beside it, then a rename, so a failure or a kill
//! never leaves half a file.
//!
//! The temporary file is named `.NAME.kbundle-tmp-PID.RANDOM` so that one left behind by a
//! killed run is recognisable; the next write of the same file removes those whose process
//! is gone.

use std::fs;
use std::io::Write;
use std::path::Path;
use std::time::{Duration, SystemTime};

use crate::error::{Error, Result};

/// Where `/proc` cannot say whether a process is alive, a temporary file this old is stale.
const STALE_AFTER: Duration = Duration::from_secs(3600);

/// Writes `bytes` to `path`. The file gets `mode` (Unix), else keeps the permissions of the
/// one replaced.
pub(super) fn write(path: &Path, bytes: &[u8], mode: Option<u32>) -> Result<()> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let fail = |e: std::io::Error| Error::new(format!("{}: {e}", path.display()));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let stem = format!(".{name}.kbundle-tmp-");
    remove_stale(dir, &stem);
    let mut tmp = tempfile::Builder::new()
        .prefix(&format!("{stem}{}.", std::process::id()))
        .rand_bytes(6)
        .tempfile_in(dir)
        .map_err(fail)?;
    #[cfg(unix)]
    if let Some(mode) = mode {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(tmp.path(), fs::Permissions::from_mode(mode)).map_err(fail)?;
    }
    #[cfg(not(unix))]
    let _ = mode;
    if let (None, Ok(meta)) = (mode, fs::metadata(path)) {
        fs::set_permissions(tmp.path(), meta.permissions()).map_err(fail)?;
    }
    tmp.write_all(bytes).map_err(fail)?;
    tmp.as_file().sync_all().map_err(fail)?;
    tmp.persist(path).map_err(|e| fail(e.error))?;
    Ok(())
}

/// Removes `STEM<pid>.*` files in `dir` left by processes that are gone. Best effort: a
/// file that cannot be listed or removed is left for the next run.
fn remove_stale(dir: &Path, stem: &str) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(rest) = name.to_str().and_then(|n| n.strip_prefix(stem)) else {
            continue;
        };
        let Some(pid) = rest.split('.').next().and_then(|p| p.parse::<u32>().ok()) else {
            continue;
        };
        let regular = entry.file_type().is_ok_and(|t| t.is_file());
        let modified = entry.metadata().and_then(|m| m.modified()).ok();
        if regular && is_stale(pid, modified) {
            let path = entry.path();
            match fs::remove_file(&path) {
                Ok(()) => tracing::info!("removed {}, left by an earlier run", path.display()),
                Err(e) => tracing::debug!("cannot remove {}: {e}", path.display()),
            }
        }
    }
}

/// Whether the process that made a temporary file is gone. This process's own PID counts as
/// gone: it writes one file at a time, and in a container every run may get the same PID.
fn is_stale(pid: u32, modified: Option<SystemTime>) -> bool {
    if pid == std::process::id() {
        return true;
    }
    let proc = Path::new("/proc");
    if proc.join("self").exists() {
        return !proc.join(pid.to_string()).exists();
    }
    modified
        .and_then(|m| m.elapsed().ok())
        .is_some_and(|age| age > STALE_AFTER)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leftovers_of_gone_processes_are_removed_and_others_kept() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("root-sync.yaml");
        fs::write(&path, "old").unwrap();
        let own = std::process::id();
        // PID 1 is alive wherever /proc exists; u32::MAX never is.
        let gone = format!(".root-sync.yaml.kbundle-tmp-{}.aaaaaa", u32::MAX);
        let mine = format!(".root-sync.yaml.kbundle-tmp-{own}.bbbbbb");
        let alive = ".root-sync.yaml.kbundle-tmp-1.cccccc";
        let other = ".other.yaml.kbundle-tmp-4294967295.dddddd";
        for name in [gone.as_str(), mine.as_str(), alive, other] {
            fs::write(dir.path().join(name), "half").unwrap();
        }
        write(&path, b"new", None).unwrap();
        assert_eq!(fs::read_to_string(&path).unwrap(), "new");
        let mut left: Vec<String> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        left.sort();
        let mut want = vec![alive, other, "root-sync.yaml"];
        if !Path::new("/proc/self").exists() {
            // Without /proc only age tells, and these are new.
            want.push(&gone);
        }
        want.sort();
        assert_eq!(left, want);
    }
}
