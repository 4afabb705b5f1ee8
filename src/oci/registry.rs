//! A remote registry through `oci-client`: plain HTTP for loopback, credentials (refreshed
//! when short-lived), retries.

use std::sync::Arc;
use std::time::Duration;

use oci_client::client::{Certificate, CertificateEncoding, ClientConfig, ClientProtocol};
use oci_client::errors::OciDistributionError;
use oci_client::secrets::RegistryAuth;
use oci_client::{Client, Reference, RegistryOperation};

use crate::auth::Refresh;
use crate::auth::docker::Credential;
use crate::bundle::Digest;

pub use super::retry::unreachable_or_refused;
use super::retry::{not_found, retry, unauthorized};

/// Media types a pull accepts, in preference order.
const ACCEPT: [&str; 4] = [
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
];

/// A self-signed certificate nobody holds the key of (made with `openssl req -x509`).
const PLACEHOLDER_ROOT: &[u8] = include_bytes!("plain-http-placeholder.pem");

/// One repository of one registry.
pub struct Registry {
    reference: Reference,
    plain: bool,
    /// Where a new credential comes from when the one in use is about to expire.
    refresh: Option<Arc<dyn Refresh>>,
    /// Boxed: it is most of the size, and `Store` holds a `Registry` inline.
    session: Box<tokio::sync::Mutex<Session>>,
    /// Repositories a cross-repository mount token was fetched for.
    mount_sources: tokio::sync::Mutex<Vec<String>>,
    /// How many times tokens were fetched afresh after a refusal (see [`Registry::call`]).
    /// Boxed, like `session`, to keep `Store` small.
    renewals: Box<tokio::sync::Mutex<u64>>,
}

/// The client and the credential it is logged in with.
struct Session {
    client: Client,
    auth: RegistryAuth,
    credential: Option<Credential>,
    /// The operations `login` answered the challenge for, to answer again after a refresh.
    logged_in: Vec<RegistryOperation>,
}

/// Whether a registry host is reached over plain HTTP without being asked: loopback only.
pub fn is_loopback(host: &str) -> bool {
    let name = host.rsplit_once(':').map_or(host, |(h, _)| h);
    name == "localhost" || name.starts_with("127.") || name == "[::1]"
}

fn client(host: &str, plain: bool) -> Client {
    Client::new(ClientConfig {
        protocol: if plain {
            ClientProtocol::HttpsExcept(vec![host.to_owned()])
        } else {
            ClientProtocol::Https
        },
        // Over plain HTTP no certificate is ever checked, yet building the TLS stack would
        // read and parse the whole system trust store (~60 ms, most of a no-change push).
        // A lone placeholder root keeps it from doing so.
        tls_certs_only: if plain {
            vec![Certificate {
                encoding: CertificateEncoding::Pem,
                data: PLACEHOLDER_ROOT.to_vec(),
            }]
        } else {
            Vec::new()
        },
        // Bundles are small: one POST and one PUT beat the chunked POST, PATCH, PUT.
        use_monolithic_push: true,
        connect_timeout: Some(Duration::from_secs(10)),
        read_timeout: Some(Duration::from_secs(120)),
        ..Default::default()
    })
}

fn registry_auth(credential: Option<&Credential>) -> RegistryAuth {
    match credential {
        None => RegistryAuth::Anonymous,
        Some(Credential::Basic { username, password }) => {
            RegistryAuth::Basic(username.clone(), password.expose().to_owned())
        }
        // Docker's identity tokens are refresh tokens for the token endpoint; registries
        // that hand them out (ACR, GAR via helpers) accept them with this user name.
        Some(Credential::IdentityToken(token)) => {
            RegistryAuth::Basic("<token>".to_owned(), token.expose().to_owned())
        }
    }
}

impl Registry {
    /// `refresh`, when given, is asked before every operation for the credential to use, and
    /// a new one makes the registry log in again (short-lived Google tokens).
    pub fn new(
        reference: Reference,
        plain_http: bool,
        credential: Option<Credential>,
        refresh: Option<Arc<dyn Refresh>>,
    ) -> Registry {
        let plain = plain_http || is_loopback(reference.resolve_registry());
        let session = Session {
            client: client(reference.resolve_registry(), plain),
            auth: registry_auth(credential.as_ref()),
            credential,
            logged_in: Vec::new(),
        };
        Registry {
            reference,
            plain,
            refresh,
            session: Box::new(tokio::sync::Mutex::new(session)),
            mount_sources: tokio::sync::Mutex::new(Vec::new()),
            renewals: Box::new(tokio::sync::Mutex::new(0)),
        }
    }

