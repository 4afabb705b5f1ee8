//! Adapter: the HTTP client the outside services share (ureq on rustls): one agent
//! configuration and one retry policy; and schemas over HTTP(S), kept in an on-disk cache.

use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use sha2::{Digest, Sha256};

use crate::validate::schema::Fetch;

/// An agent whose status codes are read, not raised, so that a service's own message (Google's
/// `error_description`, Fulcio's refusal) reaches the user.
pub fn agent(timeout: Duration) -> ureq::Agent {
    ureq::Agent::config_builder()
        .timeout_global(Some(timeout))
        .http_status_as_error(false)
        .user_agent(concat!("kbundle/", env!("CARGO_PKG_VERSION")))
        .build()
        .into()
}

/// Whether log events of `target` are the bytes of HTTP exchanges: ureq-proto hex-dumps every
/// request and response at trace level, which for the credential endpoints (the metadata
/// server, STS, IAM, OAuth, the Actions OIDC request) means tokens, in Authorization headers
/// and response bodies alike. Such events are never logged, at any level.
pub fn is_wire_dump(target: &str) -> bool {
    target == "ureq_proto" || target.starts_with("ureq_proto::")
}

/// Waits before the second, third and fourth attempt: exponential backoff, as Google asks of
/// its clients.
pub const BACKOFF: [Duration; 3] = [
    Duration::from_millis(250),
    Duration::from_millis(500),
    Duration::from_secs(1),
];

pub type Response = Result<ureq::http::Response<ureq::Body>, ureq::Error>;

/// Makes a request that can safely be made again once more after each of `waits` while the
/// answer is transient (429, 5xx, a timeout, a dropped connection); returns the last answer.
pub fn retrying(what: &str, waits: &[Duration], mut request: impl FnMut() -> Response) -> Response {
    let mut waits = waits.iter();
    loop {
        let result = request();
        let transient = match &result {
            Ok(r) => matches!(r.status().as_u16(), 429 | 500 | 502 | 503 | 504),
            Err(e) => matches!(
                e,
                ureq::Error::Timeout(_) | ureq::Error::Io(_) | ureq::Error::ConnectionFailed
            ),
        };
        match waits.next() {
            Some(wait) if transient => {
                let why = match &result {
                    Ok(r) => format!("HTTP {}", r.status().as_u16()),
                    Err(e) => e.to_string(),
                };
                tracing::info!("{what}: {why}; retrying in {wait:?}");
                std::thread::sleep(*wait);
            }
            _ => return result,
        }
    }
}

/// Fetches schema URLs, reading and filling a cache folder when one is set.
pub struct HttpFetcher {
    agent: ureq::Agent,
    cache: Option<PathBuf>,
}

/// Schemas larger than this are refused rather than buffered.
const MAX_SCHEMA_BYTES: u64 = 64 << 20;

impl HttpFetcher {
    pub fn new(cache: Option<PathBuf>) -> HttpFetcher {
        HttpFetcher {
            agent: agent(Duration::from_secs(30)),
            cache,
        }
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
