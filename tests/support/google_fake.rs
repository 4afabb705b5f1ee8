//! A local stand-in for the Google and GitHub endpoints kbundle's Google login talks to: the
//! Actions OIDC token endpoint, STS `/v1/token`, IAM Credentials `generateAccessToken`, the
//! OAuth token endpoint (`/token`: service account JWT assertions and user refresh tokens) and
//! the metadata server. It checks the request fields and headers exactly as documented and answers
//! the way Google does, refusals included.

#![allow(dead_code)]

#[path = "http1.rs"]
mod http1;

use std::collections::BTreeMap;
use std::io::Write;
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};

#[path = "google_fake_oauth.rs"]
mod oauth;
use oauth::{check_assertion, check_refresh, issue};

pub const SCOPE: &str = "https://www.googleapis.com/auth/cloud-platform";
// No English words in the secrets: the leak check looks for any 8 characters of them.
pub const REQUEST_TOKEN: &str = "fake-rq-5a1cH8vLw2Pz";
pub const FEDERATED_TOKEN: &str = "fake-fd-77e0Kc3nQx9T";
pub const ACCESS_TOKEN: &str = "ya29.fake-at-3f9bJm4sRv7Y";
pub const PROVIDER: &str =
    "projects/123456789/locations/global/workloadIdentityPools/github/providers/kbundle";
pub const SERVICE_ACCOUNT: &str = "pusher@example-project.iam.gserviceaccount.com";
/// The test-only key the fake knows as `SERVICE_ACCOUNT`'s (see tests/fixtures/google/README.md).
pub const SERVICE_ACCOUNT_KEY: &str =
    include_str!("../fixtures/google/test-service-account-key.pem");
pub const SERVICE_ACCOUNT_KEY_ID: &str = "0123456789abcdef0123456789abcdef01234567";
pub const CLIENT_ID: &str = "764086051850-fake.apps.googleusercontent.com";
pub const CLIENT_SECRET: &str = "fake-cs-d9c1eUw6Bn2Q";
pub const REFRESH_TOKEN: &str = "1//fake-rt-0b7aZp5Xk8Lm";

/// How the fake behaves.
#[derive(Debug, Clone)]
pub struct Behaviour {
    /// The provider STS accepts ID tokens for.
    pub provider: String,
    /// The service account the federated identity may impersonate.
    pub service_account: String,
    /// STS says the ID token has expired.
    pub expired: bool,
    /// IAM denies `iam.serviceAccounts.getAccessToken`.
    pub deny: bool,
    /// STS answers this many requests with 503 before it works again.
    pub unavailable: usize,
    /// STS rejects the ID token by the provider's attribute condition.
    pub condition_rejects: bool,
    /// Short-lived, rotating tokens: the OAuth token endpoint and the metadata server issue a
    /// new token on every request, valid for `expires_in` seconds, and rewrite this htpasswd
    /// file of the registry so that only the newest token logs in.
    pub rotate: Option<Rotate>,
}

#[derive(Debug, Clone)]
pub struct Rotate {
    pub htpasswd: std::path::PathBuf,
    pub expires_in: u64,
}

impl Default for Behaviour {
    fn default() -> Behaviour {
        Behaviour {
            provider: PROVIDER.to_owned(),
            service_account: SERVICE_ACCOUNT.to_owned(),
            expired: false,
            deny: false,
            unavailable: 0,
            condition_rejects: false,
            rotate: None,
        }
    }
}

/// The running fake; its thread lives as long as the test process.
pub struct GoogleFake {
    /// `http://127.0.0.1:PORT`
    pub url: String,
    /// Every request seen, as `METHOD PATH`.
    pub seen: Arc<Mutex<Vec<String>>>,
    /// Every rotating token issued, oldest first.
    pub issued: Arc<Mutex<Vec<String>>>,
}

struct State {
    /// `http://127.0.0.1:PORT`, the audience service account assertions must name.
    url: String,
    behaviour: Behaviour,
    /// ID tokens handed out, with the audience each was requested for.
    jwts: Mutex<BTreeMap<String, String>>,
    /// STS requests answered with 503 so far.
    refused: Mutex<usize>,
    seen: Arc<Mutex<Vec<String>>>,
    issued: Arc<Mutex<Vec<String>>>,
}

impl GoogleFake {
    /// The fake as `GCE_METADATA_HOST` names a metadata server: `127.0.0.1:PORT`.
    pub fn metadata_host(&self) -> String {
        self.url.trim_start_matches("http://").to_owned()
    }