    /// The client and credential for the next request, logged in again first when the
    /// credential was refreshed.
    ///
    /// A new credential gets a new client: oci-client keeps the first credential it saw for a
    /// registry and answers later challenges (an expired registry token) with it, with no way
    /// to replace it, so reusing the client would bring the stale token back.
    async fn session(&self) -> Result<(Client, RegistryAuth), OciDistributionError> {
        let mut session = self.session.lock().await;
        if let Some(refresh) = &self.refresh {
            let refresh = refresh.clone();
            // Token endpoints are called with a blocking HTTP client.
            let current = tokio::task::spawn_blocking(move || refresh.current())
                .await
                .map_err(|e| OciDistributionError::GenericError(Some(e.to_string())))?
                .map_err(|e| OciDistributionError::GenericError(Some(e.to_string())))?;
            if session.credential.as_ref() != Some(&current) {
                tracing::debug!("registry credential refreshed; logging in again");
                let client = client(self.reference.resolve_registry(), self.plain);
                let auth = registry_auth(Some(&current));
                for operation in &session.logged_in {
                    retry(|| client.auth(&self.reference, &auth, *operation)).await?;
                }
                session.client = client;
                session.auth = auth;
                session.credential = Some(current);
            }
        }
        Ok((session.client.clone(), session.auth.clone()))
    }

    /// Whether the credential is refreshed during the run (`Connect::refresh`).
    pub fn refreshes(&self) -> bool {
        self.refresh.is_some()
    }

    pub fn reference(&self) -> &Reference {
        &self.reference
    }

    /// Logs in for an operation (answers the registry's Basic or Bearer challenge).
    pub async fn login(&self, operation: RegistryOperation) -> Result<(), OciDistributionError> {
        let (client, auth) = self.session().await?;
        self.answer(&client, &auth, operation).await?;
        let mut session = self.session.lock().await;
        if !session.logged_in.contains(&operation) {
            session.logged_in.push(operation);
        }
        Ok(())
    }

    /// Answers the challenge for `operation` afresh (a new token, where the registry uses
    /// them, replacing any the client holds); whether the answer was a bearer token.
    async fn answer(
        &self,
        client: &Client,
        auth: &RegistryAuth,
        operation: RegistryOperation,
    ) -> Result<bool, OciDistributionError> {
        let token = retry(|| client.auth(&self.reference, auth, operation)).await?;
        let bearer = token.is_some();
        if let (Some(token), RegistryOperation::Push) = (token, operation) {
            // A push token has pull too; without this, the first HEAD of a push (a pull
            // operation to oci-client) would fetch another token.
            client
                .auth(
                    &self.reference,
                    &RegistryAuth::Bearer(token),
                    RegistryOperation::Pull,
                )
                .await?;
        }
        Ok(bearer)
    }

    /// Runs a request (an `operation` to the token service) with [`retry`]. When the registry
    /// answers 401 to a token the client still holds valid (a token service whose clock is
    /// ahead, a token revoked early), it gets one fresh token and one more try; a second 401
    /// is the answer.
    async fn call<T, F, Fut>(
        &self,
        operation: RegistryOperation,
        request: F,
    ) -> Result<T, OciDistributionError>
    where
        F: Fn(Client, RegistryAuth) -> Fut,
        Fut: std::future::Future<Output = Result<T, OciDistributionError>>,
    {
        let seen = *self.renewals.lock().await;
        let (client, auth) = self.session().await?;
        match retry(|| request(client.clone(), auth.clone())).await {
            Err(e) if unauthorized(&e) && self.renew(seen, operation).await => {
                let (client, auth) = self.session().await?;
                retry(|| request(client.clone(), auth.clone())).await
            }
            other => other,
        }
    }

    /// Fetches fresh tokens for `operation` and each operation logged in for, unless another
    /// request did since `seen` (so concurrent refusals cost one token). False when there is
    /// nothing to renew: no bearer token (Basic auth, where a 401 is final) or no answer.
    async fn renew(&self, seen: u64, operation: RegistryOperation) -> bool {
        let mut renewals = self.renewals.lock().await;
        if *renewals != seen {
            return true;
        }
        let Ok((client, auth)) = self.session().await else {
            return false;
        };
        let mut operations = self.session.lock().await.logged_in.clone();
        if !operations.contains(&operation) {
            operations.push(operation);
        }
        // Push first: its token is stored for pull too.
        operations.sort_by_key(|o| *o != RegistryOperation::Push);
        let mut bearer = false;
        for (i, op) in operations.iter().enumerate() {
            if i > 0 && bearer && *op == RegistryOperation::Pull {
                break;
            }
            match self.answer(&client, &auth, *op).await {
                Ok(b) => bearer |= b,
                Err(e) => {
                    tracing::debug!("no fresh token after a refusal: {e}");
                    return false;
                }
            }
        }
        if bearer {
            tracing::info!("the registry refused a token before its expiry; fetched a new one");
            *renewals += 1;
            // The new push token replaced any mount token, which is fetched again if needed.
            self.mount_sources.lock().await.clear();
        }
        bearer
    }

