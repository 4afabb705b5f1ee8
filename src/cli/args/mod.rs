//! The options of each subcommand, with their `--help` text, one file per family of commands.

use std::path::PathBuf;

use clap::{Args, ValueHint};

use crate::bundle::ArtifactKind;
use crate::oci::ImageRef;
use crate::report::Format;
use crate::validate::schema::{KubeVersion, SchemaLocation};

mod diff;
mod github;
mod oci;
mod publish;
mod signing;
mod validate;
mod webhook;

pub use diff::*;
pub use github::*;
pub use oci::*;
pub use publish::*;
pub use signing::*;
pub use validate::*;
pub use webhook::*;

fn parse_annotation(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((k, v)) if !k.is_empty() => Ok((k.to_owned(), v.to_owned())),
        _ => Err(format!("{s:?} is not KEY=VALUE")),
    }
}
