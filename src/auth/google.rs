//! Google access tokens without long-lived keys, in Google's application-default order:
//! `GOOGLE_APPLICATION_CREDENTIALS` (an `external_account` file as google-github-actions/auth
//! writes it, or an `authorized_user` file), then the GitHub Actions OIDC token exchanged
//! directly for `--workload-identity-provider`, then the GCE/GKE metadata server.
//!
//! Hand-written with `ureq` rather than `google-cloud-auth`: the flows are a few requests each,
//! every endpoint has to be redirectable to local fakes in tests, each token must be masked in
//! Actions before its first use, and Google's own error text must reach the user.

use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use serde::Deserialize;
use serde_json::Value;

use crate::auth::secret::Secret;
use crate::error::{Error, Result};
use crate::github::actions;

pub const SCOPE: &str = "https://www.googleapis.com/auth/cloud-platform";
pub const DEFAULT_STS_ENDPOINT: &str = "https://sts.googleapis.com";
pub const DEFAULT_IAMCREDENTIALS_ENDPOINT: &str = "https://iamcredentials.googleapis.com";
const TOKEN_EXCHANGE: &str = "urn:ietf:params:oauth:grant-type:token-exchange";
const ACCESS_TOKEN_TYPE: &str = "urn:ietf:params:oauth:token-type:access_token";
const JWT_TOKEN_TYPE: &str = "urn:ietf:params:oauth:token-type:jwt";
const METADATA_HOST: &str = "metadata.google.internal";

/// Where the direct GitHub OIDC flow goes (the command line's Google options).
#[derive(Debug, Clone, Default)]
pub struct Options {
    pub workload_identity_provider: Option<String>,
    pub service_account: Option<String>,
    pub sts_endpoint: Option<String>,
    pub iamcredentials_endpoint: Option<String>,
}

/// A short-lived access token and when it stops working.
#[derive(Debug, Clone)]
pub struct AccessToken {
    pub token: Secret,
    pub expires_at: Option<SystemTime>,
}

/// Registries that take Google access tokens: Artifact Registry and Container Registry.
pub fn is_google_registry(host: &str) -> bool {
    let host = host.split(':').next().unwrap_or(host).to_ascii_lowercase();
    host.ends_with("-docker.pkg.dev") || host == "gcr.io" || host.ends_with(".gcr.io")
}

static CACHE: Mutex<Option<AccessToken>> = Mutex::new(None);

/// An access token from the first credential source that exists; `None` when there is none.
/// Cached for the run and fetched again when less than five minutes are left.
pub fn access_token(options: &Options) -> Result<Option<AccessToken>> {
    let mut cache = CACHE.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(cached) = cache.as_ref() {
        let fresh = cached.expires_at.is_none_or(|t| {
            t.duration_since(SystemTime::now())
                .is_ok_and(|left| left > Duration::from_secs(300))
        });
        if fresh {
            return Ok(Some(cached.clone()));
        }
    }
    let token = find(options)?;
    if let Some(t) = &token {
        tracing::debug!("Google access token valid until {:?}", t.expires_at);
    }
    cache.clone_from(&token);
    Ok(token)
}

fn find(options: &Options) -> Result<Option<AccessToken>> {
    let agent = agent(Duration::from_secs(30));
    if let Some(path) = std::env::var_os("GOOGLE_APPLICATION_CREDENTIALS").filter(|p| !p.is_empty())
    {
        let path = std::path::PathBuf::from(path);
        return from_file(&agent, &path).map(Some);
    }
    if let Some(provider) = &options.workload_identity_provider {
        return github_oidc(&agent, provider, options).map(Some);
    }
    metadata_server()
}

fn agent(timeout: Duration) -> ureq::Agent {
    ureq::Agent::config_builder()
        .timeout_global(Some(timeout))
        .http_status_as_error(false)
        .user_agent(concat!("kbundle/", env!("CARGO_PKG_VERSION")))
        .build()
        .into()
}

/// A token with its lifetime in seconds from now.
fn token_for(token: String, expires_in: Option<u64>) -> AccessToken {
    actions::mask(&token);
    AccessToken {
        token: Secret::new(token),
        expires_at: expires_in.map(|s| SystemTime::now() + Duration::from_secs(s)),
    }
}

/// Google's words for a refusal: OAuth's `error_description`, or the API's `error.message`.
fn google_message(status: u16, body: &str) -> String {
    let parsed: Option<Value> = serde_json::from_str(body).ok();
    let text = parsed.as_ref().and_then(|v| {
        v.get("error_description")
            .and_then(Value::as_str)
            .or_else(|| v.pointer("/error/message").and_then(Value::as_str))
            .or_else(|| v.get("error").and_then(Value::as_str))
            .map(str::to_owned)
    });
    match text {
        Some(t) => format!("HTTP {status}: {t}"),
        None => format!("HTTP {status}"),
    }
}

