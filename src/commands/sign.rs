//! `kbundle sign`.

use std::collections::BTreeMap;

use crate::bundle::Digest;
use crate::commands::args::{SignArgs, SignatureFormat, SigstoreArgs};
use crate::error::{Error, Outcome, Result};
use crate::oci::{ImageRef, Store};
use crate::signing::{self, cosign, keyless, keys};

pub fn run(args: SignArgs) -> Result<Outcome> {
    let Some(key_path) = &args.key else {
        return run_keyless(&args);
    };
    let pem = std::fs::read_to_string(key_path)
        .map_err(|e| Error::new(format!("{}: {e}", key_path.display())))?;
    let what = key_path.display().to_string();
    let password = keys::read_password(std::env::var_os("COSIGN_PASSWORD"), &what)
        .map_err(|e| Error::new(format!("{what}: {e}")))?;
    let key = keys::PrivateKey::from_cosign_pem(&pem, password.expose().as_bytes())
        .map_err(|e| Error::new(format!("{what}: {e}")))?;

    let connect = super::connect(&args.image, &args.registry)?;
    let store = Store::for_pull(&args.image, connect).map_err(|e| Error::new(e.to_string()))?;
    let optional: BTreeMap<String, String> = args.annotation.iter().cloned().collect();
    let format = args.signature_format;
    let (digest, legacy, bundle) = super::runtime()?
        .block_on(async {
            store.login(oci_client::RegistryOperation::Push).await?;
            let (digest, _) = store.manifest().await?;
            let legacy = match format.legacy() {
                true => Some(
                    signing::sign(&store, &digest, &args.image.repository(), &key, &optional)
                        .await?,
                ),
                false => None,
            };
            let bundle = match format.bundle() {
                true => Some(signing::sign_bundle(&store, &digest, &key, &optional).await?),
                false => None,
            };
            Ok::<_, signing::SignError>((digest, legacy, bundle))
        })
        .map_err(|e| Error::new(e.to_string()))?;
    let name = format!("{}@{digest}", args.image.repository());
    let fingerprint = key.public_key().fingerprint();
    if let Some(added) = legacy {
        match added {
            true => eprintln!("signed {name} with {fingerprint}"),
            false => eprintln!("{name} already carries this signature; nothing written"),
        }
        println!(
            "{}:{}",
            args.image.repository(),
            cosign::signature_tag(&digest)
        );
    }
    if let Some(b) = bundle {
        match b.added {
            true => eprintln!(
                "signed {name} with {fingerprint}: sigstore bundle in referrer {}",
                b.referrer
            ),
            false => eprintln!(
                "{name} already carries this sigstore bundle (referrer {}); nothing written",
                b.referrer
            ),
        }
        println!("{}@{}", args.image.repository(), b.referrer);
    }
    Ok(Outcome::Passed)
}

fn run_keyless(args: &SignArgs) -> Result<Outcome> {
    let connect = super::connect(&args.image, &args.registry)?;
    let store = Store::for_pull(&args.image, connect).map_err(|e| Error::new(e.to_string()))?;
    let runtime = super::runtime()?;
    let digest = runtime
        .block_on(async {
            store.login(oci_client::RegistryOperation::Push).await?;
            Ok::<_, signing::SignError>(store.manifest().await?.0)
        })
        .map_err(|e| Error::new(e.to_string()))?;
    let optional: BTreeMap<String, String> = args.annotation.iter().cloned().collect();
    let signed = keyless(
        &store,
        &args.image,
        &digest,
        &args.sigstore,
        &optional,
        &runtime,
        args.signature_format,
    )?;
    eprintln!(
        "signed {}@{digest} keylessly as {} (issuer {}); rekor log index {}",
        args.image.repository(),
        signed.identity,
        signed.issuer,
        signed.log_index
    );
    if args.signature_format.legacy() {
        println!(
            "{}:{}",
            args.image.repository(),
            cosign::signature_tag(&digest)
        );
    }
    if let Some(referrer) = &signed.referrer {
        println!("{}@{referrer}", args.image.repository());
    }
    Ok(Outcome::Passed)
}

/// What a keyless signing did.
pub(crate) struct Keyless {
    pub identity: String,
    pub issuer: String,
    /// The Rekor index of the (last) signature logged.
    pub log_index: i64,
    /// The referrer holding the bundle, when one was written.
    pub referrer: Option<Digest>,
}

/// Keyless signatures on `digest` in the formats asked for: a layer appended to its `.sig`,
/// a Sigstore bundle as a referrer, or both (each with its own certificate and log entry). The
/// token, Fulcio and Rekor calls run outside the async runtime (they block), the registry
/// writes inside it.
pub(crate) fn keyless(
    store: &Store,
    image: &ImageRef,
    digest: &Digest,
    sigstore: &SigstoreArgs,
    optional: &BTreeMap<String, String>,
    runtime: &tokio::runtime::Runtime,
    format: SignatureFormat,
) -> Result<Keyless> {
    let agent = keyless::agent();
    let token = keyless::oidc::id_token(&agent, sigstore.identity_token.as_deref())?;
    let endpoints = keyless::Endpoints {
        fulcio: sigstore.fulcio_url.clone(),
        rekor: sigstore.rekor_url.clone(),
    };
    let mut done = None;
    if format.legacy() {
        let payload = cosign::payload(&image.repository(), digest, optional);
        let signed = keyless::sign(&agent, &endpoints, &token, payload).map_err(Error::new)?;
        runtime
            .block_on(signing::add_layer(store, digest, signed.layer.clone()))
            .map_err(|e| Error::new(e.to_string()))?;
        done = Some(Keyless {
            identity: signed.identity,
            issuer: signed.issuer,
            log_index: signed.log_index,
            referrer: None,
        });
    }
    if format.bundle() {
        let statement = signing::bundle::statement::for_image(digest, optional);
        let signed =
            keyless::dsse::sign(&agent, &endpoints, &token, statement).map_err(Error::new)?;
        let referrer = runtime
            .block_on(signing::bundles::write_bundle(
                store,
                digest,
                &signed.bundle,
            ))
            .map_err(|e| Error::new(e.to_string()))?;
        done = Some(Keyless {
            identity: signed.identity,
            issuer: signed.issuer,
            log_index: signed.log_index,
            referrer: Some(referrer),
        });
    }
    done.ok_or_else(|| Error::new("--signature-format: nothing to write"))
}
