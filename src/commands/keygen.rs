//! `kbundle keygen`: a cosign-compatible key pair.

use std::path::PathBuf;

use crate::commands::args::KeygenArgs;
use crate::error::{Error, Outcome, Result};
use crate::signing::keys::{PrivateKey, read_password};

pub fn run(args: KeygenArgs) -> Result<Outcome> {
    let with_ext = |ext: &str| -> PathBuf {
        let mut name = args.output_key_prefix.clone().into_os_string();
        name.push(ext);
        PathBuf::from(name)
    };
    let (key_path, pub_path) = (with_ext(".key"), with_ext(".pub"));
    if !args.force {
        for p in [&key_path, &pub_path] {
            if p.exists() {
                return Err(Error::new(format!(
                    "{}: already exists; pass --force to overwrite it",
                    p.display()
                )));
            }
        }
    }
    let password = read_password(std::env::var_os("COSIGN_PASSWORD"), "the new private key")
        .map_err(|e| Error::new(e.to_string()))?;
    let key = PrivateKey::generate();
    let pem = key
        .to_cosign_pem(password.expose().as_bytes())
        .map_err(|e| Error::new(e.to_string()))?;
    super::write_atomically(&key_path, pem.as_bytes(), Some(0o600))?;
    super::write_atomically(&pub_path, key.public_key().to_pem().as_bytes(), Some(0o644))?;
    eprintln!(
        "private key written to {}, public key to {} ({})",
        key_path.display(),
        pub_path.display(),
        key.public_key().fingerprint()
    );
    Ok(Outcome::Passed)
}
