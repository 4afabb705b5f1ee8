//! `kbundle verify`.

use std::collections::BTreeMap;
use std::path::Path;

use crate::bundle::Digest;
use crate::commands::args::{VerifyArgs, VerifyFormat, VerifyKeyArgs};
use crate::error::{Error, Outcome, Result};
use crate::oci::{ImageRef, Store};
use crate::signing::cosign::{self, Verdict};
use crate::signing::examine::Limits;
use crate::signing::keyless::trust::TrustRoot;
use crate::signing::keyless::verify::{Matcher, Policy};
use crate::signing::keys::PublicKey;
use crate::signing::{self, SignError, Signatures, Trust};
use regex::Regex;

pub fn run(args: VerifyArgs) -> Result<Outcome> {
    let trust = load(&args.keys)?;
    let required = required(&args.keys);
    let limits = limits(&args.keys);
    let connect = super::connect(&args.image, &args.registry)?;
    let store = Store::for_pull(&args.image, connect).map_err(|e| Error::new(e.to_string()))?;
    let (digest, signatures) = super::runtime()?
        .block_on(fetch(&store, &limits))
        .map_err(|e| Error::new(e.to_string()))?;
    let verdicts = trust.judge_all(&signatures, &digest, &required);
    report(&args.image, &digest, &verdicts, signatures.note.as_deref());
    if args.output == VerifyFormat::Json {
        let reference = args.image.to_string();
        let printable = printable(&trust, signatures);
        println!(
            "{}",
            signing::verify_json_all(&verdicts, &printable, &reference)
        );
    }
    Ok(Outcome::from_passed(
        verdicts.iter().any(|v| v.result.is_ok()),
    ))
}

/// The signatures as `-o json` may show them. cosign prints a layer's Rekor bundle after
/// checking it against the log's key; only keyless verification checks it here, so with
/// `--key` the bundle is left out rather than shown as if it had been checked.
fn printable(trust: &Trust, mut signatures: Signatures) -> Signatures {
    if matches!(trust, Trust::Keys(_)) {
        for layer in &mut signatures.legacy {
            layer.annotations.remove(cosign::BUNDLE_ANNOTATION);
        }
    }
    signatures
}

/// The image's digest and its signatures, legacy (as far as `limits` reach) and bundles.
pub(crate) async fn fetch(
    store: &Store,
    limits: &Limits,
) -> std::result::Result<(Digest, Signatures), SignError> {
    store.login(oci_client::RegistryOperation::Pull).await?;
    let (digest, _) = store.manifest().await?;
    let signatures = signing::all_signatures(store, &digest, limits).await?;
    Ok((digest, signatures))
}

/// Prints one line per signature on stderr and says whether any held, and how much of the
/// `.sig` was examined when not all of it (`note`).
pub(crate) fn report(image: &ImageRef, digest: &Digest, verdicts: &[Verdict], note: Option<&str>) {
    let name = format!("{}@{digest}", image.repository());
    if verdicts.is_empty() {
        eprintln!(
            "{name}: no signatures (looked for tag {} and sigstore bundles among the referrers, {}); sign it with `kbundle sign`",
            cosign::signature_tag(digest),
            crate::oci::referrers::fallback_tag(digest)
        );
        return;
    }
    for v in verdicts {
        match &v.result {
            Ok(_) => match &v.signer {
                Some(signer) => eprintln!(
                    "{name}: signature {}: verified, signed by {signer}",
                    v.layer
                ),
                None => eprintln!("{name}: signature {}: verified", v.layer),
            },
            Err(reason) => eprintln!("{name}: signature {}: {reason}", v.layer),
        }
    }
    let good = verdicts.iter().filter(|v| v.result.is_ok()).count();
    match note {
        Some(note) => eprintln!(
            "{name}: {good} of {} signature(s) verified; {note}",
            verdicts.len()
        ),
        None => eprintln!("{name}: {good} of {} signature(s) verified", verdicts.len()),
    }
}

/// Keys when --key is given, else the keyless policy from the --certificate-* flags.
pub(crate) fn load(args: &VerifyKeyArgs) -> Result<Trust> {
    if !args.key.is_empty() {
        return load_keys(args).map(Trust::Keys);
    }
    let identity = matcher(
        args.certificate_identity.as_deref(),
        args.certificate_identity_regexp.as_deref(),
        "--certificate-identity",
    )?;
    let issuer = matcher(
        args.certificate_oidc_issuer.as_deref(),
        args.certificate_oidc_issuer_regexp.as_deref(),
        "--certificate-oidc-issuer",
    )?;
    let trust = TrustRoot::load(
        args.certificate_chain.as_deref(),
        args.rekor_public_key.as_deref(),
    )
    .map_err(Error::new)?;
    Ok(Trust::Keyless(Box::new(Policy {
        identity,
        issuer,
        trust,
    })))
}

fn matcher(exact: Option<&str>, regexp: Option<&str>, flag: &str) -> Result<Matcher> {
    match (exact, regexp) {
        (Some(want), _) => Ok(Matcher::Exact(want.to_owned())),
        (None, Some(re)) => Regex::new(re).map(Matcher::Regex).map_err(|e| {
            Error::new(format!(
                "{flag}-regexp {re:?}: not a regular expression: {e}"
            ))
        }),
        (None, None) => Err(Error::new(format!(
            "{flag}: keyless verification needs {flag} or {flag}-regexp (what the Fulcio certificate must name)"
        ))),
    }
}

/// Public keys from files and folders of `*.pub`.
pub(crate) fn load_keys(args: &VerifyKeyArgs) -> Result<Vec<PublicKey>> {
    let mut keys = Vec::new();
    for path in &args.key {
        let files: Vec<std::path::PathBuf> = if path.is_dir() {
            let mut found: Vec<_> = std::fs::read_dir(path)
                .map_err(|e| Error::new(format!("--key {}: {e}", path.display())))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "pub"))
                .collect();
            found.sort();
            found
        } else {
            vec![path.clone()]
        };
        for file in files {
            keys.push(read_public_key(&file)?);
        }
    }
    if keys.is_empty() {
        return Err(Error::new(
            "--key: no public keys found (a folder needs *.pub files)",
        ));
    }
    Ok(keys)
}

fn read_public_key(file: &Path) -> Result<PublicKey> {
    let pem = std::fs::read_to_string(file)
        .map_err(|e| Error::new(format!("--key {}: {e}", file.display())))?;
    PublicKey::from_pem(&pem).map_err(|e| Error::new(format!("--key {}: {e}", file.display())))
}

pub(crate) fn required(args: &VerifyKeyArgs) -> BTreeMap<String, String> {
    args.annotation.iter().cloned().collect()
}

/// How much of a `.sig` is examined (`--max-signatures`).
pub(crate) fn limits(args: &VerifyKeyArgs) -> Limits {
    Limits::with_layers(args.max_signatures)
}
