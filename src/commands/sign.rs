//! `kbundle sign`.

use std::collections::BTreeMap;

use crate::cli::SignArgs;
use crate::error::{Error, Outcome, Result};
use crate::oci::Store;
use crate::signing::{self, cosign, keys};

pub fn run(args: SignArgs) -> Result<Outcome> {
    let Some(key_path) = &args.key else {
        return Err(Error::new(
            "--keyless: keyless signing (Fulcio) is not available yet; sign with --key",
        ));
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
    let (digest, added) = super::runtime()?
        .block_on(async {
            store.login(oci_client::RegistryOperation::Push).await?;
            let (digest, _) = store.manifest().await?;
            let added =
                signing::sign(&store, &digest, &args.image.repository(), &key, &optional).await?;
            Ok::<_, signing::SignError>((digest, added))
        })
        .map_err(|e| Error::new(e.to_string()))?;
    let tag = cosign::signature_tag(&digest);
    if added {
        eprintln!(
            "signed {}@{digest} with {}",
            args.image.repository(),
            key.public_key().fingerprint()
        );
    } else {
        eprintln!(
            "{}@{digest} already carries this signature; nothing written",
            args.image.repository()
        );
    }
    println!("{}:{tag}", args.image.repository());
    Ok(Outcome::Passed)
}
