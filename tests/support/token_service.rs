//! A local token service for the real registry's `auth: token` mode, following the Docker
//! registry token protocol (distribution's docs/spec/auth/token.md) the way Artifact Registry's
//! `/v2/token` does: `GET REALM?service=…&scope=repository:NAME:ACTIONS…`, Basic
//! `oauth2accesstoken:<Google access token>` (or no credential for public pulls), a JSON answer
//! with `token`, `access_token`, `expires_in` and `issued_at`, and refusals as 401 with a
//! registry-style error body.
//!
//! The tokens are JWTs in the form distribution 2.8 checks (registry/auth/token/token.go): ES256,
//! an `x5c` header holding the certificate of the signing key, which the registry trusts through
//! its `rootcertbundle`, and claims `iss`, `sub`, `aud` (a string: the service), `exp`, `nbf`,
//! `iat`, `jti` and `access` (`[{type, name, actions}]`). The registry verifies every token and
//! every action itself; this service only decides what to grant, from the test's table.
//!
//! `Registry` here is the real `docker-registry` configured to trust this service.

#![allow(dead_code)]

use std::collections::VecDeque;
use std::io::Write;
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine as _;

#[path = "http1.rs"]
mod http1;

pub const SERVICE: &str = "kbundle-test-registry";
pub const ISSUER: &str = "kbundle-test-token-service";
/// The user name Artifact Registry expects with a Google access token as the password.
pub const GOOGLE_USER: &str = "oauth2accesstoken";

/// Who may do what, per repository.
#[derive(Clone, Debug)]
pub struct Grant {
    /// The password (a Google access token) of user `oauth2accesstoken`; `None` grants to
    /// everyone, anonymous requests included (a public repository).
    pub token: Option<String>,
    /// A repository name, or a prefix ending in `*`.
    pub repository: String,
    /// Of "pull", "push".
    pub actions: Vec<&'static str>,
}

