//! The serving certificate, re-read when its files change: cert-manager renews the Secret and
//! the kubelet swaps the mounted files, and the next handshake gets the new certificate while
//! open connections keep the one they started with.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use rustls::ServerConfig;
use rustls::crypto::CryptoProvider;
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

/// How often, at most, a handshake looks at the files' metadata.
const CHECK_EVERY: Duration = Duration::from_secs(1);

/// What identifies a version of the files: their modification times and sizes.
type Stamp = [Option<(SystemTime, u64)>; 2];

/// A certificate resolver that reloads `--tls-cert` and `--tls-key` when they change. A new pair
/// that does not load (half written, mismatched) is logged and the old one kept.
#[derive(Debug)]
pub struct ReloadingCert {
    cert: PathBuf,
    key: PathBuf,
    provider: Arc<CryptoProvider>,
    state: Mutex<State>,
}

#[derive(Debug)]
struct State {
    current: Arc<CertifiedKey>,
    /// The files' stamp at the last load attempt, good or bad: a bad pair is tried once, not at
    /// every handshake.
    seen: Stamp,
    checked: Instant,
}

fn stamp(paths: [&Path; 2]) -> Stamp {
    paths.map(|p| {
        std::fs::metadata(p)
            .ok()
            .and_then(|m| Some((m.modified().ok()?, m.len())))
    })
}

/// The ring provider, as the rest of kbundle's TLS uses; named explicitly because the
/// dependency tree also enables aws-lc-rs, which leaves rustls no single default.
pub fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

impl ReloadingCert {
    /// Loads the pair once; the server does not start without it.
    pub fn load(cert: &Path, key: &Path) -> Result<ReloadingCert, String> {
        let provider = provider();
        let seen = stamp([cert, key]);
        let current = Arc::new(certified_key(cert, key, &provider)?);
        Ok(ReloadingCert {
            cert: cert.to_owned(),
            key: key.to_owned(),
            provider,
            state: Mutex::new(State {
                current,
                seen,
                checked: Instant::now(),
            }),
        })
    }

    /// The certificate to present now, reloading it first when the files changed.
    pub fn current(&self) -> Arc<CertifiedKey> {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        if state.checked.elapsed() >= CHECK_EVERY {
            state.checked = Instant::now();
            let now = stamp([&self.cert, &self.key]);
            if now != state.seen {
                state.seen = now;
                match certified_key(&self.cert, &self.key, &self.provider) {
                    Ok(key) => {
                        state.current = Arc::new(key);
                        tracing::info!(cert = %self.cert.display(), "reloaded the TLS certificate");
                    }
                    Err(e) => tracing::error!(
                        "{e}; still serving the previous certificate until the files are fixed"
                    ),
                }
            }
        }
        state.current.clone()
    }

    /// A server configuration presenting this certificate, speaking HTTP/2 and HTTP/1.1.
    pub fn server_config(self: Arc<Self>) -> Result<ServerConfig, String> {
        let mut config = ServerConfig::builder_with_provider(self.provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(|e| format!("TLS setup: {e}"))?
            .with_no_client_auth()
            .with_cert_resolver(self);
        config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        Ok(config)
    }
}

impl ResolvesServerCert for ReloadingCert {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.current())
    }
}

/// Reads a PEM certificate chain and private key and checks that they belong together.
/// Errors name the file and never include key material.
fn certified_key(
    cert: &Path,
    key: &Path,
    provider: &CryptoProvider,
) -> Result<CertifiedKey, String> {
    let chain = CertificateDer::pem_file_iter(cert)
        .map_err(|e| format!("--tls-cert {}: {e}", cert.display()))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("--tls-cert {}: {e}", cert.display()))?;
    if chain.is_empty() {
        return Err(format!(
            "--tls-cert {}: no PEM certificate in the file",
            cert.display()
        ));
    }
    let private = PrivateKeyDer::from_pem_file(key).map_err(|e| {
        format!(
            "--tls-key {}: {e}; expected a PEM private key (PKCS#8, PKCS#1 or SEC1)",
            key.display()
        )
    })?;
    CertifiedKey::from_der(chain, private, provider).map_err(|e| {
        format!(
            "--tls-cert {} and --tls-key {}: {e}",
            cert.display(),
            key.display()
        )
    })
}
