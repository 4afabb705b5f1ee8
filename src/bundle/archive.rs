//! Deterministic tar and gzip archives of manifest folders.
//!
//! Everything that could differ between two checkouts of the same commit (file order on disk,
//! modification times, owners, permission bits, the machine's user names) is left out or fixed,
//! so the same files give the same bytes, and so the same OCI digest, on any machine.

use std::collections::BTreeMap;
use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use flate2::write::GzEncoder;
use flate2::{Compression, GzBuilder};
use ignore::gitignore::{Gitignore, GitignoreBuilder};
use rayon::prelude::*;

use super::digest::{Digest, DigestWriter};

/// Name of the per-folder ignore file (gitignore syntax).
pub const IGNORE_FILE: &str = ".kbundleignore";

/// How to pick the files of a bundle.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Options {
    /// Gitignore-syntax patterns from `--ignore`, matched relative to each root.
    pub ignore: Vec<String>,
}

/// A file or directory that goes into the bundle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Path in the archive: relative, `/`-separated, no leading `./`, no trailing `/`.
    pub path: String,
    /// Where the content is read from.
    pub source: PathBuf,
    pub is_dir: bool,
}

/// Why a bundle could not be made. Each message names the path and says what to do.
#[derive(Debug, thiserror::Error)]
pub enum BundleError {
    #[error("{}: cannot {action}: {source}; check that it exists and is readable", path.display())]
    Io {
        path: PathBuf,
        action: &'static str,
        source: io::Error,
    },
    #[error(
        "{}: symbolic links are not bundled; replace it with the file it points to (or leave it out with --ignore or {IGNORE_FILE})",
        path.display()
    )]
    Symlink { path: PathBuf },
    #[error(
        "{}: {kind} cannot be bundled, only regular files and directories; remove it or leave it out with --ignore or {IGNORE_FILE}",
        path.display()
    )]
    Special { path: PathBuf, kind: &'static str },
    #[error("{}: the name is not valid UTF-8; rename it", path.display())]
    NotUtf8 { path: PathBuf },
    #[error(
        "{path} would come from both {} and {}; bundle only one of them or rename one",
        first.display(),
        second.display()
    )]
    Collision {
        path: String,
        first: PathBuf,
        second: PathBuf,
    },
    #[error("{origin}: invalid ignore pattern: {message}; fix the pattern")]
    Pattern { origin: String, message: String },
}

/// Lists what a bundle of these roots contains, in archive order: paths sorted byte-wise, which
/// puts every directory before its contents because a path sorts before its extensions.
///
/// A root that is a directory contributes its contents at the archive root; a root that is a
/// file contributes that file under its file name. The roots themselves are followed if they are
/// symbolic links (the user named them); nothing inside them is. Two roots giving the same
/// directory merge; two giving the same file path, or a file and a directory, are an error.
///
/// Left out: anything named `.git` (directory, or the file a worktree or submodule has),
/// `.kbundleignore` files, and what their patterns or `options.ignore` exclude. `--ignore`
/// patterns take precedence over `.kbundleignore` ones (so `--ignore '!x.yaml'` can bring a file
/// back), and a deeper `.kbundleignore` over a shallower one, as in git.
pub fn entries(roots: &[PathBuf], options: &Options) -> Result<Vec<Entry>, BundleError> {
    let mut found: BTreeMap<String, Entry> = BTreeMap::new();
    for root in roots {
        let meta = fs::metadata(root).map_err(|source| BundleError::Io {
            path: root.clone(),
            action: "read",
            source,
        })?;
        if meta.is_dir() {
            let cli = cli_matcher(root, &options.ignore)?;
            let mut walk = Walk {
                cli,
                nested: Vec::new(),
                found: &mut found,
            };
            walk.dir(root, "")?;
        } else if meta.is_file() {
            let name = utf8_name(root)?;
            // A file root is matched by its name, so `--ignore '*.secret.yaml'` means the same
            // for `kbundle bundle dir` and `kbundle bundle dir/*`.
            let parent = root.parent().unwrap_or(Path::new(""));
            if cli_matcher(parent, &options.ignore)?
                .matched(Path::new(&name), false)
                .is_ignore()
            {
                continue;
            }
            add(&mut found, name, root.clone(), false)?;
        } else {
            return Err(special(root, &meta.file_type()));
        }
    }
    Ok(found.into_values().collect())
}

/// The tar stream of these entries, in the order given.
///
/// GNU headers (long paths use the `././@LongLink` extension, whose header the `tar` crate also
/// zeroes), mode 0644 for files and 0755 for directories, uid/gid 0, mtime 0, empty user and
/// group names, directories named with a trailing `/`. No PAX headers are written.
pub fn tar(entries: &[Entry]) -> Result<Vec<u8>, BundleError> {
    let contents = read_files(entries)?;
    write_tar(entries, &contents, Vec::new())
}

