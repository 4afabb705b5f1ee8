//! `kbundle bundle`.

use std::path::Path;

use crate::bundle::{self, Entry};
use crate::commands::args::{ArchiveFormat, BundleArgs, SelectArgs};
use crate::error::{Error, Outcome, Result};

pub fn run(args: BundleArgs) -> Result<Outcome> {
    let entries = select(&args.paths, &args.select)?;
    let tar = bundle::tar(&entries).map_err(|e| Error::new(e.to_string()))?;
    let format = args.format.unwrap_or_else(|| format_for(&args.output));
    let bytes = match format {
        ArchiveFormat::Tar => tar,
        ArchiveFormat::Tgz => bundle::gzip(&tar),
    };
    super::write_atomically(&args.output, &bytes, Some(0o644))?;
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