/// Sends a request and returns the JSON body of a 2xx answer, or Google's message.
fn send(
    what: &str,
    result: std::result::Result<ureq::http::Response<ureq::Body>, ureq::Error>,
) -> Result<Value> {
    let mut response = result.map_err(|e| Error::new(format!("{what}: {e}")))?;
    let status = response.status().as_u16();
    let body = response
        .body_mut()
        .with_config()
        .limit(1 << 20)
        .read_to_string()
        .map_err(|e| Error::new(format!("{what}: cannot read the answer: {e}")))?;
    if !(200..300).contains(&status) {
        return Err(Error::new(format!(
            "{what} was refused: {}",
            google_message(status, &body)
        )));
    }
    serde_json::from_str(&body)
        .map_err(|e| Error::new(format!("{what}: the answer is not JSON: {e}")))
}

fn string_field(v: &Value, field: &str, what: &str) -> Result<String> {
    v.get(field)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .ok_or_else(|| Error::new(format!("{what}: the answer has no {field}")))
}

/// RFC 8693 token exchange at Google STS: a subject token for a federated access token.
fn sts_exchange(
    agent: &ureq::Agent,
    token_url: &str,
    audience: &str,
    subject_token_type: &str,
    subject_token: &Secret,
) -> Result<AccessToken> {
    let what = format!("Google STS token exchange at {token_url} (audience {audience})");
    let answer = send(
        &what,
        agent.post(token_url).send_form([
            ("grant_type", TOKEN_EXCHANGE),
            ("audience", audience),
            ("scope", SCOPE),
            ("requested_token_type", ACCESS_TOKEN_TYPE),
            ("subject_token_type", subject_token_type),
            ("subject_token", subject_token.expose()),
        ]),
    )?;
    let token = string_field(&answer, "access_token", &what)?;
    Ok(token_for(
        token,
        answer.get("expires_in").and_then(Value::as_u64),
    ))
}

/// IAM Credentials `generateAccessToken`: the federated token acts as a service account.
fn impersonate(
    agent: &ureq::Agent,
    url: &str,
    service_account: &str,
    federated: &AccessToken,
) -> Result<AccessToken> {
    let what = format!("IAM generateAccessToken for service account {service_account}");
    let answer = send(
        &what,
        agent
            .post(url)
            .header(
                "Authorization",
                format!("Bearer {}", federated.token.expose()),
            )
            .header("Content-Type", "application/json")
            .send(serde_json::json!({"scope": [SCOPE], "lifetime": "3600s"}).to_string()),
    )?;
    let token = string_field(&answer, "accessToken", &what)?;
    actions::mask(&token);
    let expires_at = answer
        .get("expireTime")
        .and_then(Value::as_str)
        .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
        .and_then(|t| u64::try_from(t.timestamp()).ok())
        .map(|s| SystemTime::UNIX_EPOCH + Duration::from_secs(s));
    Ok(AccessToken {
        token: Secret::new(token),
        expires_at,
    })
}

/// The service account named in `…/serviceAccounts/SA:generateAccessToken`.
fn service_account_of(url: &str) -> &str {
    url.rsplit_once("/serviceAccounts/")
        .map_or(url, |(_, rest)| rest.split(':').next().unwrap_or(rest))
}

#[derive(Deserialize)]
struct CredentialsFile {
    #[serde(rename = "type")]
    kind: Option<String>,
    // external_account
    audience: Option<String>,
    subject_token_type: Option<String>,
    token_url: Option<String>,
    service_account_impersonation_url: Option<String>,
    credential_source: Option<CredentialSource>,
    // authorized_user
    client_id: Option<String>,
    client_secret: Option<String>,
    refresh_token: Option<String>,
}

#[derive(Deserialize)]
struct CredentialSource {
    url: Option<String>,
    file: Option<String>,
    #[serde(default)]
    headers: std::collections::BTreeMap<String, String>,
    format: Option<SourceFormat>,
}

#[derive(Deserialize)]
struct SourceFormat {
    #[serde(rename = "type")]
    kind: Option<String>,
    subject_token_field_name: Option<String>,
}

fn from_file(agent: &ureq::Agent, path: &std::path::Path) -> Result<AccessToken> {
    let label = format!("GOOGLE_APPLICATION_CREDENTIALS={}", path.display());
    let text = std::fs::read_to_string(path).map_err(|e| Error::new(format!("{label}: {e}")))?;
    let file: CredentialsFile = serde_json::from_str(&text)
        .map_err(|e| Error::new(format!("{label}: not a Google credentials file: {e}")))?;
    match file.kind.as_deref() {
        Some("external_account") => external_account(agent, &label, file),
        Some("authorized_user") => authorized_user(agent, &label, file),
        Some("service_account") => Err(Error::new(format!(
            "{label}: service account key files are not supported yet; use Workload Identity \
             Federation (--workload-identity-provider, or the external_account file \
             google-github-actions/auth writes)"
        ))),
        other => Err(Error::new(format!(
            "{label}: unknown credentials type {other:?}; expected external_account or authorized_user"
        ))),
    }
}

