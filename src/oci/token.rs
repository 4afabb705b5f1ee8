//! The Docker registry token protocol, for the one request oci-client cannot make: a token for
//! two repositories at once. A cross-repository mount (`POST /v2/DST/blobs/uploads/?mount=…&from=SRC`)
//! needs pull on the source and push on the destination in the same token; oci-client asks
//! for the destination's scope only, so a token registry (Artifact Registry, GHCR, Docker Hub)
//! refuses the mount and the blob is copied through the client instead.

use std::time::Duration;

use base64::Engine as _;

/// The parameters of a `WWW-Authenticate: Bearer …` challenge.
#[derive(Debug, PartialEq, Eq)]
pub struct Challenge {
    pub realm: String,
    pub service: Option<String>,
}

/// Parses `Bearer realm="…",service="…",scope="…"`; `None` for Basic or anything else.
pub fn parse_challenge(header: &str) -> Option<Challenge> {
    let (scheme, rest) = header.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return None;
    }
    let mut realm = None;
    let mut service = None;
    let mut rest = rest.trim();
    while !rest.is_empty() {
        let (key, after) = rest.split_once('=')?;
        let key = key.trim().trim_start_matches(',').trim();
        let (value, after) = match after.strip_prefix('"') {
            Some(quoted) => {
                let end = quoted.find('"')?;
                (&quoted[..end], &quoted[end + 1..])
            }
            None => after.split_once(',').unwrap_or((after, "")),
        };
        match key.to_ascii_lowercase().as_str() {
            "realm" => realm = Some(value.to_owned()),
            "service" => service = Some(value.to_owned()),
            _ => {}
        }
        rest = after.trim_start_matches([',', ' ']);
    }
    Some(Challenge {
        realm: realm?,
        service,
    })
}

/// A token for `scopes` (`repository:NAME:ACTIONS`) from the registry at `base`
/// (`https://host`), logged in with `basic` (user, password) when given. `None` when the
/// registry does not use tokens or refuses: the caller then does without.
///
/// Blocking (ureq): call it off the async runtime. The secret goes into the Authorization
/// header only; errors are logged without it.
pub fn fetch(base: &str, basic: Option<(&str, &str)>, scopes: &[String]) -> Option<String> {
    let agent = crate::http::agent(Duration::from_secs(30));
    let probe = agent.get(format!("{base}/v2/")).call().ok()?;
    let header = probe.headers().get("www-authenticate")?.to_str().ok()?;
    let challenge = parse_challenge(header)?;
    let mut request = agent.get(&challenge.realm);
    if let Some(service) = &challenge.service {
        request = request.query("service", service);
    }
    for scope in scopes {
        request = request.query("scope", scope);
    }
    if let Some((user, password)) = basic {
        let encoded =
            base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
        request = request.header("Authorization", format!("Basic {encoded}"));
    }
    let mut answer = match request.call() {
        Ok(a) if a.status().is_success() => a,
        Ok(a) => {
            tracing::debug!("token endpoint answered HTTP {} for {scopes:?}", a.status());
            return None;
        }
        Err(e) => {
            tracing::debug!("token endpoint: {e}");
            return None;
        }
    };
    let bytes = answer
        .body_mut()
        .with_config()
        .limit(1 << 20)
        .read_to_vec()
        .ok()?;
    let body: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    body.get("token")
        .or_else(|| body.get("access_token"))
        .and_then(|t| t.as_str())
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_challenges_give_realm_and_service() {
        assert_eq!(
            parse_challenge(
                r#"Bearer realm="https://us-docker.pkg.dev/v2/token",service="us-docker.pkg.dev",scope="repository:p/r/i:pull""#
            ),
            Some(Challenge {
                realm: "https://us-docker.pkg.dev/v2/token".into(),
                service: Some("us-docker.pkg.dev".into()),
            })
        );
        assert_eq!(
            parse_challenge(r#"bearer realm="http://127.0.0.1:1/token""#).map(|c| c.service),
            Some(None)
        );
        assert_eq!(parse_challenge(r#"Basic realm="registry""#), None);
        assert_eq!(parse_challenge("Bearer service=x"), None);
    }
}
