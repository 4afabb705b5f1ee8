//! Direct Workload Identity Federation from GitHub Actions: the job's OIDC token, requested for
//! the provider's audience, exchanged at STS, then optionally for a service account's token.

use super::{AccessToken, DEFAULT_IAMCREDENTIALS_ENDPOINT, DEFAULT_STS_ENDPOINT, Options, sts};
use crate::auth::actions_oidc;
use crate::error::{Error, Result};

const JWT_TOKEN_TYPE: &str = "urn:ietf:params:oauth:token-type:jwt";

/// `projects/N/locations/global/workloadIdentityPools/P/providers/X`, with or without the
/// `//iam.googleapis.com/` or `https://iam.googleapis.com/` prefix.
pub(super) fn provider_name(provider: &str) -> Result<String> {
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
pub(super) fn token(agent: &ureq::Agent, provider: &str, options: &Options) -> Result<AccessToken> {
    let provider = provider_name(provider)?;
    let oidc_audience = format!("https://iam.googleapis.com/{provider}");
    let jwt = actions_oidc::request(agent, &oidc_audience, "--workload-identity-provider")?;
    let sts_base = options
        .sts_endpoint
        .as_deref()
        .unwrap_or(DEFAULT_STS_ENDPOINT)
        .trim_end_matches('/');
    let federated = sts::exchange(
        agent,
        &format!("{sts_base}/v1/token"),
        &format!("//iam.googleapis.com/{provider}"),
        JWT_TOKEN_TYPE,
        &jwt,
    )?;
    match options.service_account.as_deref().filter(|s| !s.is_empty()) {
        Some(sa) => {
            let iam = options
                .iamcredentials_endpoint
                .as_deref()
                .unwrap_or(DEFAULT_IAMCREDENTIALS_ENDPOINT)
                .trim_end_matches('/');
            let url = format!("{iam}/v1/projects/-/serviceAccounts/{sa}:generateAccessToken");
            sts::impersonate(agent, &url, sa, &federated)
        }
        None => Ok(federated),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
