//! `kbundle publish`: validate → bundle → push → sign → bump, one step, with timings.

use std::path::{Path, PathBuf};

use super::step::{self, Step};
use crate::actions::{self, summary};
use crate::bundle::Digest;
use crate::commands::args::{PublishArgs, SignMode};
use crate::error::{Error, Outcome, Result};
use crate::oci::Store;
use crate::report::{Format, Settings};
use crate::signing::{self, keys};

/// Where the offline default keeps its generated key pair.
const DEFAULT_KEY: &str = ".kbundle/cosign.key";

pub fn run(args: PublishArgs) -> Result<Outcome> {
    // A fleet file that cannot take the result is found out before anything is pushed.
    if args.fleet_file.is_some() {
        let placeholder = Digest::of(b"");
        fleet_image(
            &args,
            &super::push::pinned(&args.image, &placeholder),
            &placeholder,
        )?;
    }
    let links = summary::Links::from_env();
    let report_path = args.report.display().to_string();
    let mut steps = Vec::new();

    // validate
    let step = Step::start("validate");
    let entries = without_own_files(super::bundle::select(&args.paths, &args.select)?, &args);
    let report = super::push::validate_entries(&args.rules, &entries)?;
    super::validate::write_report(&args.report, &report)?;
    super::validate::set_totals(&report)?;
    let s = report.summary();
    if args.github_annotations {
        super::validate::annotations(&report)?;
    }
    if !report.passed() {
        let mut text = Vec::new();
        crate::report::render(&report, Format::Text, Settings::default(), &mut text)
            .map_err(|e| Error::new(e.to_string()))?;
        for line in String::from_utf8_lossy(&text).lines() {
            actions::log(line);
        }
        steps.push(step.failed(&format!("{} invalid, {} errors", s.invalid, s.errors)));
    } else {
        steps.push(step.done(&format!("{} resources valid", s.valid)));
    }
    if args.comment {
        steps.extend(super::comment::on_pull_request(&report)?);
    }
    if !report.passed() {
        for name in [
            "signature",
            "pull-request-url",
            "pull-request-number",
            "operation",
        ] {
            set_output(name, "")?;
        }
        let published = summary::Published {
            report: &report,
            report_path: &report_path,
            pinned: None,
            signature: summary::Signature::None,
            fleet: None,
            steps: &steps,
        };
        append_summary(&summary::publish(&published, &links))?;
        actions::annotate(
            "error",
            "kbundle publish",
            &format!(
                "not pushed: {} invalid resource(s), {} error(s); fix them (each is listed with its file and line above and in {report_path})",
                s.invalid, s.errors
            ),
        );
        return Ok(Outcome::Failed);
    }

    // bundle + push
    let step = Step::start("push");
    let annotations = super::push::annotations(&args.paths, None, None, &args.annotation)?;
    let digest = super::push::upload(
        &args.image,
        args.artifact,
        &entries,
        &annotations,
        &args.registry,
    )?;
    let pinned = super::push::pinned(&args.image, &digest);
    if let crate::oci::ImageRef::Layout { dir, .. } = &args.image {
        actions::claim(dir);
    }
    steps.push(step.done(&pinned));
    set_output("digest", digest.as_str())?;
    set_output("image", &pinned)?;

    // sign
    let (signature, signed) = match args.sign {
        SignMode::None => {
            steps.push(step::skipped("sign", "--sign none"));
            (
                "not signed (--sign none)".to_owned(),
                summary::Signature::None,
            )
        }
        SignMode::Keyless => {
            let step = Step::start("sign");
            let connect = super::connect(&args.image, &args.registry)?;
            let store =
                Store::for_pull(&args.image, connect).map_err(|e| Error::new(e.to_string()))?;
            let signed = super::sign::keyless(
                &store,
                &args.image,
                &digest,
                &args.sigstore,
                &Default::default(),
                &super::runtime()?,
                args.signature_format,
            )?;
            steps.push(step.done(&format!(
                "keyless as {} (rekor log index {})",
                signed.identity, signed.log_index
            )));
            set_output(
                "signature",
                &format!(
                    "{digest} signed keyless as {} (issuer {}), rekor log index {}",
                    signed.identity, signed.issuer, signed.log_index
                ),
            )?;
            (
                format!(
                    "signed keylessly as {} (issuer {}); rekor log index {}",
                    signed.identity, signed.issuer, signed.log_index
                ),
                summary::Signature::Keyless {
                    public_rekor: args.sigstore.rekor_url.trim_end_matches('/')
                        == crate::signing::keyless::DEFAULT_REKOR_URL,
                    identity: signed.identity,
                    issuer: signed.issuer,
                    log_index: signed.log_index,
                },
            )
        }
        SignMode::Key => {
            let step = Step::start("sign");
            let key = sign(&args, &digest)?;
            steps.push(step.done(&format!("{} ({})", key.fingerprint, key.private_key)));
            set_output(
                "signature",
                &format!("{digest} signed with cosign key {}", key.fingerprint),
            )?;
            (
                format!(
                    "signed with cosign key {}; the signature verified after the push",
                    key.fingerprint
                ),
                summary::Signature::Key {
                    fingerprint: key.fingerprint,
                    public_key: key.public_pem,
                    public_key_path: key.public_path,
                    private_key: key.private_key,
                },
            )
        }
    };

    // bump
    let mut fleet_summary = None;
    let mut pull_request = false;
    if let Some(file) = &args.fleet_file {
        let step = Step::start("bump");
        let image = fleet_image(&args, &pinned, &digest)?;
        // The diff for the pull request and the summary: from what the file pointed at to
        // the bundle just pushed.
        let fleet_diff = super::diff::FleetDiff::new(
            super::diff::by_digest(&args.image, &digest)?,
            &args.registry,
        );
        let what = match &args.fleet_repo {
            Some(repo) => {
                let fleet = super::bump::Fleet {
                    repo,
                    file,
                    file_flag: "--fleet-file",
                    image: &image,
                    pin: args.pin,
                    name: None,
                    base: args.fleet_base.as_deref(),
                    branch: None,
                    labels: &[],
                    reviewers: &[],
                    team_reviewers: &[],
                    draft: false,
                    github: &args.github,
                    validation: Some(crate::report::read::totals(s)),
                    signature: Some(signature.clone()),
                    diff: (!args.no_diff).then_some(&fleet_diff),
                };
                let outcome = super::bump::open_or_update(&fleet)?;
                if let crate::github::pull_request::Operation::Refused(r) = &outcome.operation {
                    eprintln!("kbundle: error: {}", super::bump::refused(&fleet, r)?);
                    return Ok(Outcome::Failed);
                }
                let commit = super::bump::describe_commit(&outcome);
                if let Some(line) = &commit {
                    eprintln!("{line}");
                }
                pull_request = true;
                let what = super::bump::describe_outcome(&fleet, &outcome)?;
                fleet_summary = Some(summary::Fleet {
                    file: format!("{repo}: {}", file.display()),
                    changes: vec![what.clone()],
                    pull: outcome.pull.as_ref().map(|p| {
                        (
                            p.html_url.clone(),
                            p.number,
                            outcome.operation.output().to_owned(),
                        )
                    }),
                    commit,
                    diff: fleet_diff
                        .summary(super::diff::SUMMARY_BUDGET)
                        .filter(|_| !args.no_diff),
                });
                what
            }
            None => {
                let target = super::bump::link_target(file)?;
                let text = std::fs::read_to_string(&target)
                    .map_err(|e| Error::new(format!("{}: {e}", file.display())))?;
                let edit = crate::gitops::bump(&text, &image, args.pin, None).map_err(|e| {
                    // The edit names the image it was given as --image; here that is
                    // --fleet-image when one is set.
                    let e = e.to_string();
                    let e = match &args.fleet_image {
                        Some(_) => e.replace("--image", "--fleet-image"),
                        None => e,
                    };
                    Error::new(format!("{}: {e}", file.display()))
                })?;
                let shown = file.display().to_string();
                fleet_summary = Some(summary::Fleet {
                    file: links.repo_path(&shown).unwrap_or_else(|| shown.clone()),
                    changes: edit
                        .changes
                        .iter()
                        .map(|c| {
                            let old = if c.old.is_empty() { "(none)" } else { &c.old };
                            format!(
                                "line {}: {} {} {}: {old} → {}",
                                c.line, c.kind, c.name, c.field, c.new
                            )
                        })
                        .collect(),
                    pull: None,
                    commit: None,
                    diff: (!args.no_diff)
                        .then(|| fleet_diff.section(&edit.changes, super::diff::SUMMARY_BUDGET))
                        .filter(|d| !d.is_empty()),
                });
                if edit.changes.is_empty() {
                    format!("{shown} up to date")
                } else {
                    super::write_atomically(&target, edit.text.as_bytes(), None)?;
                    format!("{shown} now points at {digest}")
                }
            }
        };
        steps.push(step.done(&what));
    }
    if !pull_request {
        set_output("pull-request-url", "")?;
        set_output("pull-request-number", "")?;
        set_output("operation", "")?;
    }
    let published = summary::Published {
        report: &report,
        report_path: &report_path,
        pinned: Some(pinned.clone()),
        signature: signed,
        fleet: fleet_summary,
        steps: &steps,
    };
    append_summary(&summary::publish(&published, &links))?;
    println!("{pinned}");
    Ok(Outcome::Passed)
}

