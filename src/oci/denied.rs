//! What to say when a registry refuses a request (401, 403): which repository, which
//! permission, and what to grant, instead of the registry's raw JSON error.

use oci_client::errors::{OciDistributionError, OciEnvelope, OciErrorCode};

/// What was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    Pull,
    Push,
}

/// The registry's short reason when `e` is a refusal of the request (as opposed to a failed
/// login at the token endpoint, or anything else); `Some("")` when it gave none.
pub fn refusal(e: &OciDistributionError) -> Option<String> {
    let from_body = |body: &str| {
        serde_json::from_str::<OciEnvelope>(body)
            .ok()
            .and_then(|env| env.errors.into_iter().next())
            .map(|e| e.message)
            .unwrap_or_default()
    };
    match e {
        OciDistributionError::UnauthorizedError { .. } => Some(String::new()),
        OciDistributionError::ServerError { code, message, .. } if *code == 401 || *code == 403 => {
            Some(from_body(message))
        }
        OciDistributionError::RegistryError { envelope, .. }
            if envelope
                .errors
                .iter()
                .any(|e| matches!(e.code, OciErrorCode::Unauthorized | OciErrorCode::Denied)) =>
        {
            Some(
                envelope
                    .errors
                    .first()
                    .map(|e| e.message.clone())
                    .unwrap_or_default(),
            )
        }
        OciDistributionError::RequestError(r)
            if r.status()
                .is_some_and(|s| s.as_u16() == 401 || s.as_u16() == 403) =>
        {
            Some(String::new())
        }
        _ => None,
    }
}

/// Whether a host is Artifact Registry's (`LOCATION-docker.pkg.dev`).
fn is_artifact_registry(host: &str) -> bool {
    let name = host.split(':').next().unwrap_or(host).to_ascii_lowercase();
    name.ends_with("-docker.pkg.dev")
}

/// The sentence after `IMAGE: ` for a refused request to `repository` on `host`.
pub fn explain(host: &str, repository: &str, access: Access, said: &str) -> String {
    let verb = match access {
        Access::Pull => "pull from",
        Access::Push => "push to",
    };
    let said = if said.is_empty() {
        String::new()
    } else {
        format!(" ({said})")
    };
    let refused = format!("the registry refused to let this account {verb} {repository}{said}");
    if is_artifact_registry(host) {
        let role = match access {
            Access::Pull => "roles/artifactregistry.reader",
            Access::Push => "roles/artifactregistry.writer",
        };
        // Artifact Registry paths are PROJECT/REPOSITORY/IMAGE…; roles are granted on the
        // repository (or the project).
        let mut parts = repository.split('/');
        let on = match (parts.next(), parts.next()) {
            (Some(project), Some(repo)) => {
                format!("repository {repo} of project {project}")
            }
            _ => format!("repository {repository}"),
        };
        format!(
            "{refused}; grant the account {role} on {on} (gcloud artifacts repositories \
             add-iam-policy-binding), or log in as one that has it"
        )
    } else {
        let what = match access {
            Access::Pull => "pull (read)",
            Access::Push => "push (write)",
        };
        format!(
            "{refused}; grant the account {what} access to {repository} on {host}, or log in as \
             one that has it (docker login, a credential helper, or --username with \
             --password-stdin)"
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn artifact_registry_hosts_name_the_role_and_the_repository() {
        let said = explain(
            "europe-west1-docker.pkg.dev",
            "my-proj/bundles/root",
            Access::Push,
            "Permission denied",
        );
        assert!(said.contains("roles/artifactregistry.writer"), "{said}");
        assert!(
            said.contains("repository bundles of project my-proj"),
            "{said}"
        );
        assert!(said.contains("push to my-proj/bundles/root"), "{said}");
        let pull = explain("us-docker.pkg.dev", "p/r/i", Access::Pull, "");
        assert!(pull.contains("roles/artifactregistry.reader"), "{pull}");
    }

    #[test]
    fn other_hosts_get_generic_wording() {
        let said = explain("ghcr.io", "org/app", Access::Push, "");
        assert!(!said.contains("artifactregistry"), "{said}");
        assert!(
            said.contains("grant the account push (write) access to org/app on ghcr.io"),
            "{said}"
        );
    }

    #[test]
    fn a_401_with_a_json_body_is_a_refusal_and_keeps_only_the_message() {
        let e = OciDistributionError::ServerError {
            code: 401,
            url: "http://r/v2/x/blobs/uploads/".into(),
            message: r#"{"errors":[{"code":"UNAUTHORIZED","message":"authentication required","detail":[]}]}"#.into(),
        };
        assert_eq!(refusal(&e).as_deref(), Some("authentication required"));
        let e = OciDistributionError::ServerError {
            code: 500,
            url: String::new(),
            message: String::new(),
        };
        assert_eq!(refusal(&e), None);
    }
}
