//! Unpacking image layers the way Config Sync's oci-sync does: every layer in order into one
//! folder, gzip or plain tar told apart by their magic bytes. Anything that would write
//! outside the folder is refused, not skipped.

use std::io::Read;
use std::path::{Component, Path, PathBuf};

use flate2::read::GzDecoder;
use tar::EntryType;

#[derive(Debug, thiserror::Error)]
pub enum UnpackError {
    #[error("layer {layer}: {path}: {reason}")]
    Unsafe {
        layer: usize,
        path: String,
        reason: &'static str,
    },
    #[error("layer {layer}: {path}: {kind} entries are not unpacked")]
    Unsupported {
        layer: usize,
        path: String,
        kind: String,
    },
    #[error("layer {layer}: {message}")]
    Io { layer: usize, message: String },
}

/// A layer's bytes as a tar stream.
fn open(data: &[u8]) -> Box<dyn Read + '_> {
    if data.starts_with(&[0x1f, 0x8b]) {
        Box::new(GzDecoder::new(data))
    } else {
        Box::new(data)
    }
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

/// Whether a link at `at` (relative) pointing to `target` stays inside the destination.
fn link_stays_inside(at: &Path, target: &Path) -> bool {
    if target.is_absolute() {
        return false;
    }
    let mut depth: Vec<&std::ffi::OsStr> = at
        .parent()
        .into_iter()
        .flat_map(|p| p.components())
        .filter_map(|c| match c {
            Component::Normal(p) => Some(p),
            _ => None,
        })
        .collect();
    for c in target.components() {
        match c {
            Component::Normal(p) => depth.push(p),
            Component::CurDir => {}
            Component::ParentDir => {
                if depth.pop().is_none() {
                    return false;
                }
            }
            Component::RootDir | Component::Prefix(_) => return false,
        }
    }
    true
}

/// Unpacks layers into `dest` (which must exist), later layers overwriting earlier files.
/// Returns the number of regular files written.
pub fn unpack(layers: &[Vec<u8>], dest: &Path) -> Result<usize, UnpackError> {
    let mut files = 0;
    for (i, data) in layers.iter().enumerate() {
        let layer = i + 1;
        let io = |e: std::io::Error| UnpackError::Io {
            layer,
            message: e.to_string(),
        };
        let mut archive = tar::Archive::new(open(data));
        for entry in archive.entries().map_err(io)? {
            let mut entry = entry.map_err(io)?;
            let raw = entry.path().map_err(io)?.into_owned();
            let shown = raw.display().to_string();
            let rel = relative(&raw).map_err(|reason| UnpackError::Unsafe {
                layer,
                path: shown.clone(),
                reason,
            })?;
            if rel.as_os_str().is_empty() {
                continue;
            }
            let target = dest.join(&rel);
            let kind = entry.header().entry_type();
            match kind {
                EntryType::Directory => std::fs::create_dir_all(&target).map_err(io)?,
                EntryType::Regular | EntryType::Continuous => {
                    if let Some(parent) = target.parent() {
                        std::fs::create_dir_all(parent).map_err(io)?;
                    }
                    let mut bytes = Vec::new();
                    entry.read_to_end(&mut bytes).map_err(io)?;
                    std::fs::write(&target, bytes).map_err(io)?;
                    files += 1;
                }
                EntryType::Symlink | EntryType::Link => {
                    let link = entry
                        .link_name()
                        .map_err(io)?
                        .map(|l| l.into_owned())
                        .unwrap_or_default();
                    let inside = if kind == EntryType::Link {
                        relative(&link).is_ok()
                    } else {
                        link_stays_inside(&rel, &link)
                    };
                    if !inside {
                        return Err(UnpackError::Unsafe {
                            layer,
                            path: shown,
                            reason: "a link that points outside the destination is refused",
                        });
                    }
                    if let Some(parent) = target.parent() {
                        std::fs::create_dir_all(parent).map_err(io)?;
                    }
                    entry.unpack(&target).map_err(io)?;
                }
                EntryType::XGlobalHeader | EntryType::XHeader | EntryType::GNULongName => {}
                other => {
                    return Err(UnpackError::Unsupported {
                        layer,
                        path: shown,
                        kind: format!("{other:?}").to_lowercase(),
                    });
                }
            }
        }
    }
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tar_with(entries: &[(&str, EntryType, &str)]) -> Vec<u8> {
        let mut b = tar::Builder::new(Vec::new());
        for (path, kind, content) in entries {
            let mut h = tar::Header::new_gnu();
            h.set_entry_type(*kind);
            h.set_mode(0o644);
            // Bypass the tar crate's own path checks: these tests feed hostile archives.
            let name = path.as_bytes();
            h.as_old_mut().name[..name.len()].copy_from_slice(name);
            if matches!(kind, EntryType::Symlink | EntryType::Link) {
                h.set_link_name(content).unwrap();
                h.set_size(0);
                h.set_cksum();
                b.append(&h, std::io::empty()).unwrap();
            } else {
                h.set_size(content.len() as u64);
                h.set_cksum();
                b.append(&h, content.as_bytes()).unwrap();
            }
        }
        b.into_inner().unwrap()
    }

    #[test]
    fn unpacks_plain_and_gzip_layers_in_order() {
        let first = tar_with(&[
            ("a/", EntryType::Directory, ""),
            ("a/x.yaml", EntryType::Regular, "one"),
        ]);
        let second = tar_with(&[("a/x.yaml", EntryType::Regular, "two")]);
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        std::io::Write::write_all(&mut gz, &second).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let n = unpack(&[first, gz.finish().unwrap()], dir.path()).unwrap();
        assert_eq!(n, 2);
        assert_eq!(
            std::fs::read_to_string(dir.path().join("a/x.yaml")).unwrap(),
            "two"
        );
    }

    #[test]
    fn refuses_escapes() {
        let dir = tempfile::tempdir().unwrap();
        for (entries, needle) in [
            (vec![("../evil", EntryType::Regular, "x")], "`..`"),
            (vec![("/etc/evil", EntryType::Regular, "x")], "absolute"),
            (
                vec![("l", EntryType::Symlink, "../../etc/passwd")],
                "outside",
            ),
            (vec![("l", EntryType::Symlink, "/etc/passwd")], "outside"),
            (vec![("h", EntryType::Link, "../x")], "outside"),
        ] {
            let err = unpack(&[tar_with(&entries)], dir.path()).unwrap_err();
            assert!(err.to_string().contains(needle), "{err}");
        }
        let ok = tar_with(&[
            ("d/", EntryType::Directory, ""),
            ("d/f", EntryType::Regular, "x"),
            ("d/l", EntryType::Symlink, "f"),
        ]);
        unpack(&[ok], dir.path()).unwrap();
        assert_eq!(
            std::fs::read_to_string(dir.path().join("d/l")).unwrap(),
            "x"
        );
    }
}
