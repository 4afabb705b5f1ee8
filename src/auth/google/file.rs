//! The file `GOOGLE_APPLICATION_CREDENTIALS` names: read once, dispatched on its `type`.

use std::path::Path;

use serde::de::DeserializeOwned;
use serde_json::Value;

use super::{AccessToken, authorized_user, external_account, service_account};
use crate::auth::secret::Secret;
use crate::error::{Error, Result};

pub(super) fn token(agent: &ureq::Agent, path: &Path) -> Result<AccessToken> {
    let label = format!("GOOGLE_APPLICATION_CREDENTIALS={}", path.display());
    let text = std::fs::read_to_string(path).map_err(|e| Error::new(format!("{label}: {e}")))?;
    let value = json(&label, &text)?;
    let kind = value.get("type").and_then(Value::as_str).map(str::to_owned);
    match kind.as_deref() {
        Some("external_account") => external_account::token(agent, &label, parse(&label, value)?),
        Some("authorized_user") => authorized_user::token(agent, &label, parse(&label, value)?),
        Some("service_account") => service_account::token(agent, &label, parse(&label, value)?),
        other => Err(Error::new(format!(
            "{label}: unknown credentials type {other:?}; expected external_account, \
             service_account or authorized_user"
        ))),
    }
}

/// An `external_account` file's text read as `token` reads it, up to its first request, with
/// `raw_subject` standing for what its credential source returns: the subject token. Nothing is
/// fetched or read from disk (the fuzz target's way in).
pub fn read_external_account(text: &str, raw_subject: &str) -> Result<Secret> {
    let label = "GOOGLE_APPLICATION_CREDENTIALS";
    external_account::offline(label, parse(label, json(label, text)?)?, raw_subject)
}

fn json(label: &str, text: &str) -> Result<Value> {
    serde_json::from_str(text)
        .map_err(|e| Error::new(format!("{label}: not a Google credentials file: {e}")))
}

/// The fields of one credentials type. serde's message names the field and never quotes a
/// value, so no secret of the file can reach it.
fn parse<T: DeserializeOwned>(label: &str, value: Value) -> Result<T> {
    serde_json::from_value(value)
        .map_err(|e| Error::new(format!("{label}: not a Google credentials file: {e}")))
}

#[cfg(test)]
mod tests {
    use super::read_external_account;

    const FILE: &str = r#"{"type":"external_account","audience":"//iam.googleapis.com/x",
        "subject_token_type":"urn:ietf:params:oauth:token-type:jwt",
        "token_url":"https://sts.googleapis.com/v1/token",
        "credential_source":{"url":"https://token.example/","headers":{"Authorization":"Bearer h"},
        "format":{"type":"json","subject_token_field_name":"value"}}}"#;

    #[test]
    fn the_subject_token_is_taken_from_the_field_the_file_names() {
        let token = read_external_account(FILE, r#"{"count":1,"value":"eyJ.subject.sig"}"#)
            .expect("a good file");
        assert_eq!(token.expose(), "eyJ.subject.sig");
    }

    #[test]
    fn a_missing_field_or_token_is_named_without_quoting_the_source() {
        let e = read_external_account(FILE, r#"{"token":"eyJ.secret.sig"}"#).unwrap_err();
        assert!(e.to_string().contains("has no value"), "{e}");
        assert!(!e.to_string().contains("secret"), "{e}");
        let no_audience = FILE.replace(r#""audience":"//iam.googleapis.com/x","#, "");
        let e = read_external_account(&no_audience, "tok").unwrap_err();
        assert!(e.to_string().contains("without audience"), "{e}");
    }
}
