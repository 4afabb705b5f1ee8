//! `kbundle.yaml`: `publish`'s flags written down once, for repositories that prefer a file.
//!
//! Each key is a long flag name of `kbundle publish` (`paths` for the folders), so the file,
//! the command line and the Action's inputs share one vocabulary and `--help` documents all
//! three. A flag given on the command line replaces the file's setting for that flag.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use clap::parser::ValueSource;
use clap::{ArgAction, ArgMatches, ValueHint};
use serde_json::Value;

use crate::error::{Error, Result};
use crate::manifest::{escape_pointer, parse_stream};

/// The file `publish` reads from the current folder when `--config` does not name one.
pub const DEFAULT_FILE: &str = "kbundle.yaml";

/// Commands that take settings from the file.
const COMMANDS: [&str; 1] = ["publish"];

/// Returns `argv` with the configuration file's settings spliced in after the subcommand, or
/// None when the command reads no file, there is none, or it sets nothing the command line
/// left unset (then `matches` stand as they are).
pub fn apply(
    argv: &[OsString],
    matches: &ArgMatches,
    command: &clap::Command,
) -> Result<Option<Vec<OsString>>> {
    let Some((name, sub_matches)) = matches.subcommand() else {
        return Ok(None);
    };
    if !COMMANDS.contains(&name) {
        return Ok(None);
    }
    let Some(sub) = command.find_subcommand(name) else {
        return Ok(None);
    };
    let explicit = sub_matches.get_one::<PathBuf>("config").cloned();
    if sub_matches.get_flag("no_config") {
        return Ok(None);
    }
    let path = match explicit {
        Some(path) => path,
        None if Path::new(DEFAULT_FILE).is_file() => PathBuf::from(DEFAULT_FILE),
        None => return Ok(None),
    };
    let text = std::fs::read_to_string(&path)
        .map_err(|e| Error::new(format!("--config {}: {e}", path.display())))?;
    let base = path.parent().unwrap_or(Path::new("")).to_path_buf();
    let settings = settings(&text, &path, &base, sub, sub_matches)?;
    if settings.is_empty() {
        return Ok(None);
    }
    // Global flags (-v) may come before the subcommand; the settings go right after it.
    let at = argv
        .iter()
        .position(|a| a == name)
        .map_or(argv.len(), |i| i + 1);
    let mut spliced = argv[..at].to_vec();
    spliced.extend(settings);
    spliced.extend_from_slice(&argv[at..]);
    Ok(Some(spliced))
}