    pub async fn has_blob(&self, digest: &Digest) -> Result<bool, OciDistributionError> {
        self.call(RegistryOperation::Pull, |client, _| async move {
            client.blob_exists(&self.reference, digest.as_str()).await
        })
        .await
    }

    pub async fn put_blob(&self, digest: &Digest, data: &[u8]) -> Result<(), OciDistributionError> {
        let bytes = bytes::Bytes::copy_from_slice(data);
        let pushed = self
            .call(RegistryOperation::Push, |client, _| {
                let bytes = bytes.clone();
                async move {
                    client
                        .push_blob(&self.reference, bytes, digest.as_str())
                        .await
                }
            })
            .await;
        match pushed {
            // go-containerregistry's registry (`crane registry serve`) finishes an upload with
            // 201 Created but no Location, which oci-client forgives for manifests only. Blobs
            // are fetched by digest, so the Location is not needed: the blob being there is.
            Err(OciDistributionError::RegistryNoLocationError)
                if self.has_blob(digest).await.unwrap_or(false) =>
            {
                Ok(())
            }
            other => other.map(|_| ()),
        }
    }

    pub async fn get_blob(&self, digest: &Digest) -> Result<Vec<u8>, OciDistributionError> {
        self.call(RegistryOperation::Pull, |client, _| async move {
            let mut out = Vec::new();
            client
                .pull_blob(&self.reference, digest.as_str(), &mut out)
                .await?;
            Ok(out)
        })
        .await
    }

    /// A blob as a stream of chunks (oci-client checks the digest again at its end). Only the
    /// request is retried: a transfer cut midway fails the read.
    pub async fn blob_stream(
        &self,
        digest: &Digest,
    ) -> Result<oci_client::client::SizedStream, OciDistributionError> {
        self.call(RegistryOperation::Pull, |client, _| async move {
            client
                .pull_blob_stream(&self.reference, digest.as_str())
                .await
        })
        .await
    }

    /// Puts a manifest under `tag`, or under its digest when there is none. One request: the
    /// registry stores a manifest under its digest whatever it is put under, and refuses the
    /// whole PUT if a blob it names is missing, so a failure leaves no tag pointing at
    /// anything incomplete.
    pub async fn put_manifest(
        &self,
        manifest: &[u8],
        media_type: &str,
        digest: &Digest,
        tag: Option<&str>,
    ) -> Result<(), OciDistributionError> {
        let content_type = http::HeaderValue::from_str(media_type)
            .map_err(|e| OciDistributionError::GenericError(Some(e.to_string())))?;
        let body = bytes::Bytes::copy_from_slice(manifest);
        let (registry, repository) = (self.reference.registry(), self.reference.repository());
        let target = match tag {
            Some(tag) => {
                Reference::with_tag(registry.to_owned(), repository.to_owned(), tag.into())
            }
            // The digest is the tag too: a registry that answers 201 without a Location (such
            // as go-containerregistry's) sends oci-client down a workaround that cuts the tag
            // off the URL and panics when there is none. The URL is the same.
            None => Reference::with_tag_and_digest(
                registry.to_owned(),
                repository.to_owned(),
                digest.to_string(),
                digest.to_string(),
            ),
        };
        self.call(RegistryOperation::Push, |client, _| {
            let (target, body, content_type) = (&target, body.clone(), content_type.clone());
            async move { client.push_manifest_raw(target, body, content_type).await }
        })
        .await?;
        Ok(())
    }

    /// The digest `tag` of this repository names, if any (a HEAD request).
    pub async fn tag_digest(&self, tag: &str) -> Option<String> {
        let reference = Reference::with_tag(
            self.reference.registry().to_owned(),
            self.reference.repository().to_owned(),
            tag.to_owned(),
        );
        let (client, auth) = self.session().await.ok()?;
        client.fetch_manifest_digest(&reference, &auth).await.ok()
    }