impl Grant {
    pub fn to(token: &str, repository: &str, actions: &[&'static str]) -> Grant {
        Grant {
            token: Some(token.to_owned()),
            repository: repository.to_owned(),
            actions: actions.to_vec(),
        }
    }

    pub fn public(repository: &str) -> Grant {
        Grant {
            token: None,
            repository: repository.to_owned(),
            actions: vec!["pull"],
        }
    }

    fn covers(&self, token: Option<&str>, repository: &str) -> bool {
        let who = self.token.is_none() || self.token.as_deref() == token;
        let name = match self.repository.strip_suffix('*') {
            Some(prefix) => repository.starts_with(prefix),
            None => repository == self.repository,
        };
        who && name
    }
}

/// The test's table.
#[derive(Clone, Debug)]
pub struct Policy {
    /// Google access tokens the service accepts from user `oauth2accesstoken`.
    pub tokens: Vec<String>,
    pub grants: Vec<Grant>,
    /// Seconds from now to each token's `exp`. Negative values hand out tokens whose `exp` has
    /// already passed but that the registry still accepts (it allows 60 s of clock skew): a
    /// client that keeps time must fetch a new one before every request.
    pub lifetime: i64,
}

impl Policy {
    /// One Google token with pull and push everywhere, tokens valid for five minutes.
    pub fn writer(token: &str) -> Policy {
        Policy {
            tokens: vec![token.to_owned()],
            grants: vec![Grant::to(token, "*", &["pull", "push"])],
            lifetime: 300,
        }
    }
}

/// One token the service issued.
#[derive(Clone, Debug)]
pub struct Issued {
    /// The Google token it was issued for; `None` when anonymous.
    pub login: Option<String>,
    /// The scopes asked for, as sent.
    pub scopes: Vec<String>,
    /// What it grants: (repository, actions).
    pub access: Vec<(String, Vec<String>)>,
    pub token: String,
}

/// The running service; its thread lives as long as the test process.
pub struct TokenService {
    /// `http://127.0.0.1:PORT/token`
    pub realm: String,
    pub issued: Arc<Mutex<Vec<Issued>>>,
    /// Requests with a credential the service did not accept.
    pub refused: Arc<Mutex<usize>>,
    /// The PEM certificate the registry must trust.
    pub certificate: String,
    ahead: Arc<Mutex<VecDeque<i64>>>,
}

struct State {
    policy: Mutex<Policy>,
    key: jsonwebtoken::EncodingKey,
    x5c: String,
    issued: Arc<Mutex<Vec<Issued>>>,
    refused: Arc<Mutex<usize>>,
    serial: AtomicU64,
    ahead: Arc<Mutex<VecDeque<i64>>>,
}

impl TokenService {
    pub fn start(policy: Policy) -> TokenService {
        let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).expect("key");
        let mut params =
            rcgen::CertificateParams::new(vec!["kbundle-test-token-service".to_owned()])
                .expect("params");
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "kbundle test token service");
        let cert = params.self_signed(&key).expect("certificate");
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind token service");
        let realm = format!("http://{}/token", listener.local_addr().expect("addr"));
        let issued = Arc::new(Mutex::new(Vec::new()));
        let refused = Arc::new(Mutex::new(0));
        let ahead = Arc::new(Mutex::new(VecDeque::new()));
        let state = Arc::new(State {
            policy: Mutex::new(policy),
            key: jsonwebtoken::EncodingKey::from_ec_pem(key.serialize_pem().as_bytes())
                .expect("signing key"),
            x5c: base64::engine::general_purpose::STANDARD.encode(cert.der()),
            issued: issued.clone(),
            refused: refused.clone(),
            serial: AtomicU64::new(0),
            ahead: ahead.clone(),
        });
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let state = state.clone();
                std::thread::spawn(move || serve(stream, &state));
            }
        });
        TokenService {
            realm,
            issued,
            refused,
            certificate: cert.pem(),
            ahead,
        }
    }

    /// Runs the service's clock `seconds[i]` ahead of the registry's for the i-th of the next
    /// tokens (then true time again). A token issued an hour ahead has its `nbf` an hour from
    /// now, so the registry refuses it (past its 60 s leeway), while its `exp` tells the
    /// client it is good: what a token service with a skewed clock, or a revoked token, look
    /// like from the client.
    pub fn skew_next(&self, seconds: &[i64]) {
        self.ahead.lock().expect("ahead").extend(seconds);
    }

    /// Tokens issued so far.
    pub fn count(&self) -> usize {
        self.issued.lock().expect("issued").len()
    }

    pub fn issued(&self) -> Vec<Issued> {
        self.issued.lock().expect("issued").clone()
    }
}

/// The real `docker-registry` in token mode, trusting a running token service.
pub struct TokenRegistry {
    pub registry: crate::support::Registry,
    pub tokens: TokenService,
    /// `127.0.0.1:PORT` of the registry.
    pub addr: String,
    _dir: tempfile::TempDir,
}

impl TokenRegistry {
    pub fn start(policy: Policy) -> TokenRegistry {
        let tokens = TokenService::start(policy);
        let dir = tempfile::tempdir().expect("tempdir");
        let bundle = dir.path().join("token-service.pem");
        std::fs::write(&bundle, &tokens.certificate).expect("write root bundle");
        let registry = crate::support::Registry::with_auth_config(&format!(
            "auth:\n  token:\n    realm: {}\n    service: {SERVICE}\n    issuer: {ISSUER}\n    rootcertbundle: {}\n",
            tokens.realm,
            bundle.display()
        ));
        TokenRegistry {
            addr: registry.addr.clone(),
            registry,
            tokens,
            _dir: dir,
        }
    }

    /// `--creds` for skopeo with a Google token.
    pub fn creds(token: &str) -> String {
        format!("{GOOGLE_USER}:{token}")
    }
}