fn external_account(
    agent: &ureq::Agent,
    label: &str,
    file: CredentialsFile,
) -> Result<AccessToken> {
    let need = |v: Option<String>, field: &str| {
        v.filter(|s| !s.is_empty())
            .ok_or_else(|| Error::new(format!("{label}: external_account without {field}")))
    };
    let audience = need(file.audience, "audience")?;
    let subject_token_type = need(file.subject_token_type, "subject_token_type")?;
    let token_url = need(file.token_url, "token_url")?;
    let source = file.credential_source.ok_or_else(|| {
        Error::new(format!(
            "{label}: external_account without credential_source"
        ))
    })?;
    let subject = subject_token(agent, label, &source)?;
    let federated = sts_exchange(agent, &token_url, &audience, &subject_token_type, &subject)?;
    match file
        .service_account_impersonation_url
        .filter(|u| !u.is_empty())
    {
        Some(url) => impersonate(agent, &url, service_account_of(&url), &federated),
        None => Ok(federated),
    }
}

/// The subject token from `credential_source`: a URL (with headers) or a file, as text or
/// as a field of a JSON object.
fn subject_token(agent: &ureq::Agent, label: &str, source: &CredentialSource) -> Result<Secret> {
    let raw = if let Some(url) = &source.url {
        let what = format!("{label}: credential_source.url");
        let mut request = agent.get(url);
        for (name, value) in &source.headers {
            if let Some(secret) = value.strip_prefix("Bearer ") {
                actions::mask(secret);
            }
            request = request.header(name, value);
        }
        let mut response = request
            .call()
            .map_err(|e| Error::new(format!("{what}: {e}")))?;
        let status = response.status().as_u16();
        let body = response
            .body_mut()
            .read_to_string()
            .map_err(|e| Error::new(format!("{what}: {e}")))?;
        if !(200..300).contains(&status) {
            return Err(Error::new(format!(
                "{what}: the subject token request was refused: {}",
                google_message(status, &body)
            )));
        }
        body
    } else if let Some(file) = &source.file {
        std::fs::read_to_string(file)
            .map_err(|e| Error::new(format!("{label}: credential_source.file {file}: {e}")))?
    } else {
        return Err(Error::new(format!(
            "{label}: credential_source has neither url nor file (executable and AWS sources are not supported)"
        )));
    };
    let token = match source.format.as_ref() {
        Some(SourceFormat {
            kind: Some(kind),
            subject_token_field_name,
        }) if kind == "json" => {
            let field = subject_token_field_name.as_deref().unwrap_or("value");
            let v: Value = serde_json::from_str(&raw).map_err(|e| {
                Error::new(format!(
                    "{label}: the subject token source is not JSON: {e}"
                ))
            })?;
            v.get(field)
                .and_then(Value::as_str)
                .map(str::to_owned)
                .ok_or_else(|| {
                    Error::new(format!("{label}: the subject token source has no {field}"))
                })?
        }
        _ => raw.trim().to_owned(),
    };
    if token.is_empty() {
        return Err(Error::new(format!("{label}: the subject token is empty")));
    }
    actions::mask(&token);
    Ok(Secret::new(token))
}

fn authorized_user(agent: &ureq::Agent, label: &str, file: CredentialsFile) -> Result<AccessToken> {
    let (Some(id), Some(secret), Some(refresh)) =
        (file.client_id, file.client_secret, file.refresh_token)
    else {
        return Err(Error::new(format!(
            "{label}: authorized_user needs client_id, client_secret and refresh_token"
        )));
    };
    let what = format!("{label}: refreshing the user token (client {id})");
    let answer = send(
        &what,
        agent
            .post("https://oauth2.googleapis.com/token")
            .send_form([
                ("grant_type", "refresh_token"),
                ("client_id", id.as_str()),
                ("client_secret", secret.as_str()),
                ("refresh_token", refresh.as_str()),
            ]),
    )?;
    let token = string_field(&answer, "access_token", &what)?;
    Ok(token_for(
        token,
        answer.get("expires_in").and_then(Value::as_u64),
    ))
}

