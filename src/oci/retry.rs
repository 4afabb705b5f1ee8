//! Which registry errors are worth another try, and the tries: transient failures with
//! backoff here; a refused token is [`super::registry::Registry`]'s (one fresh token).

use std::time::Duration;

use oci_client::errors::OciDistributionError;

/// Retries an operation on 429, 5xx and dropped or refused connections, with backoff
/// (0.25 s, 0.5 s, 1 s); other errors return at once.
pub(super) async fn retry<T, F, Fut>(mut op: F) -> Result<T, OciDistributionError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, OciDistributionError>>,
{
    let mut delay = Duration::from_millis(250);
    for attempt in 1.. {
        match op().await {
            Err(e) if attempt < 4 && transient(&e) => {
                tracing::info!("retrying in {delay:?} after: {e}");
                tokio::time::sleep(delay).await;
                delay *= 2;
            }
            other => return other,
        }
    }
    unreachable!("the loop returns on its last attempt")
}

/// Whether the registry answered 401: the request's token (or credential) was refused.
pub(super) fn unauthorized(e: &OciDistributionError) -> bool {
    match e {
        OciDistributionError::UnauthorizedError { .. } => true,
        OciDistributionError::ServerError { code, .. } => *code == 401,
        OciDistributionError::RequestError(r) => r.status().is_some_and(|s| s.as_u16() == 401),
        OciDistributionError::RegistryError { envelope, .. } => envelope
            .errors
            .iter()
            .any(|e| matches!(e.code, oci_client::errors::OciErrorCode::Unauthorized)),
        _ => false,
    }
}

pub(super) fn not_found(e: &OciDistributionError) -> bool {
    match e {
        OciDistributionError::ImageManifestNotFoundError(_) => true,
        OciDistributionError::ServerError { code, .. } => *code == 404,
        OciDistributionError::RequestError(r) => r.status().is_some_and(|s| s.as_u16() == 404),
        OciDistributionError::RegistryError { envelope, .. } => envelope
            .errors
            .iter()
            .any(|e| matches!(e.code, oci_client::errors::OciErrorCode::ManifestUnknown)),
        _ => false,
    }
}

/// Whether an error means the registry could not be asked at all (transport, 5xx, 429) or
/// refused us (401, 403), as opposed to answering a request it does not support.
pub fn unreachable_or_refused(e: &OciDistributionError) -> bool {
    let status = match e {
        OciDistributionError::AuthenticationFailure(_)
        | OciDistributionError::UnauthorizedError { .. } => return true,
        OciDistributionError::ServerError { code, .. } => Some(*code),
        OciDistributionError::RequestError(r) => r.status().map(|s| s.as_u16()),
        _ => return transient(e),
    };
    status.is_none_or(|s| s == 401 || s == 403 || s == 429 || s >= 500)
}

fn transient(e: &OciDistributionError) -> bool {
    match e {
        OciDistributionError::RequestError(e) => e
            .status()
            .is_none_or(|s| s.as_u16() == 429 || s.is_server_error()),
        OciDistributionError::ServerError { code, .. } => *code == 429 || *code >= 500,
        OciDistributionError::IoError(_) => true,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unsupported_referrers_endpoint_is_not_an_unreachable_registry() {
        let server = |code| OciDistributionError::ServerError {
            code,
            url: "http://r/v2/x/referrers/sha256:0".into(),
            message: String::new(),
        };
        for code in [400, 404, 405, 406] {
            assert!(!unreachable_or_refused(&server(code)), "{code}");
        }
        for code in [401, 403, 429, 500, 503] {
            assert!(unreachable_or_refused(&server(code)), "{code}");
        }
        let parse = OciDistributionError::ManifestParsingError("html".into());
        assert!(!unreachable_or_refused(&parse));
    }
}
