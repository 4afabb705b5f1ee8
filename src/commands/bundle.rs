//! `kbundle bundle`.

use std::io::Write;
use std::path::Path;

use crate::bundle::{self, Entry};
use crate::cli::{ArchiveFormat, BundleArgs, SelectArgs};
use crate::error::{Error, Outcome, Result};

pub fn run(args: BundleArgs) -> Result<Outcome> {
    let entries = select(&args.paths, &args.select)?;
    let tar = bundle::tar(&entries).map_err(|e| Error::new(e.to_string()))?;
    let format = args.format.unwrap_or_else(|| format_for(&args.output));
    let bytes = match format {
        ArchiveFormat::Tar => tar,
        ArchiveFormat::Tgz => bundle::gzip(&tar),
    };
    write_atomically(&args.output, &bytes)?;
    let files = entries.iter().filter(|e| !e.is_dir).count();
    eprintln!(
        "wrote {} ({} files, {} bytes, {})",
        args.output.display(),
        files,
        bytes.len(),
        bundle::Digest::of(&bytes)
    );
    Ok(Outcome::Passed)
}

/// The entries a bundle of these paths holds.
pub fn select(paths: &[std::path::PathBuf], select: &SelectArgs) -> Result<Vec<Entry>> {
    let options = bundle::Options {
        ignore: select.ignore.clone(),
    };
    let entries = bundle::entries(paths, &options).map_err(|e| Error::new(e.to_string()))?;
    if !entries.iter().any(|e| !e.is_dir) {
        return Err(Error::new(format!(
            "{}: nothing to bundle (no files left after ignores)",
            paths
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    Ok(entries)
}

fn format_for(path: &Path) -> ArchiveFormat {
    let name = path.to_string_lossy();
    if name.ends_with(".tar.gz") || name.ends_with(".tgz") {
        ArchiveFormat::Tgz
    } else {
        ArchiveFormat::Tar
    }
}

/// Writes beside the target and renames, so a failure never leaves half a file.
fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let fail = |e: std::io::Error| Error::new(format!("{}: {e}", path.display()));
    let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(fail)?;
    tmp.write_all(bytes).map_err(fail)?;
    tmp.as_file().sync_all().map_err(fail)?;
    tmp.persist(path).map_err(|e| fail(e.error))?;
    Ok(())
}
