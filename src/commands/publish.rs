//! `kbundle publish`: validate → bundle → push → sign → bump, one step, with timings.

use std::path::{Path, PathBuf};
use std::time::Instant;

use crate::bundle::Digest;
use crate::cli::{PublishArgs, SignMode};
use crate::error::{Error, Outcome, Result};
use crate::github::actions;
use crate::github::api::Credentials;
use crate::oci::Store;
use crate::report::{Format, Report, Settings};
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

    // validate
    let started = Instant::now();
    let group = actions::group("validate");
    let entries = super::bundle::select(&args.paths, &args.select)?;
    let report = super::push::validate_entries(&args.rules, &entries)?;
    write_report(&args.report, &report)?;
    summarize(&report)?;
    drop(group);
    if args.comment {
        comment(&report)?;
    }
    let s = report.summary();
    if !report.passed() {
        super::push::explain_failure(&report)?;
        return Ok(Outcome::Failed);
    }
    step("validate", &format!("{} resources valid", s.valid), started);

    // bundle + push
    let started = Instant::now();
    let group = actions::group("push");
    let annotations = super::push::annotations(&args.paths, None, None, &args.annotation)?;
    let digest = super::push::upload(
        &args.image,
        args.artifact,
        &entries,
        &annotations,
        &args.registry,
    )?;
    let pinned = super::push::pinned(&args.image, &digest);
    drop(group);
    step("push", &pinned, started);
    set_output("digest", digest.as_str())?;
    set_output("image", &pinned)?;

    // sign
    let signature = match args.sign {
        SignMode::None => {
            eprintln!("  sign      skipped (--sign none)");
            "not signed (--sign none)".to_owned()
        }
        SignMode::Keyless => {
            let started = Instant::now();
            let group = actions::group("sign");
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
            )?;
            drop(group);
            step(
                "sign",
                &format!(
                    "keyless as {} (rekor log index {})",
                    signed.identity, signed.log_index
                ),
                started,
            );
            format!(
                "signed keylessly as {} (issuer {}); rekor log index {}",
                signed.identity, signed.issuer, signed.log_index
            )
        }
        SignMode::Key => {
            let started = Instant::now();
            let group = actions::group("sign");
            let (fingerprint, key) = sign(&args, &digest)?;
            drop(group);
            step(
                "sign",
                &format!("{fingerprint} with {}", key.display()),
                started,
            );
            format!("signed with cosign key {fingerprint}; the signature verified after the push")
        }
    };

    // bump
    let mut pull_request = false;
    if let Some(file) = &args.fleet_file {
        let started = Instant::now();
        let image = fleet_image(&args, &pinned, &digest)?;
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
                };
                let group = actions::group("bump");
                let outcome = super::bump::open_or_update(&fleet)?;
                drop(group);
                if let crate::github::pull_request::Operation::Refused(r) = &outcome.operation {
                    eprintln!("kbundle: error: {}", super::bump::refused(&fleet, r)?);
                    return Ok(Outcome::Failed);
                }
                if let Some(line) = super::bump::describe_commit(&outcome) {
                    eprintln!("{line}");
                }
                pull_request = true;
                super::bump::describe_outcome(&fleet, &outcome)?
            }
            None => {
                let target = super::bump::link_target(file)?;
                let text = std::fs::read_to_string(&target)
                    .map_err(|e| Error::new(format!("{}: {e}", file.display())))?;
                let edit = crate::gitops::bump(&text, &image, args.pin, None)
                    .map_err(|e| Error::new(format!("{}: {e}", file.display())))?;
                if edit.changes.is_empty() {
                    format!("{} up to date", file.display())
                } else {
                    super::write_atomically(&target, edit.text.as_bytes(), None)?;
                    format!("{} now points at {digest}", file.display())
                }
            }
        };
        step("bump", &what, started);
    }
    if !pull_request {
        set_output("pull-request-url", "")?;
        set_output("pull-request-number", "")?;
    }
    println!("{pinned}");
    Ok(Outcome::Passed)
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

/// The sticky validation comment, on pull request events when a token is there.
fn comment(report: &Report) -> Result<()> {
    let var = |n: &str| std::env::var(n).ok().filter(|v| !v.is_empty());
    let event = var("GITHUB_EVENT_NAME").unwrap_or_default();
    if !matches!(event.as_str(), "pull_request" | "pull_request_target") {
        return Ok(());
    }
    if var("GITHUB_TOKEN").is_none() {
        eprintln!("  comment   skipped (no GitHub token)");
        return Ok(());
    }
    let repo = var("GITHUB_REPOSITORY").ok_or_else(|| {
        Error::new(
            "--comment: GITHUB_REPOSITORY is not set; it names the pull request's repository",
        )
    })?;
    let started = Instant::now();
    let number = super::comment::event_pr()?;
    match super::comment::upsert(&repo, &Credentials::Token, number, report) {
        Ok(what) => step("comment", &what, started),
        // The comment is feedback, not the pipeline: a pull request from a fork gets a
        // read-only token, and that must not stop its validation from being reported.
        Err(e) if actions::active() => println!(
            "::warning title=kbundle comment::{}",
            actions::escape_data(&format!(
                "the validation comment was not posted on #{number}: {e}; the report is in the job summary"
            ))
        ),
        Err(e) => eprintln!("  comment   not posted on #{number}: {e}"),
    }
    Ok(())
}

