//! `kbundle pull`: fetch a bundle and unpack it as Config Sync would.

use std::fs::File;
use std::io::BufReader;
use std::path::Path;

use crate::bundle::{self, Limits, Staging, UnpackError, Unpacker};
use crate::commands::args::PullArgs;
use crate::error::{Error, Outcome, Result};
use crate::oci::{self, OciError, Store};

const SIZE_HINT: &str = "raise it with --max-unpacked-size if the bundle is trusted";
const ENTRIES_HINT: &str = "raise it with --max-entries if the bundle is trusted";

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
    let limits = Limits {
        max_unpacked: args.max_unpacked_size,
        max_entries: args.max_entries,
    };

    let connect = super::connect(&args.image, &args.registry)?;
    let store = Store::for_pull(&args.image, connect).map_err(oci_error)?;
    let runtime = super::runtime()?;
    let (digest, layers) = runtime
        .block_on(oci::image_layers(&store))
        .map_err(oci_error)?;
    // What the descriptors announce is known before any download.
    let announced = layers
        .iter()
        .fold(0u64, |sum, l| sum.saturating_add(l.size));
    if announced > limits.max_unpacked {
        return Err(Error::new(format!(
            "{}: the layers are {} together, more than the {} limit on unpacked size; {SIZE_HINT}",
            args.image,
            bytesize::ByteSize(announced).display().iec(),
            bytesize::ByteSize(limits.max_unpacked).display().iec(),
        )));
    }

    // Unpack beside the destination and rename: a failed pull leaves nothing half-written,
    // and a killed one leaves a folder the next pull here recognises and removes.
    let parent = match dest.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let at_parent = |e: std::io::Error| Error::new(format!("{}: {e}", parent.display()));
    std::fs::create_dir_all(parent).map_err(at_parent)?;
    let staging = Staging::create(parent).map_err(at_parent)?;
    let cleanup = bundle::remove_stale(parent, &staging);
    for stale in cleanup.removed {
        eprintln!(
            "removed {}, left by a pull that did not finish",
            stale.display()
        );
    }
    for old in cleanup.unproven {
        eprintln!(
            "note: {} looks like the staging folder of an older kbundle's pull; remove it if no pull is running there",
            old.display()
        );
    }
    let mut unpacker = Unpacker::new(&staging.tree(), limits);
    for (i, blob) in layers.iter().enumerate() {
        let scratch = staging.scratch(&format!("layer-{}", i + 1));
        let at_scratch = |e: std::io::Error| Error::new(format!("{}: {e}", scratch.display()));
        let mut file = File::create(&scratch).map_err(at_scratch)?;
        runtime
            .block_on(store.read_blob_to(blob, limits.max_unpacked, &mut file))
            .map_err(oci_error)?;
        drop(file);
        let file = File::open(&scratch).map_err(at_scratch)?;
        unpacker
            .layer(BufReader::new(file))
            .map_err(|e| unpack_error(&args.image, e))?;
        std::fs::remove_file(&scratch).map_err(at_scratch)?;
    }
    let files = unpacker
        .finish()
        .map_err(|e| unpack_error(&args.image, e))?;
    if existing {
        std::fs::remove_dir(dest).map_err(|e| Error::new(format!("{}: {e}", dest.display())))?;
    }
    staging
        .publish(dest)
        .map_err(|e| Error::new(format!("{}: {e}", dest.display())))?;
    eprintln!("unpacked {files} files into {}", dest.display());
    println!("{}@{digest}", args.image.repository());
    Ok(Outcome::Passed)
}

fn oci_error(e: OciError) -> Error {
    match e {
        OciError::TooLarge { .. } => Error::new(format!("{e}; {SIZE_HINT}")),
        e => Error::new(e.to_string()),
    }
}

fn unpack_error(image: &oci::ImageRef, e: UnpackError) -> Error {
    let hint = match e {
        UnpackError::TooLarge { .. } => format!("; {SIZE_HINT}"),
        UnpackError::TooManyEntries { .. } => format!("; {ENTRIES_HINT}"),
        _ => String::new(),
    };
    Error::new(format!("{image}: {e}{hint}"))
}
