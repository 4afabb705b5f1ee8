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

/// A count that must be at least one (a limit of zero would refuse everything).
fn parse_positive(s: &str) -> Result<usize, String> {
    match s.parse::<usize>() {
        Ok(0) => Err("give a number of at least 1".to_owned()),
        Ok(n) => Ok(n),
        Err(e) => Err(format!("{e}")),
    }
}

fn parse_annotation(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((k, v)) if !k.is_empty() => Ok((k.to_owned(), v.to_owned())),
        _ => Err(format!("{s:?} is not KEY=VALUE")),
    }
}
