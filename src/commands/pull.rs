//! `kbundle pull`: fetch a bundle and unpack it as Config Sync would.

use std::path::Path;

use crate::bundle;
use crate::cli::PullArgs;
use crate::error::{Error, Outcome, Result};
use crate::oci::{self, Store};

pub fn run(args: PullArgs) -> Result<Outcome> {
    let dest = &args.output;
    let existing = match std::fs::read_dir(dest) {
        Ok(mut entries) => {
            if entries.next().is_some() {
                return Err(Error::new(format!(
                    "{}: the folder is not empty; pull into a new or empty folder",
                    dest.display()
                )));
            }
            true
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => false,
        Err(e) => return Err(Error::new(format!("{}: {e}", dest.display()))),
    };

    let connect = super::connect(&args.image, &args.registry)?;
    let store = Store::for_pull(&args.image, connect).map_err(|e| Error::new(e.to_string()))?;
    let (digest, layers) = super::runtime()?
        .block_on(oci::pull_layers(&store))
        .map_err(|e| Error::new(e.to_string()))?;

    // Unpack beside the destination and rename: a failed pull leaves nothing half-written.
    let parent = match dest.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    std::fs::create_dir_all(parent)
        .map_err(|e| Error::new(format!("{}: {e}", parent.display())))?;
    let staging = tempfile::Builder::new()
        .prefix(".kbundle-pull-")
        .tempdir_in(parent)
        .map_err(|e| Error::new(format!("{}: {e}", parent.display())))?;
    let files = bundle::unpack(&layers, staging.path())
        .map_err(|e| Error::new(format!("{}: {e}", args.image)))?;
    if existing {
        std::fs::remove_dir(dest).map_err(|e| Error::new(format!("{}: {e}", dest.display())))?;
    }
    let staged = staging.keep();
    std::fs::rename(&staged, dest).map_err(|e| {
        let _ = std::fs::remove_dir_all(&staged);
        Error::new(format!("{}: {e}", dest.display()))
    })?;
    eprintln!("unpacked {files} files into {}", dest.display());
    println!("{}@{digest}", args.image.repository());
    Ok(Outcome::Passed)
}
