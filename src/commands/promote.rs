//! `kbundle promote`: verify, copy image and signatures, tag, verify again.

use crate::bundle::{Digest, MANIFEST_MEDIA_TYPE};
use crate::commands::args::PromoteArgs;
use crate::error::{Error, Outcome, Result};
use crate::oci::{OciError, Store};
use crate::signing::{SignError, cosign};

use super::verify::{fetch, limits, load, report, required};

pub fn run(args: PromoteArgs) -> Result<Outcome> {
    let trust = load(&args.keys)?;
    let required = required(&args.keys);
    let limits = limits(&args.keys);
    let Some(tag) = args.destination.tag() else {
        return Err(Error::new(format!(
            "{}: name the destination with a tag, not a digest",
            args.destination
        )));
    };
    let src = Store::for_pull(&args.source, super::connect(&args.source, &args.registry)?)
        .map_err(|e| Error::new(e.to_string()))?;
    let runtime = super::runtime()?;

    let (digest, signatures) = runtime
        .block_on(fetch(&src, &limits))
        .map_err(|e| Error::new(e.to_string()))?;
    let verdicts = trust.judge_all(&signatures, &digest, &required);
    report(&args.source, &digest, &verdicts, signatures.note.as_deref());
    if !verdicts.iter().any(|v| v.result.is_ok()) {
        eprintln!(
            "kbundle: not promoted: {} is not validly signed",
            args.source
        );
        return Ok(Outcome::Failed);
    }

    // What the tag is about to change in the cluster, before it moves.
    let shown = super::diff::before_promote(
        &args.source,
        &digest,
        &args.destination,
        &args.registry,
        args.dry_run,
    );
    if args.dry_run {
        shown?;
        eprintln!("dry run: {} was not changed", args.destination);
        return Ok(Outcome::Passed);
    }
    if let Err(e) = shown {
        eprintln!("kbundle: warning: no diff: {e}");
    }

    let dst = Store::for_push(
        &args.destination,
        super::connect(&args.destination, &args.registry)?,
    )
    .map_err(|e| Error::new(e.to_string()))?;
    runtime
        .block_on(copy(&src, &dst, &digest, tag))
        .map_err(|e| Error::new(format!("{e}; {} was not tagged", args.destination)))?;

    let (promoted, signatures) = runtime
        .block_on(fetch(&dst, &limits))
        .map_err(|e| Error::new(e.to_string()))?;
    let verdicts = trust.judge_all(&signatures, &promoted, &required);
    if promoted != digest || !verdicts.iter().any(|v| v.result.is_ok()) {
        report(
            &args.destination,
            &promoted,
            &verdicts,
            signatures.note.as_deref(),
        );
        return Err(Error::new(format!(
            "{}: the promoted copy does not verify; check the destination registry",
            args.destination
        )));
    }
    println!("{}:{tag}@{digest}", args.destination.repository());
    Ok(Outcome::Passed)
}

/// Copies the image (blobs, manifest by digest), then its `.sig` and its referrers (cosign
/// v3's bundles among them), then writes the tag.
async fn copy(
    src: &Store,
    dst: &Store,
    digest: &Digest,
    tag: &str,
) -> std::result::Result<(), SignError> {
    dst.login(oci_client::RegistryOperation::Push).await?;
    let (_, manifest) = src.manifest().await?;
    copy_blobs(src, dst, &manifest).await?;
    let media_type = media_type(&manifest);
    dst.put_manifest(&manifest, &media_type, None).await?;

    let sig_tag = cosign::signature_tag(digest);
    if let Some((_, sig_manifest)) = src.manifest_at(&sig_tag).await? {
        copy_blobs(src, dst, &sig_manifest).await?;
        dst.put_manifest(&sig_manifest, MANIFEST_MEDIA_TYPE, Some(&sig_tag))
            .await?;
    }
    crate::oci::referrers::copy_referrers(src, dst, digest).await?;
    dst.put_manifest(&manifest, &media_type, Some(tag)).await?;
    Ok(())
}

async fn copy_blobs(
    src: &Store,
    dst: &Store,
    manifest: &[u8],
) -> std::result::Result<(), OciError> {
    let value: serde_json::Value = serde_json::from_slice(manifest).unwrap_or_default();
    let config = value.get("config").into_iter();
    let layers = value
        .get("layers")
        .and_then(|l| l.as_array())
        .into_iter()
        .flatten();
    for descriptor in config.chain(layers) {
        if let Some(d) = descriptor.get("digest").and_then(|d| d.as_str()) {
            if let Ok(d) = d.parse::<Digest>() {
                dst.copy_blob_from(src, &d).await?;
            }
        }
    }
    Ok(())
}

fn media_type(manifest: &[u8]) -> String {
    serde_json::from_slice::<serde_json::Value>(manifest)
        .ok()
        .and_then(|v| v.get("mediaType")?.as_str().map(str::to_owned))
        .unwrap_or_else(|| MANIFEST_MEDIA_TYPE.to_owned())
}
