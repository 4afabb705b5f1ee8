//! Finding and reading manifest files.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use regex::Regex;

/// Something to read manifests from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    Stdin,
    File(PathBuf),
}

/// The text of one input, with the name reports use for it.
#[derive(Debug, Clone)]
pub struct Source {
    pub name: Arc<str>,
    pub text: String,
}

/// Why an input could not be listed or read.
#[derive(Debug, thiserror::Error)]
#[error("{path}: {message}")]
pub struct InputError {
    pub path: String,
    pub message: String,
}

fn is_manifest(path: &Path) -> bool {
    matches!(
        path.extension().and_then(|e| e.to_str()),
        Some("yaml" | "yml" | "json")
    )
}

/// Expands paths into inputs: `-` (or no path) is stdin, folders are walked recursively for
/// `.yaml`, `.yml` and `.json` files in a stable order (hidden folders and what the folder's
/// `.kbundleignore` names are skipped), and files whose path matches one of `ignore` are left
/// out (kubeconform's `-ignore-filename-pattern`).
pub fn discover(paths: &[PathBuf], ignore: &[Regex]) -> Result<Vec<Input>, InputError> {
    if paths.is_empty() {
        return Ok(vec![Input::Stdin]);
    }
    let ignored = |p: &Path| {
        let s = p.to_string_lossy();
        ignore.iter().any(|re| re.is_match(&s))
    };
    let mut inputs = Vec::new();
    for path in paths {
        if path.as_os_str() == "-" {
            inputs.push(Input::Stdin);
            continue;
        }
        let meta = std::fs::metadata(path).map_err(|e| InputError {
            path: path.display().to_string(),
            message: format!("{}; check the path", io_reason(&e)),
        })?;
        if !meta.is_dir() {
            // A file named explicitly is read whatever its extension.
            if !ignored(path) {
                inputs.push(Input::File(path.clone()));
            }
            continue;
        }
        // What a bundle of this folder would leave out is not validated either.
        let (kbundleignore, _) = ignore::gitignore::Gitignore::new(path.join(".kbundleignore"));
        let walker = walkdir::WalkDir::new(path)
            .follow_links(true)
            .sort_by_file_name()
            .into_iter()
            .filter_entry(|e| e.depth() == 0 || !e.file_name().to_string_lossy().starts_with('.'));
        for entry in walker {
            let entry = match entry {
                Ok(entry) => entry,
                Err(e) => match broken_link(&e) {
                    // One bad link is no reason to leave the rest of the folder unchecked.
                    Some(why) => {
                        let at = e.path().unwrap_or(path);
                        tracing::warn!("{}: skipped: {why}", at.display());
                        continue;
                    }
                    None => {
                        return Err(InputError {
                            path: e.path().map_or_else(
                                || path.display().to_string(),
                                |p| p.display().to_string(),
                            ),
                            message: e.io_error().map_or_else(|| e.to_string(), io_reason),
                        });
                    }
                },
            };
            let p = entry.path();
            let left_out = kbundleignore
                .matched_path_or_any_parents(p, entry.file_type().is_dir())
                .is_ignore();
            if entry.file_type().is_file() && is_manifest(p) && !ignored(p) && !left_out {
                inputs.push(Input::File(p.to_path_buf()));
            }
        }
    }
    Ok(inputs)
}

/// Reads one input whole.
pub fn read_input(input: &Input) -> Result<Source, InputError> {
    match input {
        Input::Stdin => {
            let mut text = String::new();
            std::io::stdin()
                .read_to_string(&mut text)
                .map_err(|e| InputError {
                    path: "stdin".into(),
                    message: io_reason(&e),
                })?;
            Ok(Source {
                name: Arc::from("stdin"),
                text,
            })
        }
        Input::File(path) => {
            let name = path.display().to_string();
            let bytes = std::fs::read(path).map_err(|e| InputError {
                path: name.clone(),
                message: io_reason(&e),
            })?;
            let text = String::from_utf8(bytes).map_err(|e| InputError {
                path: name.clone(),
                message: format!(
                    "not UTF-8 text (invalid byte at offset {}); manifests must be UTF-8",
                    e.utf8_error().valid_up_to()
                ),
            })?;
            Ok(Source {
                name: Arc::from(name),
                text,
            })
        }
    }
}

/// Why a walk error is a symbolic link that leads nowhere (a loop, a missing target), which
/// is skipped; other errors (an unreadable folder) stop the run.
fn broken_link(e: &walkdir::Error) -> Option<String> {
    if e.loop_ancestor().is_some() {
        return Some("symbolic link loop (it points at a folder that contains it)".into());
    }
    let path = e.path()?;
    let is_link = std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink());
    match e.io_error() {
        Some(io) if is_link && io.kind() == std::io::ErrorKind::NotFound => {
            Some("dangling symbolic link (its target does not exist)".into())
        }
        // ELOOP for a link that reaches itself; std has no stable ErrorKind for it yet.
        Some(io) if is_link => Some(format!(
            "symbolic link that cannot be followed: {}",
            io_reason(io)
        )),
        _ => None,
    }
}

fn io_reason(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file or directory".into(),
        std::io::ErrorKind::PermissionDenied => "permission denied".into(),
        _ => e.to_string().to_lowercase(),
    }
}