/// `projects/N/locations/global/workloadIdentityPools/P/providers/X`, with or without the
/// `//iam.googleapis.com/` or `https://iam.googleapis.com/` prefix.
fn provider_name(provider: &str) -> Result<String> {
    let name = provider
        .trim()
        .trim_start_matches("https:")
        .trim_start_matches("//iam.googleapis.com/")
        .trim_start_matches('/');
    let parts: Vec<&str> = name.split('/').collect();
    let shaped = parts.len() == 8
        && parts[0] == "projects"
        && parts[2] == "locations"
        && parts[4] == "workloadIdentityPools"
        && parts[6] == "providers"
        && parts.iter().all(|p| !p.is_empty());
    if !shaped {
        return Err(Error::new(format!(
            "--workload-identity-provider {provider:?}: expected projects/NUMBER/locations/global/workloadIdentityPools/POOL/providers/PROVIDER"
        )));
    }
    Ok(name.to_owned())
}

/// GitHub Actions OIDC token → STS → (optionally) the service account.
fn github_oidc(agent: &ureq::Agent, provider: &str, options: &Options) -> Result<AccessToken> {
    let provider = provider_name(provider)?;
    let Some(request_url) = std::env::var("ACTIONS_ID_TOKEN_REQUEST_URL")
        .ok()
        .filter(|u| !u.is_empty())
    else {
        let hint = if actions::active() {
            "this GitHub Actions job cannot request an OIDC token"
        } else {
            "no GitHub Actions OIDC token is available here"
        };
        return Err(Error::new(format!(
            "--workload-identity-provider: {hint} (ACTIONS_ID_TOKEN_REQUEST_URL is not set); the job needs `permissions: id-token: write`"
        )));
    };
    let request_token = std::env::var("ACTIONS_ID_TOKEN_REQUEST_TOKEN").unwrap_or_default();
    actions::mask(&request_token);
    let oidc_audience = format!("https://iam.googleapis.com/{provider}");
    let what = format!("GitHub Actions OIDC token request (audience {oidc_audience})");
    let answer = send(
        &what,
        agent
            .get(&request_url)
            .query("audience", &oidc_audience)
            .header("Authorization", format!("Bearer {request_token}"))
            .call(),
    )?;
    let jwt = string_field(&answer, "value", &what)?;
    actions::mask(&jwt);
    let sts = options
        .sts_endpoint
        .as_deref()
        .unwrap_or(DEFAULT_STS_ENDPOINT)
        .trim_end_matches('/');
    let federated = sts_exchange(
        agent,
        &format!("{sts}/v1/token"),
        &format!("//iam.googleapis.com/{provider}"),
        JWT_TOKEN_TYPE,
        &Secret::new(jwt),
    )?;
    match options.service_account.as_deref().filter(|s| !s.is_empty()) {
        Some(sa) => {
            let iam = options
                .iamcredentials_endpoint
                .as_deref()
                .unwrap_or(DEFAULT_IAMCREDENTIALS_ENDPOINT)
                .trim_end_matches('/');
            let url = format!("{iam}/v1/projects/-/serviceAccounts/{sa}:generateAccessToken");
            impersonate(agent, &url, sa, &federated)
        }
        None => Ok(federated),
    }
}

/// The GCE/GKE metadata server, when one answers within a second (`GCE_METADATA_HOST`
/// overrides the host, as in Google's libraries); `None` when nothing answers.
fn metadata_server() -> Result<Option<AccessToken>> {
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
    let token = string_field(&answer, "access_token", &what)?;
    Ok(Some(token_for(
        token,
        answer.get("expires_in").and_then(Value::as_u64),
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn google_registries() {
        for host in [
            "us-docker.pkg.dev",
            "europe-west1-docker.pkg.dev",
            "gcr.io",
            "eu.gcr.io",
        ] {
            assert!(is_google_registry(host), "{host}");
        }
        for host in ["docker.io", "127.0.0.1:5000", "notgcr.io", "pkg.dev"] {
            assert!(!is_google_registry(host), "{host}");
        }
    }

    #[test]
    fn provider_names() {
        let p = "projects/1/locations/global/workloadIdentityPools/p/providers/x";
        assert_eq!(provider_name(p).unwrap(), p);
        assert_eq!(
            provider_name(&format!("//iam.googleapis.com/{p}")).unwrap(),
            p
        );
        assert!(provider_name("projects/1/providers/x").is_err());
    }

    #[test]
    fn google_messages() {
        assert_eq!(
            google_message(
                400,
                r#"{"error":"invalid_grant","error_description":"ID Token expired."}"#
            ),
            "HTTP 400: ID Token expired."
        );
        assert_eq!(
            google_message(
                403,
                r#"{"error":{"code":403,"message":"denied","status":"PERMISSION_DENIED"}}"#
            ),
            "HTTP 403: denied"
        );
        assert_eq!(google_message(502, "<html>"), "HTTP 502");
        assert_eq!(
            service_account_of("https://x/v1/projects/-/serviceAccounts/a@b:generateAccessToken"),
            "a@b"
        );
    }
}
