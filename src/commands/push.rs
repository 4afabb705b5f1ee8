//! `kbundle push`: validate, bundle, push; print `REPOSITORY:TAG@DIGEST`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use crate::bundle::{self, ArtifactKind, Digest, Entry};
use crate::commands::args::{PushArgs, RegistryArgs, RuleArgs};
use crate::error::{Error, Outcome, Result};
use crate::manifest::Input;
use crate::oci::{self, Connect, ImageRef, OciError, Store};
use crate::report::{Format, Report, Settings};
use oci_client::RegistryOperation;
use tokio::sync::oneshot;

const SOURCE: &str = "org.opencontainers.image.source";
const REVISION: &str = "org.opencontainers.image.revision";
const CREATED: &str = "org.opencontainers.image.created";

pub fn run(args: PushArgs) -> Result<Outcome> {
    let entries = super::bundle::select(&args.paths, &args.select)?;
    let annotations = || {
        annotations(
            &args.paths,
            args.source.clone(),
            args.revision.clone(),
            &args.annotation,
        )
    };
    // Validation runs beside the rest (building the layer, logging in, asking the registry
    // what it has), and its verdict is awaited before anything is written.
    let delivered = std::thread::scope(|s| {
        let verdict = (!args.no_validate).then(|| {
            let (tx, rx) = oneshot::channel();
            // A send fails only when the push has stopped waiting: nothing to do then.
            s.spawn(|| drop(tx.send(validate_entries(&args.rules, &entries))));
            rx
        });
        deliver(
            s,
            &args.image,
            args.artifact,
            &entries,
            annotations,
            &args.registry,
            verdict,
        )
    })?;
    match delivered {
        Delivery::Pushed(digest) => {
            println!("{}", pinned(&args.image, &digest));
            Ok(Outcome::Passed)
        }
        Delivery::Invalid(report) => {
            explain_failure(&report)?;
            Ok(Outcome::Failed)
        }
    }
}

/// `REPOSITORY:TAG@DIGEST` (or `REPOSITORY@DIGEST` for a digest reference).
pub(crate) fn pinned(image: &ImageRef, digest: &Digest) -> String {
    match image.tag() {
        Some(tag) => format!("{}:{tag}@{digest}", image.repository()),
        None => format!("{}@{digest}", image.repository()),
    }
}

/// Bundles entries into an artifact and pushes it; returns the manifest digest.
pub(crate) fn upload(
    image: &ImageRef,
    kind: ArtifactKind,
    entries: &[Entry],
    annotations: &BTreeMap<String, String>,
    registry: &RegistryArgs,
) -> Result<Digest> {
    let annotations = || Ok(annotations.clone());
    match std::thread::scope(|s| deliver(s, image, kind, entries, annotations, registry, None))? {
        Delivery::Pushed(digest) => Ok(digest),
        Delivery::Invalid(_) => Err(Error::new("not pushed: the bundle is not valid")),
    }
}

/// What came of a push.
enum Delivery {
    Pushed(Digest),
    /// The validation's verdict, when it failed; nothing was written.
    Invalid(Report),
}

