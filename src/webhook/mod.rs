//! Adapter: `kbundle webhook`, the validating admission server that refuses a RootSync or
//! RepoSync update when the image Config Sync is about to sync (`configsync.gke.io/image-to-sync`)
//! carries no valid cosign signature.
//!
//! `admission` reads reviews and writes answers (pure), `verify` judges an image the way
//! `kbundle verify` does, `cache` remembers verified digests, `tls` keeps the certificate fresh,
//! `metrics` counts, and `server` ties them to HTTPS.

pub mod admission;
pub mod cache;
pub mod metrics;
pub mod server;
pub mod tls;
pub mod verify;

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

pub use verify::{ConnectFn, Policy};

/// Everything the server needs, already loaded and checked by the command.
pub struct Config {
    pub listen: SocketAddr,
    pub tls_cert: PathBuf,
    pub tls_key: PathBuf,
    pub policy: Policy,
    /// Verified digests kept at most; 0 turns the cache off.
    pub cache_size: usize,
    /// How long a verified digest stays trusted without asking the registry again.
    pub cache_ttl: Duration,
    /// How long open connections get to finish after SIGTERM.
    pub grace: Duration,
    /// How long clients may take to send a request, and to stay idle.
    pub timeouts: server::Timeouts,
}

/// Loads the certificate, binds, logs `listening on ADDR`, and serves until `shutdown`.
pub async fn run(config: Config, shutdown: impl Future<Output = ()>) -> Result<(), String> {
    let cert = Arc::new(tls::ReloadingCert::load(&config.tls_cert, &config.tls_key)?);
    let tls = Arc::new(cert.server_config()?);
    let listener = server::bind(config.listen).await?;
    let addr = listener
        .local_addr()
        .map_err(|e| format!("--listen {}: {e}", config.listen))?;
    let state = Arc::new(server::State {
        verifier: verify::Verifier::new(
            config.policy,
            cache::VerifiedCache::new(config.cache_size, config.cache_ttl),
        ),
        metrics: metrics::Metrics::default(),
        ready: AtomicBool::new(false),
        timeouts: config.timeouts,
    });
    // Tests and operators read the bound address (port 0 picks one) from this line.
    tracing::info!(%addr, "listening on {addr}");
    server::serve(listener, tls, state, shutdown, config.grace).await;
    tracing::info!("stopped");
    Ok(())
}