/// The signature part of a JWT: what makes it usable, and what a leak check looks for.
pub fn signature(token: &str) -> String {
    token.rsplit('.').next().unwrap_or(token).to_owned()
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

fn serve(mut stream: TcpStream, state: &State) {
    let Some(raw) = http1::read(&stream) else {
        return;
    };
    let (path, query) = raw.target.split_once('?').unwrap_or((&raw.target, ""));
    let (status, body) = if raw.method != "GET" || path != "/token" {
        (404, error("NOT_FOUND", "no such endpoint"))
    } else {
        answer(
            state,
            query,
            raw.headers.get("authorization").map(String::as_str),
        )
    };
    let reason = match status {
        200 => "OK",
        400 => "Bad Request",
        401 => "Unauthorized",
        _ => "Not Found",
    };
    let _ = write!(
        stream,
        "HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
}

fn error(code: &str, message: &str) -> String {
    serde_json::json!({"errors": [{"code": code, "message": message}]}).to_string()
}

/// The login a request carries: `Ok(None)` anonymous, `Err` a credential not accepted.
fn login(state: &State, authorization: Option<&str>) -> Result<Option<String>, ()> {
    let Some(value) = authorization else {
        return Ok(None);
    };
    let encoded = value.strip_prefix("Basic ").ok_or(())?;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .map_err(|_| ())?;
    let text = String::from_utf8(decoded).map_err(|_| ())?;
    let (user, password) = text.split_once(':').ok_or(())?;
    let policy = state.policy.lock().expect("policy");
    if user == GOOGLE_USER && policy.tokens.iter().any(|t| t == password) {
        Ok(Some(password.to_owned()))
    } else {
        Err(())
    }
}

fn answer(state: &State, query: &str, authorization: Option<&str>) -> (u16, String) {
    let Ok(login) = login(state, authorization) else {
        *state.refused.lock().expect("refused") += 1;
        return (
            401,
            error(
                "UNAUTHORIZED",
                "failed authentication: the access token is not valid",
            ),
        );
    };
    let mut service = None;
    let mut scopes = Vec::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let v = decode(v);
        match k {
            "service" => service = Some(v),
            "scope" => scopes.extend(v.split(' ').filter(|s| !s.is_empty()).map(str::to_owned)),
            _ => {}
        }
    }
    if service.as_deref() != Some(SERVICE) {
        return (400, error("UNSUPPORTED", "unknown service"));
    }
    let policy = state.policy.lock().expect("policy").clone();
    let mut access: Vec<(String, Vec<String>)> = Vec::new();
    for scope in &scopes {
        // repository:NAME:ACTIONS (a name never holds a colon; a registry host is not part of it)
        let mut parts = scope.splitn(3, ':');
        let (Some("repository"), Some(name), Some(actions)) =
            (parts.next(), parts.next(), parts.next())
        else {
            continue;
        };
        let granted: Vec<String> = actions
            .split(',')
            .filter(|a| {
                policy
                    .grants
                    .iter()
                    .any(|g| g.covers(login.as_deref(), name) && g.actions.contains(a))
            })
            .map(str::to_owned)
            .collect();
        // As distribution's spec says: grant what can be granted, an empty list included.
        access.push((name.to_owned(), granted));
    }
    let ahead = state.ahead.lock().expect("ahead").pop_front().unwrap_or(0);
    let iat = now() + ahead;
    let exp = iat + policy.lifetime;
    let jti = state.serial.fetch_add(1, Ordering::SeqCst);
    let claims = serde_json::json!({
        "iss": ISSUER,
        "sub": login.as_ref().map_or("anonymous", |_| "pusher@example-project.iam.gserviceaccount.com"),
        "aud": SERVICE,
        "exp": exp,
        "nbf": iat - 1,
        "iat": iat,
        "jti": format!("token-{jti}"),
        "access": access.iter().map(|(name, actions)| serde_json::json!({
            "type": "repository", "name": name, "actions": actions,
        })).collect::<Vec<_>>(),
    });
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::ES256);
    header.typ = Some("JWT".to_owned());
    header.x5c = Some(vec![state.x5c.clone()]);
    let token = jsonwebtoken::encode(&header, &claims, &state.key).expect("sign token");
    state.issued.lock().expect("issued").push(Issued {
        login,
        scopes,
        access,
        token: token.clone(),
    });
    let issued_at = chrono::DateTime::from_timestamp(iat, 0)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        .unwrap_or_default();
    let body = serde_json::json!({
        "token": token,
        "access_token": token,
        "expires_in": policy.lifetime.max(1),
        "issued_at": issued_at,
    });
    (200, body.to_string())
}

/// Percent-decoding of a query value (`+` is a space, as in forms).
fn decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(b)) => {
                out.push(b);
                i += 3;
                continue;
            }
            (b'+', _) => out.push(b' '),
            (b, _) => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}
