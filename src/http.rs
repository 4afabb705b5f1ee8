//! Adapter: schemas over HTTP(S) (rustls), kept in an on-disk cache.

use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use sha2::{Digest, Sha256};

use crate::validate::schema::Fetch;

/// Fetches schema URLs, reading and filling a cache folder when one is set.
pub struct HttpFetcher {
    agent: ureq::Agent,
    cache: Option<PathBuf>,
}

/// Schemas larger than this are refused rather than buffered.
const MAX_SCHEMA_BYTES: u64 = 64 << 20;

impl HttpFetcher {
    pub fn new(cache: Option<PathBuf>) -> HttpFetcher {
        let agent = ureq::Agent::config_builder()
            .timeout_global(Some(Duration::from_secs(30)))
            .http_status_as_error(false)
            .user_agent(concat!("kbundle/", env!("CARGO_PKG_VERSION")))
            .build()
            .into();
        HttpFetcher { agent, cache }
    }

    /// `$XDG_CACHE_HOME/kbundle/schemas`, or `~/.cache/kbundle/schemas`.
    pub fn default_cache_dir() -> Option<PathBuf> {
        let base = std::env::var_os("XDG_CACHE_HOME")
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))?;
        Some(base.join("kbundle").join("schemas"))
    }

    fn cache_path(&self, url: &str) -> Option<PathBuf> {
        let digest = Sha256::digest(url.as_bytes());
        Some(
            self.cache
                .as_ref()?
                .join(format!("{}.json", hex::encode(digest))),
        )
    }

    fn store(&self, url: &str, bytes: &[u8]) {
        let Some(path) = self.cache_path(url) else {
            return;
        };
        // Write beside, then rename: a reader never sees half a schema.
        let write = || -> std::io::Result<()> {
            let dir = path.parent().unwrap_or(std::path::Path::new("."));
            std::fs::create_dir_all(dir)?;
            let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
            tmp.write_all(bytes)?;
            tmp.persist(&path).map_err(|e| e.error)?;
            Ok(())
        };
        if let Err(e) = write() {
            tracing::warn!("could not cache {url} in {}: {e}", path.display());
        }
    }
}

impl Fetch for HttpFetcher {
    fn fetch(&self, url: &str) -> Result<Option<Vec<u8>>, String> {
        if let Some(path) = self.cache_path(url) {
            if let Ok(bytes) = std::fs::read(&path) {
                tracing::debug!("{url}: from cache {}", path.display());
                return Ok(Some(bytes));
            }
        }
        tracing::info!("fetching schema {url}");
        let mut response = self
            .agent
            .get(url)
            .call()
            .map_err(|e| format!("{url}: {e}; check the --schema-location and your network"))?;
        match response.status().as_u16() {
            200 => {}
            404 => return Ok(None),
            code => return Err(format!("{url}: HTTP {code}")),
        }
        let bytes = response
            .body_mut()
            .with_config()
            .limit(MAX_SCHEMA_BYTES)
            .read_to_vec()
            .map_err(|e| format!("{url}: {e}"))?;
        self.store(url, &bytes);
        Ok(Some(bytes))
    }
}
