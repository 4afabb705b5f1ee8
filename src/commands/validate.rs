//! `kbundle validate`.

use std::io::Write;
use std::sync::Arc;

use rayon::prelude::*;
use regex::Regex;

use crate::actions::{self, summary};
use crate::commands::args::{RuleArgs, ValidateArgs};
use crate::error::{Error, Outcome, Result};
use crate::http::HttpFetcher;
use crate::manifest::{Input, Source, discover, read_input};
use crate::report::{Report, ResourceResult, Settings, render};
use crate::validate::schema::{SchemaLocation, SchemaOptions, SchemaStore};
use crate::validate::{self, ConfigSyncRules, KindSet, Rules};

pub fn run(args: ValidateArgs) -> Result<Outcome> {
    let ignore = args
        .ignore_filename_pattern
        .iter()
        .map(|p| {
            Regex::new(p).map_err(|e| Error::new(format!("--ignore-filename-pattern {p:?}: {e}")))
        })
        .collect::<Result<Vec<_>>>()?;
    let started = std::time::Instant::now();
    let inputs = discover(&args.paths, &ignore).map_err(|e| Error::new(e.to_string()))?;
    let report = judge_with(
        &args.rules,
        &inputs,
        args.exit_on_error,
        args.reject_unknown_files,
    )?;
    if let Some(path) = &args.report {
        write_report(path, &report)?;
    }
    if actions::active() {
        set_totals(&report)?;
        let shown = args.report.as_ref().map(|p| p.display().to_string());
        let md = summary::validate(
            &report,
            &summary::Links::from_env(),
            started.elapsed().as_secs_f64(),
            shown.as_deref(),
        );
        actions::append_summary(&md)
            .map_err(|e| Error::new(format!("$GITHUB_STEP_SUMMARY: {e}")))?;
    }
    print(
        &report,
        args.output,
        Settings {
            verbose: args.verbose,
            summary: args.summary,
        },
    )?;
    if args.comment {
        super::comment::on_pull_request(&report)?;
    }
    Ok(Outcome::from_passed(report.passed()))
}

/// The outputs `valid` and `invalid` (invalid resources plus errors).
pub(super) fn set_totals(report: &Report) -> Result<()> {
    let s = report.summary();
    set_output("valid", &s.valid.to_string())?;
    set_output("invalid", &(s.invalid + s.errors).to_string())
}

fn set_output(name: &str, value: &str) -> Result<()> {
    actions::set_output(name, value)
        .map_err(|e| Error::new(format!("$GITHUB_OUTPUT: cannot write output {name}: {e}")))
}

/// In Actions, the problems as line annotations, in the log beside the rest of the step.
pub(super) fn annotations(report: &Report) -> Result<()> {
    if !actions::active() {
        return Ok(());
    }
    let mut out = Vec::new();
    render(
        report,
        crate::report::Format::Github,
        Settings::default(),
        &mut out,
    )
    .map_err(|e| Error::new(format!("cannot render the annotations: {e}")))?;
    for line in String::from_utf8_lossy(&out).lines() {
        actions::log(line);
    }
    Ok(())
}

/// Writes the JSON report (kubeconform's shape, every resource, with lines and totals) and
/// names it as the output `report`.
pub(super) fn write_report(path: &std::path::Path, report: &Report) -> Result<()> {
    let mut json = Vec::new();
    let settings = Settings {
        verbose: true,
        summary: true,
    };
    render(report, crate::report::Format::Json, settings, &mut json)
        .map_err(|e| Error::new(e.to_string()))?;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| Error::new(format!("{}: {e}", dir.display())))?;
    }
    super::write_atomically(path, &json, Some(0o644))?;
    set_output("report", &path.display().to_string())
}

/// Validates inputs under the given rules; shared with `push`, which validates first.
pub fn judge(args: &RuleArgs, inputs: &[Input], exit_on_error: bool) -> Result<Report> {
    judge_with(args, inputs, exit_on_error, false)
}

/// [`judge`], failing documents that are no Kubernetes resource when `reject_unknown_files`.
pub fn judge_with(
    args: &RuleArgs,
    inputs: &[Input],
    exit_on_error: bool,
    reject_unknown_files: bool,
) -> Result<Report> {
    let workers = args.workers.map_or_else(
        || std::thread::available_parallelism().map_or(1, usize::from),
        usize::from,
    );
    let pool = validate::pool(workers)
        .map_err(|e| Error::new(format!("cannot start {workers} workers: {e}")))?;

    let locations = if args.schema_locations.is_empty() {
        vec![SchemaLocation::Embedded]
    } else {
        args.schema_locations.clone()
    };
    let cache = args.cache.clone().or_else(HttpFetcher::default_cache_dir);
    let options = SchemaOptions {
        version: args.kubernetes_version,
        strict: args.strict,
        locations,
    };
    let fetcher = if args.insecure_skip_tls_verify {
        HttpFetcher::new(cache).insecure()
    } else {
        HttpFetcher::new(cache)
    };
    let mut store = SchemaStore::new(options, Arc::new(fetcher)).map_err(Error::new)?;

    for path in &args.crd {
        let crd_inputs = discover(std::slice::from_ref(path), &[])
            .map_err(|e| Error::new(format!("--crd {e}")))?;
        let sources = crd_inputs
            .iter()
            .map(|i| read_input(i).map_err(|e| Error::new(format!("--crd {e}"))))
            .collect::<Result<Vec<_>>>()?;
        let files = pool.install(|| validate::files::prepare(sources));
        if validate::collect_crds(&files, &mut store) == 0 {
            return Err(Error::new(format!(
                "--crd {}: no CustomResourceDefinition found; point it at CRD manifests",
                path.display()
            )));
        }
    }

    let (sources, unreadable) = pool.install(|| read_all(inputs));
    let files = pool.install(|| validate::files::prepare(sources));
    let crds = validate::collect_crds(&files, &mut store);
    tracing::debug!("{crds} CRD versions found among the inputs");

    let rules = Rules {
        skip: KindSet::parse(&args.skip),
        reject: KindSet::parse(&args.reject),
        ignore_missing_schemas: args.ignore_missing_schemas,
        configsync: match (args.configsync, args.no_configsync) {
            (_, true) => ConfigSyncRules::Off,
            (true, false) => ConfigSyncRules::On,
            (false, false) => ConfigSyncRules::Auto,
        },
        exit_on_error,
        reject_unknown_files,
    };
    let mut report = pool.install(|| validate::run(files, &store, &rules));
    report.files += unreadable.len();
    report.resources.extend(unreadable);
    Ok(report)
}

/// Reads every input; one that cannot be read becomes an error result of its own.
fn read_all(inputs: &[Input]) -> (Vec<Source>, Vec<ResourceResult>) {
    let read: Vec<_> = inputs.par_iter().map(read_input).collect();
    let mut sources = Vec::with_capacity(read.len());
    let mut unreadable = Vec::new();
    for r in read {
        match r {
            Ok(s) => sources.push(s),
            Err(e) => unreadable.push(ResourceResult::file_error(
                Arc::from(e.path.as_str()),
                e.message,
                Default::default(),
            )),
        }
    }
    (sources, unreadable)
}

/// Prints a report on stdout; a reader that closed the pipe (`| head`) is not an error.
pub fn print(report: &Report, format: crate::report::Format, settings: Settings) -> Result<()> {
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let written = render(report, format, settings, &mut out).and_then(|()| out.flush());
    match written {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(Error::new(format!("cannot write the report: {e}")))
        }
        _ => Ok(()),
    }
}