fn step(name: &str, what: &str, started: Instant) {
    eprintln!(
        "✓ {name:<9} {what} ({:.2} s)",
        started.elapsed().as_secs_f64()
    );
}

fn set_output(name: &str, value: &str) -> Result<()> {
    actions::set_output(name, value)
        .map_err(|e| Error::new(format!("$GITHUB_OUTPUT: cannot write output {name}: {e}")))
}

/// Writes the JSON report (kubeconform's shape, with lines) and names it as an output.
fn write_report(path: &Path, report: &Report) -> Result<()> {
    let mut json = Vec::new();
    let settings = Settings {
        verbose: true,
        summary: true,
    };
    crate::report::render(report, Format::Json, settings, &mut json)
        .map_err(|e| Error::new(e.to_string()))?;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| Error::new(format!("{}: {e}", dir.display())))?;
    }
    super::write_atomically(path, &json, Some(0o644))?;
    set_output("report", &path.display().to_string())
}

/// The validation table, in the job summary when running in Actions.
fn summarize(report: &Report) -> Result<()> {
    let mut md = Vec::new();
    crate::report::render(report, Format::Markdown, Settings::default(), &mut md)
        .map_err(|e| Error::new(e.to_string()))?;
    actions::append_summary(&String::from_utf8_lossy(&md))
        .map_err(|e| Error::new(format!("$GITHUB_STEP_SUMMARY: {e}")))
}

/// Signs with the given key, or with the offline default's key pair (made when missing).
/// Returns the public key's fingerprint and where the private key is.
fn sign(args: &PublishArgs, digest: &Digest) -> Result<(String, PathBuf)> {
    let password_env = std::env::var_os("COSIGN_PASSWORD");
    let (path, key) = match &args.key {
        Some(path) => {
            let what = path.display().to_string();
            let password = keys::read_password(password_env, &what)
                .map_err(|e| Error::new(format!("{what}: {e}")))?;
            (path.clone(), load_key(path, password.expose())?)
        }
        None => {
            // The offline default must run unattended: no password unless one is set.
            let password = password_env
                .map(|p| p.to_string_lossy().into_owned())
                .unwrap_or_default();
            let path = PathBuf::from(DEFAULT_KEY);
            if path.exists() {
                (path.clone(), load_key(&path, &password)?)
            } else {
                let key = keys::PrivateKey::generate();
                let pem = key
                    .to_cosign_pem(password.as_bytes())
                    .map_err(|e| Error::new(e.to_string()))?;
                if let Some(dir) = path.parent() {
                    std::fs::create_dir_all(dir)
                        .map_err(|e| Error::new(format!("{}: {e}", dir.display())))?;
                }
                super::write_atomically(&path, pem.as_bytes(), Some(0o600))?;
                let public = path.with_extension("pub");
                super::write_atomically(
                    &public,
                    key.public_key().to_pem().as_bytes(),
                    Some(0o644),
                )?;
                eprintln!(
                    "  generated {} and {} (keep the .key private)",
                    path.display(),
                    public.display()
                );
                (path, key)
            }
        }
    };
    let connect = super::connect(&args.image, &args.registry)?;
    let store = Store::for_pull(&args.image, connect).map_err(|e| Error::new(e.to_string()))?;
    let public = key.public_key();
    let verified = super::runtime()?
        .block_on(async {
            signing::sign(
                &store,
                digest,
                &args.image.repository(),
                &key,
                &Default::default(),
            )
            .await?;
            let layers = signing::signatures(&store, digest).await?;
            Ok::<_, signing::SignError>(signing::judge(
                &layers,
                digest,
                std::slice::from_ref(&public),
                &Default::default(),
            ))
        })
        .map_err(|e| Error::new(e.to_string()))?;
    if !verified.iter().any(|v| v.result.is_ok()) {
        return Err(Error::new(format!(
            "{}: the signature just written does not verify; check the registry",
            args.image
        )));
    }
    Ok((public.fingerprint().to_string(), path))
}

fn load_key(path: &Path, password: &str) -> Result<keys::PrivateKey> {
    let pem = std::fs::read_to_string(path)
        .map_err(|e| Error::new(format!("{}: {e}", path.display())))?;
    keys::PrivateKey::from_cosign_pem(&pem, password.as_bytes())
        .map_err(|e| Error::new(format!("{}: {e}", path.display())))
}