/// Leaves kbundle's own files out of the bundle: the `.kbundle/` folder (report, OCI layout,
/// key pair), the report and an OCI layout folder being pushed to. Publishing `.` twice
/// would otherwise bundle, and validate, the first run's output.
fn without_own_files(
    entries: Vec<crate::bundle::Entry>,
    args: &PublishArgs,
) -> Vec<crate::bundle::Entry> {
    let canonical = |p: &Path| p.canonicalize().ok();
    let mut own: Vec<PathBuf> = [Path::new(".kbundle"), args.report.as_path()]
        .into_iter()
        .filter_map(canonical)
        .collect();
    if let crate::oci::ImageRef::Layout { dir, .. } = &args.image {
        own.extend(canonical(dir));
    }
    entries
        .into_iter()
        .filter(|e| {
            canonical(&e.source).is_none_or(|source| !own.iter().any(|o| source.starts_with(o)))
        })
        .collect()
}

/// What the fleet file should name: `--fleet-image` with the pushed digest, or the pushed image.
fn fleet_image(
    args: &PublishArgs,
    pinned: &str,
    digest: &Digest,
) -> Result<crate::gitops::NewImage> {
    match &args.fleet_image {
        Some(name) => {
            if name.contains('@') {
                return Err(Error::new(format!(
                    "--fleet-image {name}: leave the digest out; publish adds the one it pushed"
                )));
            }
            format!("{name}@{digest}")
                .parse()
                .map_err(|e: String| Error::new(format!("--fleet-image: {e}")))
        }
        None if matches!(args.image, crate::oci::ImageRef::Layout { .. }) => {
            Err(Error::new(format!(
                "--fleet-file: --image {} is an OCI layout folder, which a cluster cannot pull; \
             add --fleet-image REGISTRY/REPOSITORY[:TAG] naming where the bundle will be \
             promoted (`kbundle promote` keeps the digest)",
                args.image
            )))
        }
        None => pinned
            .parse()
            .map_err(|e: String| Error::new(format!("--fleet-file: {e}"))),
    }
}