    /// The manifest the reference names: (digest, media type, bytes).
    pub async fn manifest(&self) -> Result<(Digest, String, Vec<u8>), OciDistributionError> {
        self.manifest_of(&self.reference).await
    }

    /// The manifest under another tag of the same repository, if there is one.
    pub async fn manifest_at(
        &self,
        tag: &str,
    ) -> Result<Option<(Digest, String, Vec<u8>)>, OciDistributionError> {
        let reference = Reference::with_tag(
            self.reference.registry().to_owned(),
            self.reference.repository().to_owned(),
            tag.to_owned(),
        );
        match self.manifest_of(&reference).await {
            Ok(found) => Ok(Some(found)),
            Err(e) if not_found(&e) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Makes a blob of another repository of the same registry available here without
    /// uploading it (cross-repository mount); false when the registry declined.
    pub async fn mount_blob(&self, from: &Reference, digest: &Digest) -> bool {
        let Ok((client, auth)) = self.session().await else {
            return false;
        };
        self.authorize_mount(&client, &auth, from).await;
        client
            .mount_blob(&self.reference, from, digest.as_str())
            .await
            .is_ok()
    }

    /// Once per source repository: a token with pull on `from` and push here, put where
    /// oci-client looks for this repository's push token (it covers everything that one
    /// does). Registries without tokens need nothing.
    async fn authorize_mount(&self, client: &Client, auth: &RegistryAuth, from: &Reference) {
        let mut done = self.mount_sources.lock().await;
        if done.iter().any(|r| r == from.repository()) {
            return;
        }
        done.push(from.repository().to_owned());
        let base = format!(
            "{}://{}",
            if self.plain { "http" } else { "https" },
            self.reference.resolve_registry()
        );
        let basic = match auth {
            RegistryAuth::Basic(user, password) => Some((user.clone(), password.clone())),
            _ => None,
        };
        let scopes = vec![
            format!("repository:{}:pull,push", self.reference.repository()),
            format!("repository:{}:pull", from.repository()),
        ];
        let token = tokio::task::spawn_blocking(move || {
            let basic = basic.as_ref().map(|(u, p)| (u.as_str(), p.as_str()));
            super::token::fetch(&base, basic, &scopes)
        })
        .await
        .ok()
        .flatten();
        if let Some(token) = token {
            let bearer = RegistryAuth::Bearer(token);
            if let Err(e) = client
                .auth(&self.reference, &bearer, RegistryOperation::Push)
                .await
            {
                tracing::debug!("mount token not taken: {e}");
            }
        }
    }

    /// The referrers of `subject` as an image index (JSON): the registry's referrers API, or
    /// where it has none (a 404) the referrers tag schema's index, as oci-client reads them.
    pub async fn referrers(&self, subject: &Digest) -> Result<Vec<u8>, OciDistributionError> {
        let by_digest = self.reference.clone_with_digest(subject.to_string());
        let index = self
            .call(RegistryOperation::Pull, |client, _| {
                let by_digest = &by_digest;
                async move { client.pull_referrers(by_digest, None).await }
            })
            .await?;
        serde_json::to_vec(&index)
            .map_err(|e| OciDistributionError::GenericError(Some(e.to_string())))
    }

    /// A manifest of this repository by digest (a referrer): its bytes, whatever its type.
    pub async fn manifest_by_digest(
        &self,
        digest: &Digest,
    ) -> Result<Vec<u8>, OciDistributionError> {
        let by_digest = self.reference.clone_with_digest(digest.to_string());
        Ok(self.manifest_of(&by_digest).await?.2)
    }

    async fn manifest_of(
        &self,
        reference: &Reference,
    ) -> Result<(Digest, String, Vec<u8>), OciDistributionError> {
        let (bytes, digest) = self
            .call(RegistryOperation::Pull, |client, auth| async move {
                client.pull_manifest_raw(reference, &auth, &ACCEPT).await
            })
            .await?;
        let media_type = serde_json::from_slice::<serde_json::Value>(&bytes)
            .ok()
            .and_then(|v| v.get("mediaType")?.as_str().map(str::to_owned))
            .unwrap_or_else(|| ACCEPT[0].to_owned());
        let digest = digest.parse().map_err(|e: crate::bundle::DigestError| {
            OciDistributionError::GenericError(Some(e.to_string()))
        })?;
        Ok((digest, media_type, bytes.to_vec()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_hosts_use_plain_http() {
        assert!(is_loopback("localhost:5000"));
        assert!(is_loopback("127.0.0.1:41234"));
        assert!(!is_loopback("us-docker.pkg.dev"));
        assert!(!is_loopback("localhost.example.com"));
    }
}