/// A gzipped tar, and the digest of the tar inside (an image config's `diff_id`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layer {
    pub gzip: Vec<u8>,
    pub tar_digest: Digest,
}

impl Layer {
    /// The layer of a tar already in memory.
    pub fn of_tar(tar: &[u8]) -> Layer {
        Layer {
            gzip: gzip(tar),
            tar_digest: Digest::of(tar),
        }
    }
}

/// `gzip(tar(entries))`, byte for byte, in one pass: the files are read in parallel, and the
/// tar goes straight into the compressor, hashed on the way, never held whole.
pub fn tar_gz(entries: &[Entry]) -> Result<Layer, BundleError> {
    let contents = read_files(entries)?;
    let size: usize = contents.iter().flatten().map(Vec::len).sum();
    let sink = DigestWriter::new(gzip_encoder(Vec::with_capacity(size / 4 + 4096)));
    let (encoder, tar_digest) = write_tar(entries, &contents, sink)?.finish();
    Ok(Layer {
        gzip: finish_gzip(encoder),
        tar_digest,
    })
}

/// Deterministic gzip: mtime 0, no file name, OS byte "unknown", level 6.
///
/// The bytes also depend on the deflate implementation compiled in (flate2's default,
/// miniz_oxide); changing the backend changes layer digests for the same input.
pub fn gzip(tar: &[u8]) -> Vec<u8> {
    let mut encoder = gzip_encoder(Vec::with_capacity(tar.len() / 4 + 64));
    // Writing to a Vec cannot fail.
    if let Err(err) = encoder.write_all(tar) {
        unreachable!("gzip into memory failed: {err}");
    }
    finish_gzip(encoder)
}

fn gzip_encoder(out: Vec<u8>) -> GzEncoder<Vec<u8>> {
    GzBuilder::new()
        .mtime(0)
        .operating_system(255)
        .write(out, Compression::new(6))
}

fn finish_gzip(encoder: GzEncoder<Vec<u8>>) -> Vec<u8> {
    match encoder.finish() {
        Ok(bytes) => bytes,
        Err(err) => unreachable!("gzip into memory failed: {err}"),
    }
}

/// Every file's bytes (`None` for directories), read in parallel. Read whole, so the size in
/// a header is the size of what follows even if a file changes meanwhile; manifests are
/// small. Of several unreadable files, the first in archive order is reported.
fn read_files(entries: &[Entry]) -> Result<Vec<Option<Vec<u8>>>, BundleError> {
    // Collected whole before the first error is taken: rayon's collect into a `Result` keeps
    // whichever error a worker met first, which made the message differ from run to run.
    let read: Vec<Result<Option<Vec<u8>>, BundleError>> = entries
        .par_iter()
        .map(|entry| {
            (!entry.is_dir)
                .then(|| {
                    fs::read(&entry.source).map_err(|source| BundleError::Io {
                        path: entry.source.clone(),
                        action: "read",
                        source,
                    })
                })
                .transpose()
        })
        .collect();
    read.into_iter().collect()
}

/// Writes the tar of `entries`, whose file bytes are `contents`, to `out`; returns `out`.
fn write_tar<W: Write>(
    entries: &[Entry],
    contents: &[Option<Vec<u8>>],
    out: W,
) -> Result<W, BundleError> {
    let mut builder = tar::Builder::new(out);
    for (entry, data) in entries.iter().zip(contents) {
        let write_error = |source| BundleError::Io {
            path: entry.source.clone(),
            action: "archive",
            source,
        };
        let mut header = tar::Header::new_gnu();
        header.set_uid(0);
        header.set_gid(0);
        header.set_mtime(0);
        header.set_username("").map_err(write_error)?;
        header.set_groupname("").map_err(write_error)?;
        match data {
            None => {
                header.set_entry_type(tar::EntryType::Directory);
                header.set_mode(0o755);
                header.set_size(0);
                builder
                    .append_data(&mut header, format!("{}/", entry.path), io::empty())
                    .map_err(write_error)?;
            }
            Some(data) => {
                header.set_entry_type(tar::EntryType::Regular);
                header.set_mode(0o644);
                header.set_size(data.len() as u64);
                builder
                    .append_data(&mut header, &entry.path, data.as_slice())
                    .map_err(write_error)?;
            }
        }
    }
    builder.into_inner().map_err(|source| BundleError::Io {
        path: PathBuf::from("<archive>"),
        action: "finish",
        source,
    })
}

/// Walks one directory root, carrying the ignore matchers in force.
struct Walk<'a> {
    cli: Gitignore,
    /// `.kbundleignore` matchers from the root down to the current directory.
    nested: Vec<Gitignore>,
    found: &'a mut BTreeMap<String, Entry>,
}

