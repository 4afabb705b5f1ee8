//! kbundle.yaml (`cli::config`): the settings file `publish` splices into its command line.
//!
//! Invariants: no panic; an accepted file gives arguments that clap either parses or refuses
//! with a usage error (never a panic), spliced after `publish` with the command line kept.
#![no_main]

#[path = "../common/scratch.rs"]
mod scratch;

use std::ffi::OsString;
use std::sync::OnceLock;

use clap::{CommandFactory, Parser};
use kbundle::cli::{Cli, config};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let path = scratch::dir().join("kbundle.yaml");
    std::fs::write(&path, data).expect("scratch write");
    let argv: Vec<OsString> = ["kbundle", "publish", "--config"]
        .into_iter()
        .map(OsString::from)
        .chain([path.clone().into_os_string()])
        .collect();
    // Building the command once: it does not depend on the input.
    static PARSED: OnceLock<(clap::Command, clap::ArgMatches)> = OnceLock::new();
    let (command, given) = PARSED.get_or_init(|| {
        let command = Cli::command();
        let given = command
            .clone()
            .try_get_matches_from(&argv)
            .expect("the fixed command line parses");
        (command, given)
    });
    match config::apply(&argv, given, command) {
        Ok(None) => {}
        Ok(Some(spliced)) => {
            assert_eq!(
                &spliced[..2],
                &argv[..2],
                "settings go after the subcommand"
            );
            assert!(spliced.ends_with(&argv[2..]), "the command line is kept");
            let _ = Cli::try_parse_from(spliced);
        }
        Err(e) => {
            let message = e.to_string();
            assert!(!message.is_empty());
        }
    }
});