/// Flags (then positional paths) for every setting the command line does not give itself.
fn settings(
    text: &str,
    path: &Path,
    base: &Path,
    command: &clap::Command,
    given: &ArgMatches,
) -> Result<Vec<OsString>> {
    let stream = parse_stream(text);
    if let Some(problem) = stream.errors.into_iter().next().or_else(|| {
        stream
            .documents
            .iter()
            .flat_map(|d| d.problems.first())
            .next()
            .cloned()
    }) {
        return Err(Error::new(format!(
            "{}:{}:{}: {}",
            path.display(),
            problem.pos.line,
            problem.pos.column,
            problem.message
        )));
    }
    let mut documents = stream.documents.into_iter().filter(|d| !d.value.is_null());
    let Some(document) = documents.next() else {
        return Ok(Vec::new());
    };
    if documents.next().is_some() {
        return Err(Error::new(format!(
            "{}: holds several YAML documents; write one mapping of settings",
            path.display()
        )));
    }
    let Value::Object(map) = &document.value else {
        return Err(Error::new(format!(
            "{}:{}: expected a mapping of settings (flag name: value)",
            path.display(),
            document.start.line
        )));
    };
    let at = |pointer: &str| -> String {
        let line = document
            .positions
            .locate(&document.value, pointer)
            .map_or(document.start.line, |l| l.key.unwrap_or(l.value).line);
        format!("{}:{line}", path.display())
    };
    let mut flags = Vec::new();
    let mut positionals = Vec::new();
    for (key, value) in map {
        let pointer = format!("/{}", escape_pointer(key));
        let arg = command
            .get_arguments()
            .find(|a| {
                a.get_long() == Some(key.as_str())
                    || (a.is_positional() && a.get_id() == key.as_str())
            })
            .filter(|a| {
                !a.is_hide_set() && !matches!(a.get_id().as_str(), "config" | "no_config" | "help")
            });
        let Some(arg) = arg else {
            return Err(Error::new(format!(
                "{}: unknown setting {key:?}; settings are `kbundle {} --help`'s long flag names: {}",
                at(&pointer),
                command.get_name(),
                known(command).join(", ")
            )));
        };
        if given.value_source(arg.get_id().as_str()) == Some(ValueSource::CommandLine) {
            continue;
        }
        let is_path = matches!(
            arg.get_value_hint(),
            ValueHint::AnyPath | ValueHint::FilePath | ValueHint::DirPath
        ) && !names_remote_file(key, map, given);
        let values = scalars(value, key, &at(&pointer))?;
        match arg.get_action() {
            ArgAction::SetTrue => match value {
                Value::Bool(true) => flags.push(OsString::from(format!("--{key}"))),
                Value::Bool(false) => {}
                _ => {
                    return Err(Error::new(format!(
                        "{}: {key} is a switch; write true or false",
                        at(&pointer)
                    )));
                }
            },
            ArgAction::Set | ArgAction::Append => {
                if matches!(arg.get_action(), ArgAction::Set) && values.len() > 1 {
                    return Err(Error::new(format!(
                        "{}: {key} takes one value, not a list",
                        at(&pointer)
                    )));
                }
                for v in values {
                    let v = if is_path { resolve(base, &v) } else { v };
                    if arg.is_positional() {
                        positionals.push(OsString::from(v));
                    } else {
                        flags.push(OsString::from(format!("--{key}={v}")));
                    }
                }
            }
            _ => {
                return Err(Error::new(format!(
                    "{}: {key} cannot be set in a file; give it on the command line",
                    at(&pointer)
                )));
            }
        }
    }
    flags.extend(positionals);
    Ok(flags)
}

/// A setting's values as text: a scalar, a list of scalars, or (for `KEY=VALUE` flags such as
/// `annotation`) a mapping.
fn scalars(value: &Value, key: &str, at: &str) -> Result<Vec<String>> {
    let one = |v: &Value| -> Result<String> {
        match v {
            Value::String(s) => Ok(s.clone()),
            Value::Number(n) => Ok(n.to_string()),
            Value::Bool(b) => Ok(b.to_string()),
            _ => Err(Error::new(format!(
                "{at}: {key} takes text, a number or a list of them"
            ))),
        }
    };
    match value {
        Value::Null => Ok(Vec::new()),
        Value::Array(items) => items.iter().map(one).collect(),
        Value::Object(entries) => entries
            .iter()
            .map(|(k, v)| one(v).map(|v| format!("{k}={v}")))
            .collect(),
        v => one(v).map(|s| vec![s]),
    }
}

/// `fleet-file` is a path in the fleet repository, not on this disk, once `fleet-repo` is set.
fn names_remote_file(key: &str, map: &serde_json::Map<String, Value>, given: &ArgMatches) -> bool {
    key == "fleet-file"
        && (map.contains_key("fleet-repo")
            || given.value_source("fleet_repo") == Some(ValueSource::CommandLine))
}

/// A relative path in the file is relative to the file's folder, wherever kbundle runs.
fn resolve(base: &Path, value: &str) -> String {
    let path = Path::new(value);
    if path.is_absolute() || base.as_os_str().is_empty() {
        value.to_owned()
    } else {
        base.join(path).display().to_string()
    }
}

fn known(command: &clap::Command) -> Vec<String> {
    command
        .get_arguments()
        .filter(|a| {
            !a.is_hide_set() && !matches!(a.get_id().as_str(), "config" | "no_config" | "help")
        })
        .filter_map(|a| {
            a.get_long()
                .map(str::to_owned)
                .or_else(|| a.is_positional().then(|| a.get_id().to_string()))
        })
        .collect()
}
