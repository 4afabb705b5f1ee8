//! `kbundle keygen`: a cosign-compatible key pair.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::cli::KeygenArgs;
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
    write_new(&key_path, pem.as_bytes(), 0o600)?;
    write_new(&pub_path, key.public_key().to_pem().as_bytes(), 0o644)?;
    eprintln!(
        "private key written to {}, public key to {} ({})",
        key_path.display(),
        pub_path.display(),
        key.public_key().fingerprint()
    );
    Ok(Outcome::Passed)
}

/// Writes a file whole with the given mode, via a temporary file and a rename.
fn write_new(path: &Path, bytes: &[u8], mode: u32) -> Result<()> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let fail = |e: std::io::Error| Error::new(format!("{}: {e}", path.display()));
    let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(fail)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(mode))
            .map_err(fail)?;
    }
    #[cfg(not(unix))]
    let _ = mode;
    tmp.write_all(bytes).map_err(fail)?;
    tmp.as_file().sync_all().map_err(fail)?;
    tmp.persist(path).map_err(|e| fail(e.error))?;
    Ok(())
}
