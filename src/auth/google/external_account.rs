//! `external_account` credentials (Workload Identity Federation), as google-github-actions/auth
//! writes them: a subject token from a URL or a file, exchanged at STS, then optionally turned
//! into a service account's token.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::Value;

use super::AccessToken;
use super::http::google_message;
use super::sts;
use crate::actions;
use crate::auth::secret::Secret;
use crate::error::{Error, Result};

#[derive(Deserialize)]
pub(super) struct ExternalAccount {
    audience: Option<String>,
    subject_token_type: Option<String>,
    token_url: Option<String>,
    service_account_impersonation_url: Option<String>,
    credential_source: Option<CredentialSource>,
}

#[derive(Deserialize)]
struct CredentialSource {
    url: Option<String>,
    file: Option<String>,
    #[serde(default)]
    headers: BTreeMap<String, String>,
    format: Option<SourceFormat>,
}

#[derive(Deserialize)]
struct SourceFormat {
    #[serde(rename = "type")]
    kind: Option<String>,
    subject_token_field_name: Option<String>,
}

/// What a file asks for, checked before any request is made.
struct Exchange {
    audience: String,
    subject_token_type: String,
    token_url: String,
    source: CredentialSource,
    impersonation_url: Option<String>,
}

/// `label` names the file (`GOOGLE_APPLICATION_CREDENTIALS=PATH`) in every error.
pub(super) fn token(
    agent: &ureq::Agent,
    label: &str,
    file: ExternalAccount,
) -> Result<AccessToken> {
    let exchange = checked(label, file)?;
    let subject = subject_token(agent, label, &exchange.source)?;
    let federated = sts::exchange(
        agent,
        &exchange.token_url,
        &exchange.audience,
        &exchange.subject_token_type,
        &subject,
    )?;
    match exchange.impersonation_url {
        Some(url) => sts::impersonate(agent, &url, sts::service_account_of(&url), &federated),
        None => Ok(federated),
    }
}

/// What `token` does before its first request, with `raw_subject` standing for what the
/// credential source returns: the fuzz target's way in (`auth::google::read_external_account`).
pub(super) fn offline(label: &str, file: ExternalAccount, raw_subject: &str) -> Result<Secret> {
    let exchange = checked(label, file)?;
    subject_from(
        label,
        raw_subject.to_owned(),
        exchange.source.format.as_ref(),
    )
}

fn checked(label: &str, file: ExternalAccount) -> Result<Exchange> {
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
    if source.url.is_none() && source.file.is_none() {
        return Err(Error::new(format!(
            "{label}: credential_source has neither url nor file (executable and AWS sources are not supported)"
        )));
    }
    Ok(Exchange {
        audience,
        subject_token_type,
        token_url,
        source,
        impersonation_url: file
            .service_account_impersonation_url
            .filter(|u| !u.is_empty()),
    })
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
    subject_from(label, raw, source.format.as_ref())
}

/// The subject token out of what the credential source returned: the text, or one field of
/// it as JSON.
fn subject_from(label: &str, raw: String, format: Option<&SourceFormat>) -> Result<Secret> {
    let token = match format {
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