    pub fn start(behaviour: Behaviour) -> GoogleFake {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind fake");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        let seen = Arc::new(Mutex::new(Vec::new()));
        let issued = Arc::new(Mutex::new(Vec::new()));
        let state = Arc::new(State {
            issued: issued.clone(),
            url: url.clone(),
            behaviour,
            jwts: Mutex::new(BTreeMap::new()),
            refused: Mutex::new(0),
            seen: seen.clone(),
        });
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let state = state.clone();
                std::thread::spawn(move || serve(stream, &state));
            }
        });
        GoogleFake { url, seen, issued }
    }

    /// What `ACTIONS_ID_TOKEN_REQUEST_URL` is set to.
    pub fn oidc_request_url(&self) -> String {
        format!("{}/oidc/token?api-version=2.0", self.url)
    }
}

struct Request {
    method: String,
    path: String,
    query: BTreeMap<String, String>,
    headers: BTreeMap<String, String>,
    body: String,
}

fn read_request(stream: &TcpStream) -> Option<Request> {
    let raw = http1::read(stream)?;
    let (path, query) = raw.target.split_once('?').unwrap_or((&raw.target, ""));
    Some(Request {
        method: raw.method.clone(),
        path: decode(path),
        query: parse_form(query),
        headers: raw.headers,
        body: raw.body,
    })
}

fn decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("zz");
                match u8::from_str_radix(hex, 16) {
                    Ok(b) => {
                        out.push(b);
                        i += 2;
                    }
                    Err(_) => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn parse_form(s: &str) -> BTreeMap<String, String> {
    s.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (decode(k), decode(v))
        })
        .collect()
}

