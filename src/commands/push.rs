//! `kbundle push`: validate, bundle, push; print `REPOSITORY:TAG@DIGEST`.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Instant;

use crate::bundle::{self, Entry};
use crate::cli::PushArgs;
use crate::error::{Error, Outcome, Result};
use crate::manifest::Input;
use crate::oci::{self, Store};
use crate::report::{Format, Settings};

const SOURCE: &str = "org.opencontainers.image.source";
const REVISION: &str = "org.opencontainers.image.revision";
const CREATED: &str = "org.opencontainers.image.created";

pub fn run(args: PushArgs) -> Result<Outcome> {
    let entries = super::bundle::select(&args.paths, &args.select)?;
    if !args.no_validate && !validate(&args, &entries)? {
        return Ok(Outcome::Failed);
    }
    let tar = bundle::tar(&entries).map_err(|e| Error::new(e.to_string()))?;
    let artifact = bundle::build(args.artifact, &tar, &annotations(&args)?);

    let connect = super::connect(&args.image, &args.registry)?;
    let store = Store::for_push(&args.image, connect).map_err(|e| Error::new(e.to_string()))?;
    let progress = super::progress("pushing");
    let started = Instant::now();
    let pushed =
        super::runtime()?.block_on(oci::push(&store, &artifact, args.image.tag(), &progress));
    progress.finish_and_clear();
    let (digest, stats) = pushed.map_err(|e| {
        Error::new(format!(
            "{e}; the tag was not written, so {} is unchanged",
            args.image
        ))
    })?;
    tracing::info!(
        "pushed in {:.2?}: {} blobs uploaded ({} bytes), {} already there",
        started.elapsed(),
        stats.uploaded,
        stats.bytes,
        stats.already_there
    );
    match args.image.tag() {
        Some(tag) => println!("{}:{tag}@{digest}", args.image.repository()),
        None => println!("{}@{digest}", args.image.repository()),
    }
    Ok(Outcome::Passed)
}

/// Validates the manifests in the bundle; on failure prints why on stderr.
fn validate(args: &PushArgs, entries: &[Entry]) -> Result<bool> {
    let inputs: Vec<Input> = entries
        .iter()
        .filter(|e| !e.is_dir)
        .filter(|e| {
            Path::new(&e.path)
                .extension()
                .is_some_and(|x| x == "yaml" || x == "yml" || x == "json")
        })
        .map(|e| Input::File(e.source.clone()))
        .collect();
    let report = super::validate::judge(&args.rules, &inputs, false)?;
    if report.passed() {
        return Ok(true);
    }
    let mut text = Vec::new();
    crate::report::render(&report, Format::Text, Settings::default(), &mut text)
        .map_err(|e| Error::new(e.to_string()))?;
    eprint!("{}", String::from_utf8_lossy(&text));
    let s = report.summary();
    eprintln!(
        "kbundle: not pushed: {} invalid resource(s), {} error(s); fix them or pass --no-validate",
        s.invalid, s.errors
    );
    Ok(false)
}

/// The manifest annotations: source, revision and creation time from the flags or the
/// GitHub Actions environment, then the user's own (which win).
fn annotations(args: &PushArgs) -> Result<BTreeMap<String, String>> {
    let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    let mut out = BTreeMap::new();
    let source = args.source.clone().or_else(|| {
        Some(format!(
            "{}/{}",
            env("GITHUB_SERVER_URL")?,
            env("GITHUB_REPOSITORY")?
        ))
    });
    if let Some(source) = source {
        out.insert(SOURCE.to_owned(), source);
    }
    if let Some(revision) = args.revision.clone().or_else(|| env("GITHUB_SHA")) {
        out.insert(REVISION.to_owned(), revision);
    }
    if let Some(created) = created(&args.paths)? {
        out.insert(CREATED.to_owned(), created);
    }
    for (k, v) in &args.annotation {
        out.insert(k.clone(), v.clone());
    }
    Ok(out)
}

/// The creation time, reproducibly: `SOURCE_DATE_EPOCH`, else the last commit's time of the
/// bundled folder, else none at all (rather than the clock, which would change the digest).
fn created(paths: &[std::path::PathBuf]) -> Result<Option<String>> {
    let epoch = match std::env::var("SOURCE_DATE_EPOCH") {
        Ok(v) if !v.is_empty() => Some(v.trim().parse::<i64>().map_err(|_| {
            Error::new(format!(
                "SOURCE_DATE_EPOCH={v:?} is not a number of seconds since 1970"
            ))
        })?),
        _ => commit_time(paths.first().map(|p| p.as_path())),
    };
    Ok(epoch
        .and_then(|s| chrono::DateTime::from_timestamp(s, 0))
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)))
}

fn commit_time(path: Option<&Path>) -> Option<i64> {
    let path = path?;
    let dir = if path.is_dir() { path } else { path.parent()? };
    let dir = if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    };
    let out = std::process::Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(["log", "-1", "--format=%ct", "--", "."])
        .stderr(std::process::Stdio::null())
        .output()
        .ok()?;
    String::from_utf8(out.stdout).ok()?.trim().parse().ok()
}