impl Walk<'_> {
    /// Adds the contents of `dir`, whose archive path is `rel` ("" for the root).
    fn dir(&mut self, dir: &Path, rel: &str) -> Result<(), BundleError> {
        let ignore_file = dir.join(IGNORE_FILE);
        let has_ignore_file = fs::symlink_metadata(&ignore_file).is_ok_and(|m| m.is_file());
        if has_ignore_file {
            let mut builder = GitignoreBuilder::new(dir);
            if let Some(err) = builder.add(&ignore_file) {
                return Err(pattern_error(ignore_file.display().to_string(), err));
            }
            let matcher = builder
                .build()
                .map_err(|err| pattern_error(ignore_file.display().to_string(), err))?;
            self.nested.push(matcher);
        }

        let read_error = |source| BundleError::Io {
            path: dir.to_path_buf(),
            action: "list",
            source,
        };
        let mut children = Vec::new();
        for child in fs::read_dir(dir).map_err(read_error)? {
            let child = child.map_err(read_error)?;
            // The directory entry's own type (no stat on most file systems); like
            // symlink_metadata, it does not follow links.
            let kind = child.file_type().map_err(|source| BundleError::Io {
                path: child.path(),
                action: "read",
                source,
            })?;
            children.push((child.path(), kind));
        }
        // Sorted so that, of several problems, the same one is reported on every machine.
        children.sort_by(|a, b| a.0.cmp(&b.0));

        for (path, kind) in children {
            let name = utf8_name(&path)?;
            if name == ".git" || name == IGNORE_FILE {
                continue;
            }
            // Ignore before refusing, so that a symlink can be left out instead of replaced.
            if self.ignored(&path, kind.is_dir()) {
                continue;
            }
            let child_rel = if rel.is_empty() {
                name
            } else {
                format!("{rel}/{name}")
            };
            if kind.is_dir() {
                add(self.found, child_rel.clone(), path.clone(), true)?;
                self.dir(&path, &child_rel)?;
            } else if kind.is_file() {
                add(self.found, child_rel, path, false)?;
            } else if kind.is_symlink() {
                return Err(BundleError::Symlink { path });
            } else {
                return Err(special(&path, &kind));
            }
        }

        if has_ignore_file {
            self.nested.pop();
        }
        Ok(())
    }

    /// Whether `path` is excluded; the first matcher with an opinion (ignore or `!` re-include)
    /// decides, asking `--ignore` first, then the deepest `.kbundleignore` up to the root's.
    fn ignored(&self, path: &Path, is_dir: bool) -> bool {
        // Matchers get the full path (root joined with the relative one) because their root is
        // that same path, and the crate strips it; a bare relative path could be stripped
        // wrongly when a sub-folder happens to share the root's name.
        std::iter::once(&self.cli)
            .chain(self.nested.iter().rev())
            .map(|m| m.matched(path, is_dir))
            .find(|m| !m.is_none())
            .is_some_and(|m| m.is_ignore())
    }
}

/// A matcher for the `--ignore` patterns, rooted at `root`.
fn cli_matcher(root: &Path, patterns: &[String]) -> Result<Gitignore, BundleError> {
    let mut builder = GitignoreBuilder::new(root);
    for pattern in patterns {
        builder
            .add_line(None, pattern)
            .map_err(|err| pattern_error(format!("--ignore {pattern:?}"), err))?;
    }
    builder
        .build()
        .map_err(|err| pattern_error("--ignore".to_owned(), err))
}

fn pattern_error(origin: String, err: ignore::Error) -> BundleError {
    BundleError::Pattern {
        origin,
        message: err.to_string(),
    }
}

/// Records an entry, refusing two different sources for one archive path.
fn add(
    found: &mut BTreeMap<String, Entry>,
    path: String,
    source: PathBuf,
    is_dir: bool,
) -> Result<(), BundleError> {
    if let Some(existing) = found.get(&path) {
        // Two roots with the same sub-folder merge: the directory entry is identical either way.
        if existing.is_dir && is_dir {
            return Ok(());
        }
        return Err(BundleError::Collision {
            path,
            first: existing.source.clone(),
            second: source,
        });
    }
    found.insert(
        path.clone(),
        Entry {
            path,
            source,
            is_dir,
        },
    );
    Ok(())
}

fn utf8_name(path: &Path) -> Result<String, BundleError> {
    match path.file_name().map(|name| name.to_str()) {
        Some(Some(name)) => Ok(name.to_owned()),
        _ => Err(BundleError::NotUtf8 {
            path: path.to_path_buf(),
        }),
    }
}

fn special(path: &Path, kind: &fs::FileType) -> BundleError {
    BundleError::Special {
        path: path.to_path_buf(),
        kind: describe(kind),
    }
}

#[cfg(unix)]
fn describe(kind: &fs::FileType) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    if kind.is_block_device() || kind.is_char_device() {
        "a device"
    } else if kind.is_fifo() {
        "a named pipe (FIFO)"
    } else if kind.is_socket() {
        "a socket"
    } else {
        "a special file"
    }
}

#[cfg(not(unix))]
fn describe(_kind: &fs::FileType) -> &'static str {
    "a special file"
}

#[cfg(test)]
mod tests;
