//! The GitHub API endpoint as every client of it sees it: `GITHUB_API_URL`, the headers each
//! request carries, path parameters encoded the way the OpenAPI description declares them, and
//! the status of a refused request. Shared by the repository client (`api`) and the App's
//! token minting (`app`), so neither needs the other's internals.

use crate::error::{Error, Result};

/// `GITHUB_API_URL`, or github.com's.
pub fn api_url() -> String {
    std::env::var("GITHUB_API_URL")
        .ok()
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| "https://api.github.com".to_owned())
}

/// Percent-encodes one path parameter, slashes included (RFC 6570 simple expansion).
pub fn encode(param: &str) -> String {
    let mut out = String::with_capacity(param.len());
    for b in param.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// An octocrab builder for `GITHUB_API_URL` with the headers every request carries.
pub(super) fn builder() -> Result<
    octocrab::OctocrabBuilder<
        octocrab::NoSvc,
        octocrab::DefaultOctocrabBuilderConfig,
        octocrab::NoAuth,
        octocrab::NotLayerReady,
    >,
> {
    let url = api_url();
    Ok(octocrab::Octocrab::builder()
        .base_uri(url.as_str())
        .map_err(|e| Error::new(format!("GITHUB_API_URL {url:?}: {e}")))?
        // GitHub's default media type; Prism (the contract tests) cannot negotiate
        // `application/vnd.github+json` against the spec's `application/json`.
        .add_header(http::header::ACCEPT, "application/json".to_owned())
        .add_header(
            http::header::HeaderName::from_static("x-github-api-version"),
            "2022-11-28".to_owned(),
        ))
}

/// The HTTP status and GitHub's message of an API error response.
pub(super) fn status(e: &octocrab::Error) -> Option<(u16, &str)> {
    match e {
        octocrab::Error::GitHub { source, .. } => {
            Some((source.status_code.as_u16(), source.message.as_str()))
        }
        _ => None,
    }
}