fn set_output(name: &str, value: &str) -> Result<()> {
    actions::set_output(name, value)
        .map_err(|e| Error::new(format!("$GITHUB_OUTPUT: cannot write output {name}: {e}")))
}

fn append_summary(markdown: &str) -> Result<()> {
    actions::append_summary(markdown).map_err(|e| Error::new(format!("$GITHUB_STEP_SUMMARY: {e}")))
}

/// What a key signature used, for the log, the outputs and the summary.
struct KeySigned {
    fingerprint: String,
    public_pem: String,
    /// Where the public key is, when kbundle wrote it or found it beside the private key.
    public_path: Option<String>,
    /// Where the private key is, or that it was not kept.
    private_key: String,
}

/// Signs with the given key, or with the offline default's key pair (made when missing),
/// and checks the signature it wrote.
fn sign(args: &PublishArgs, digest: &Digest) -> Result<KeySigned> {
    let password_env = std::env::var_os("COSIGN_PASSWORD");
    let (key, private_key, public_path) = match &args.key {
        Some(path) => {
            let what = path.display().to_string();
            let password = keys::read_password(password_env, &what)
                .map_err(|e| Error::new(format!("{what}: {e}")))?;
            (
                load_key(path, password.expose())?,
                format!("key {what}"),
                None,
            )
        }
        None => {
            // The offline default must run unattended: no password unless one is set.
            let password = password_env
                .map(|p| p.to_string_lossy().into_owned())
                .unwrap_or_default();
            default_key(&password)?
        }
    };
    let connect = super::connect(&args.image, &args.registry)?;
    let store = Store::for_pull(&args.image, connect).map_err(|e| Error::new(e.to_string()))?;
    let public = key.public_key();
    let format = args.signature_format;
    let verified = super::runtime()?
        .block_on(async {
            if format.legacy() {
                let repository = args.image.repository();
                signing::sign(&store, digest, &repository, &key, &Default::default()).await?;
            }
            if format.bundle() {
                signing::sign_bundle(&store, digest, &key, &Default::default()).await?;
            }
            let signatures = signing::all_signatures(&store, digest, &Default::default()).await?;
            let trust = signing::Trust::Keys(vec![public.clone()]);
            let verdicts = trust.judge_all(&signatures, digest, &Default::default());
            // Every format asked for must hold: legacy layers come first, bundles after.
            let legacy = signatures.legacy.len();
            let holds = |bundle: bool| {
                verdicts
                    .iter()
                    .any(|v| v.result.is_ok() && (v.layer > legacy) == bundle)
            };
            Ok::<_, signing::SignError>(
                (!format.legacy() || holds(false)) && (!format.bundle() || holds(true)),
            )
        })
        .map_err(|e| Error::new(e.to_string()))?;
    if !verified {
        return Err(Error::new(format!(
            "{}: the signature just written does not verify; check the registry",
            args.image
        )));
    }
    Ok(KeySigned {
        fingerprint: public.fingerprint().to_string(),
        public_pem: public.to_pem(),
        public_path,
        private_key,
    })
}