/// Builds the layer (on a thread of `scope`) while the credentials are looked up, the
/// registry is logged in to and asked which blobs and tag it has; then, once `verdict` (if
/// any) has passed, writes what is missing. A failing verdict stops the rest at once and
/// wins over any other error, as when validation ran first.
fn deliver<'scope>(
    scope: &'scope std::thread::Scope<'scope, '_>,
    image: &ImageRef,
    kind: ArtifactKind,
    entries: &'scope [Entry],
    annotations: impl FnOnce() -> Result<BTreeMap<String, String>> + Send + 'scope,
    registry: &RegistryArgs,
    verdict: Option<oneshot::Receiver<Result<Report>>>,
) -> Result<Delivery> {
    let (built_tx, built) = oneshot::channel();
    scope.spawn(move || {
        let artifact = annotations().and_then(|annotations| {
            let layer = bundle::tar_gz(entries).map_err(|e| Error::new(e.to_string()))?;
            Ok(bundle::build_layer(kind, layer, &annotations))
        });
        drop(built_tx.send(artifact));
    });
    let unchanged = |e: OciError| {
        Error::new(format!(
            "{e}; the tag was not written, so {image} is unchanged"
        ))
    };
    // A layout is opened (and created) only once the verdict is in.
    let connected = matches!(image, ImageRef::Registry(_)).then(|| {
        let connect = super::connect(image, registry)?;
        Store::for_push(image, connect).map_err(|e| Error::new(e.to_string()))
    });
    let stopped = |what: &str| Error::new(format!("{what} stopped unexpectedly"));
    super::runtime()?.block_on(async {
        let prepare = async {
            let store = connected.transpose()?;
            if let Some(store) = &store {
                store
                    .login(RegistryOperation::Push)
                    .await
                    .map_err(unchanged)?;
            }
            let artifact = built.await.map_err(|_| stopped("bundling"))??;
            let plan = match &store {
                Some(store) => Some(
                    oci::plan(store, &artifact, image.tag())
                        .await
                        .map_err(unchanged)?,
                ),
                None => None,
            };
            Ok::<_, Error>((store, artifact, plan))
        };
        let mut prepare = std::pin::pin!(prepare);
        let mut prepared = None;
        if let Some(mut verdict) = verdict {
            let report = tokio::select! {
                report = &mut verdict => report,
                done = &mut prepare => {
                    prepared = Some(done);
                    verdict.await
                }
            };
            let report = report.map_err(|_| stopped("validation"))??;
            if !report.passed() {
                return Ok(Delivery::Invalid(report));
            }
        }
        let (store, artifact, plan) = match prepared {
            Some(done) => done?,
            None => prepare.await?,
        };
        let store = match store {
            Some(store) => store,
            None => {
                Store::for_push(image, Connect::default()).map_err(|e| Error::new(e.to_string()))?
            }
        };
        let plan = match plan {
            Some(plan) => plan,
            None => oci::plan(&store, &artifact, image.tag())
                .await
                .map_err(unchanged)?,
        };
        let progress = super::progress("pushing");
        let started = Instant::now();
        let written = oci::write(&store, &artifact, &plan, image.tag(), &progress).await;
        progress.finish_and_clear();
        let (digest, stats) = written.map_err(unchanged)?;
        tracing::info!(
            "pushed in {:.2?}: {} blobs uploaded ({} bytes), {} already there",
            started.elapsed(),
            stats.uploaded,
            stats.bytes,
            stats.already_there
        );
        Ok(Delivery::Pushed(digest))
    })
}

/// Validates the manifests a bundle holds under `validate`'s rules.
pub(crate) fn validate_entries(rules: &RuleArgs, entries: &[Entry]) -> Result<Report> {
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
    super::validate::judge(rules, &inputs, false)
}

/// Prints why a bundle was not pushed, on stderr (stdout stays for the pushed reference).
pub(crate) fn explain_failure(report: &Report) -> Result<()> {
    let mut text = Vec::new();
    crate::report::render(report, Format::Text, Settings::default(), &mut text)
        .map_err(|e| Error::new(e.to_string()))?;
    eprint!("{}", String::from_utf8_lossy(&text));
    let s = report.summary();
    eprintln!(
        "kbundle: not pushed: {} invalid resource(s), {} error(s); fix them or pass --no-validate",
        s.invalid, s.errors
    );
    Ok(())
}

/// The manifest annotations: source, revision and creation time from the flags or the
/// GitHub Actions environment, then the user's own (which win).
pub(crate) fn annotations(
    paths: &[PathBuf],
    source: Option<String>,
    revision: Option<String>,
    extra: &[(String, String)],
) -> Result<BTreeMap<String, String>> {
    let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    let mut out = BTreeMap::new();
    let source = source.or_else(|| {
        Some(format!(
            "{}/{}",
            env("GITHUB_SERVER_URL")?,
            env("GITHUB_REPOSITORY")?
        ))
    });
    if let Some(source) = source {
        out.insert(SOURCE.to_owned(), source);
    }
    if let Some(revision) = revision.or_else(|| env("GITHUB_SHA")) {
        out.insert(REVISION.to_owned(), revision);
    }
    if let Some(created) = created(paths)? {
        out.insert(CREATED.to_owned(), created);
    }
    for (k, v) in extra {
        out.insert(k.clone(), v.clone());
    }
    Ok(out)
}

/// The creation time, reproducibly: `SOURCE_DATE_EPOCH`, else the last commit's time of the
/// bundled folder, else none at all (rather than the clock, which would change the digest).
fn created(paths: &[PathBuf]) -> Result<Option<String>> {
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