fn respond(mut stream: TcpStream, status: u16, body: &str) {
    let reason = match status {
        200 => "OK",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        503 => "Service Unavailable",
        _ => "Not Found",
    };
    let _ = write!(
        stream,
        "HTTP/1.1 {status} {reason}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = stream.flush();
}

fn oauth_error(error: &str, description: &str) -> String {
    serde_json::json!({"error": error, "error_description": description}).to_string()
}

fn serve(stream: TcpStream, state: &State) {
    let Some(request) = read_request(&stream) else {
        return;
    };
    state
        .seen
        .lock()
        .unwrap()
        .push(format!("{} {}", request.method, request.path));
    let (status, body) = answer(&request, state);
    respond(stream, status, &body);
}

fn answer(r: &Request, state: &State) -> (u16, String) {
    let b = &state.behaviour;
    let header = |name: &str| r.headers.get(name).map(String::as_str).unwrap_or("");
    match (r.method.as_str(), r.path.as_str()) {
        ("GET", "/oidc/token") => {
            if header("authorization") != format!("Bearer {REQUEST_TOKEN}") {
                return (401, r#"{"message":"Bad credentials"}"#.to_owned());
            }
            if r.query.get("api-version").map(String::as_str) != Some("2.0") {
                return (400, r#"{"message":"api-version missing"}"#.to_owned());
            }
            let Some(audience) = r.query.get("audience") else {
                return (400, r#"{"message":"audience missing"}"#.to_owned());
            };
            let mut jwts = state.jwts.lock().unwrap();
            let jwt = format!("eyJhbGciOiJSUzI1NiJ9.fake-id-token-{}.sig", jwts.len());
            jwts.insert(jwt.clone(), audience.clone());
            (
                200,
                serde_json::json!({"count": 1, "value": jwt}).to_string(),
            )
        }
        ("POST", "/v1/token") => {
            let mut refused = state.refused.lock().unwrap();
            if *refused < b.unavailable {
                *refused += 1;
                return (
                    503,
                    r#"{"error":{"code":503,"message":"The service is currently unavailable.","status":"UNAVAILABLE"}}"#.to_owned(),
                );
            }
            drop(refused);
            if !header("content-type").starts_with("application/x-www-form-urlencoded") {
                return (
                    400,
                    oauth_error("invalid_request", "fake: expected a form-encoded body"),
                );
            }
            let form = parse_form(&r.body);
            let expect = [
                (
                    "grant_type",
                    "urn:ietf:params:oauth:grant-type:token-exchange",
                ),
                ("scope", SCOPE),
                (
                    "requested_token_type",
                    "urn:ietf:params:oauth:token-type:access_token",
                ),
                ("subject_token_type", "urn:ietf:params:oauth:token-type:jwt"),
            ];
            for (k, v) in expect {
                if form.get(k).map(String::as_str) != Some(v) {
                    return (
                        400,
                        oauth_error("invalid_request", &format!("fake: {k} must be {v}")),
                    );
                }
            }
            let expected_audience = format!("//iam.googleapis.com/{}", b.provider);
            let audience = form.get("audience").cloned().unwrap_or_default();
            if audience != expected_audience {
                return (
                    400,
                    oauth_error(
                        "invalid_target",
                        "The target service indicated by the \"audience\" parameters is invalid. This might either be because the pool or provider is disabled or deleted or because it doesn't exist.",
                    ),
                );
            }
            let subject = form.get("subject_token").cloned().unwrap_or_default();
            let Some(token_audience) = state.jwts.lock().unwrap().get(&subject).cloned() else {
                return (
                    400,
                    oauth_error("invalid_grant", "Unable to parse the ID Token."),
                );
            };
            let wanted = format!("https://iam.googleapis.com/{}", b.provider);
            if token_audience != wanted {
                return (
                    400,
                    oauth_error(
                        "invalid_grant",
                        &format!(
                            "The audience in ID Token [{token_audience}] does not match the expected audience {wanted}."
                        ),
                    ),
                );
            }
            if b.expired {
                return (400, oauth_error("invalid_grant", "ID Token expired."));
            }
            if b.condition_rejects {
                return (
                    400,
                    oauth_error(
                        "unauthorized_client",
                        "The given credential is rejected by the attribute condition.",
                    ),
                );
            }
            (
                200,
                serde_json::json!({
                    "access_token": FEDERATED_TOKEN,
                    "issued_token_type": "urn:ietf:params:oauth:token-type:access_token",
                    "token_type": "Bearer",
                    "expires_in": 3599
                })
                .to_string(),
            )
        }
        ("POST", path) if path.ends_with(":generateAccessToken") => {
            let sa = path
                .strip_prefix("/v1/projects/-/serviceAccounts/")
                .and_then(|p| p.strip_suffix(":generateAccessToken"))
                .unwrap_or("");
            if header("authorization") != format!("Bearer {FEDERATED_TOKEN}") {
                return (
                    401,
                    r#"{"error":{"code":401,"message":"Request had invalid authentication credentials.","status":"UNAUTHENTICATED"}}"#.to_owned(),
                );
            }
            let body: serde_json::Value = serde_json::from_str(&r.body).unwrap_or_default();
            if !header("content-type").starts_with("application/json")
                || body != serde_json::json!({"scope": [SCOPE], "lifetime": "3600s"})
            {
                return (
                    400,
                    r#"{"error":{"code":400,"message":"fake: expected {\"scope\":[cloud-platform],\"lifetime\":\"3600s\"} as JSON","status":"INVALID_ARGUMENT"}}"#.to_owned(),
                );
            }
            if b.deny || sa != b.service_account {
                return (
                    403,
                    r#"{"error":{"code":403,"message":"Permission 'iam.serviceAccounts.getAccessToken' denied on resource (or it may not exist).","status":"PERMISSION_DENIED"}}"#.to_owned(),
                );
            }
            (
                200,
                serde_json::json!({"accessToken": ACCESS_TOKEN, "expireTime": "2099-01-01T00:00:00Z"})
                    .to_string(),
            )
        }
        ("POST", "/token") => {
            if !header("content-type").starts_with("application/x-www-form-urlencoded") {
                return (
                    400,
                    oauth_error("invalid_request", "fake: expected a form-encoded body"),
                );
            }
            let form = parse_form(&r.body);
            let checked = match form.get("grant_type").map(String::as_str) {
                Some("urn:ietf:params:oauth:grant-type:jwt-bearer") => {
                    check_assertion(form.get("assertion").map_or("", String::as_str), state)
                }
                Some("refresh_token") => check_refresh(&form),
                _ => Err(oauth_error(
                    "unsupported_grant_type",
                    "Invalid grant_type: ",
                )),
            };
            match checked {
                Ok(()) => {
                    let (token, expires_in) = issue(state);
                    (
                        200,
                        serde_json::json!({
                            "access_token": token,
                            "expires_in": expires_in,
                            "scope": SCOPE,
                            "token_type": "Bearer"
                        })
                        .to_string(),
                    )
                }
                Err(body) => (400, body),
            }
        }
        ("GET", "/computeMetadata/v1/instance/service-accounts/default/token") => {
            if header("metadata-flavor") != "Google" {
                return (403, r#"{"error":"missing Metadata-Flavor"}"#.to_owned());
            }
            let (token, expires_in) = issue(state);
            (
                200,
                serde_json::json!({"access_token": token, "expires_in": expires_in, "token_type": "Bearer"})
                    .to_string(),
            )
        }
        _ => (404, r#"{"error":"not found"}"#.to_owned()),
    }
}
