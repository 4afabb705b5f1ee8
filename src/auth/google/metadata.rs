//! The GCE/GKE metadata server: the attached service account's token, when a server answers.

use std::time::Duration;

use super::AccessToken;
use super::http::{agent, oauth_token, send};
use crate::error::Result;

const METADATA_HOST: &str = "metadata.google.internal";

/// The default service account's token, when a metadata server answers within two seconds
/// (`GCE_METADATA_HOST` overrides the host, as in Google's libraries); `None` when nothing
/// answers, so that the caller can fall back to other credentials.
pub(super) fn token() -> Result<Option<AccessToken>> {
    let host = std::env::var("GCE_METADATA_HOST")
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| METADATA_HOST.to_owned());
    let url = format!("http://{host}/computeMetadata/v1/instance/service-accounts/default/token");
    let probe = agent(Duration::from_secs(2));
    let response = probe.get(&url).header("Metadata-Flavor", "Google").call();
    let Ok(response) = response else {
        tracing::debug!("no metadata server at {host}");
        return Ok(None);
    };
    let what = format!("metadata server {host}: default service account token");
    let answer = match send(&what, Ok(response)) {
        Ok(answer) => answer,
        Err(e) => {
            tracing::warn!("{e}; not using the metadata server");
            return Ok(None);
        }
    };
    oauth_token(&answer, &what).map(Some)
}