/// The offline default's key pair: `.kbundle/cosign.key` when it exists, else a new one.
///
/// Outside Actions the new pair is kept in `.kbundle/`. In Actions the private key stays out
/// of the workspace, where a later `upload-artifact` or commit would publish it: it is kept
/// in `RUNNER_TEMP` when that folder is reachable (a run step; later steps of the job reuse
/// it) and otherwise not kept at all (a container action, whose `RUNNER_TEMP` names a host
/// folder that is not mounted). The public key goes to `.kbundle/cosign.pub` either way and
/// is printed with its fingerprint.
fn default_key(password: &str) -> Result<(keys::PrivateKey, String, Option<String>)> {
    let path = PathBuf::from(DEFAULT_KEY);
    let public = path.with_extension("pub");
    let public_shown = Some(public.display().to_string()).filter(|_| public.exists());
    if path.exists() {
        return Ok((
            load_key(&path, password)?,
            format!("key {DEFAULT_KEY}"),
            public_shown,
        ));
    }
    let kept = actions::active().then(runner_temp_key).flatten();
    if let Some(kept) = kept.as_ref().filter(|k| k.exists()) {
        let key = load_key(kept, password)?;
        write_public(&public, &key)?;
        let what = format!("key {} from an earlier step", kept.display());
        return Ok((key, what, Some(public.display().to_string())));
    }
    let key = keys::PrivateKey::generate();
    let pem = key
        .to_cosign_pem(password.as_bytes())
        .map_err(|e| Error::new(e.to_string()))?;
    let where_kept = if !actions::active() {
        write_private(&path, &pem)?;
        actions::log(&format!(
            "  generated {} and {} (keep the .key private)",
            path.display(),
            public.display()
        ));
        format!("key {DEFAULT_KEY}, generated")
    } else if let Some(kept) = &kept {
        write_private(kept, &pem)?;
        format!(
            "generated; the private key is kept outside the workspace in {}",
            kept.display()
        )
    } else {
        "generated for this run; the private key was not kept".to_owned()
    };
    write_public(&public, &key)?;
    if actions::active() {
        actions::log(&format!(
            "  {where_kept}; public key {} in {}:",
            key.public_key().fingerprint(),
            public.display()
        ));
        for line in key.public_key().to_pem().lines() {
            actions::log(&format!("  {line}"));
        }
    }
    Ok((key, where_kept, Some(public.display().to_string())))
}

/// `RUNNER_TEMP/kbundle-cosign.key` when RUNNER_TEMP is a folder this process can reach.
fn runner_temp_key() -> Option<PathBuf> {
    let dir = PathBuf::from(std::env::var_os("RUNNER_TEMP").filter(|d| !d.is_empty())?);
    dir.is_dir().then(|| dir.join("kbundle-cosign.key"))
}

fn write_private(path: &Path, pem: &str) -> Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| Error::new(format!("{}: {e}", dir.display())))?;
    }
    super::write_atomically(path, pem.as_bytes(), Some(0o600))
}

fn write_public(path: &Path, key: &keys::PrivateKey) -> Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| Error::new(format!("{}: {e}", dir.display())))?;
    }
    super::write_atomically(path, key.public_key().to_pem().as_bytes(), Some(0o644))
}

fn load_key(path: &Path, password: &str) -> Result<keys::PrivateKey> {
    let pem = std::fs::read_to_string(path)
        .map_err(|e| Error::new(format!("{}: {e}", path.display())))?;
    keys::PrivateKey::from_cosign_pem(&pem, password.as_bytes())
        .map_err(|e| Error::new(format!("{}: {e}", path.display())))
}
