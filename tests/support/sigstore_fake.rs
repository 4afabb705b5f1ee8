//! A local fake of the three services keyless signing talks to, following their published
//! APIs: the GitHub Actions OIDC token endpoint (`GET ?audience=`, bearer request token,
//! `{"value": JWT}`), Fulcio v2 (`POST /api/v2/signingCert`: checks every request field and
//! the proof of possession, then issues a real X.509 chain from a test CA, P-384 root and
//! intermediate like the public-good Fulcio, with the SAN and the issuer extension
//! 1.3.6.1.4.1.57264.1.8) and Rekor (`POST /api/v1/log/entries`: checks the hashedrekord
//! v0.0.1 entry, answers with the canonical body and a real SET signed by a test log key).

#![allow(dead_code)]

#[path = "http1.rs"]
mod http1;

use std::collections::BTreeMap;
use std::io::Write;
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use kbundle::signing::keys::{PrivateKey, PublicKey};
use rcgen::{
    BasicConstraints, CertificateParams, CustomExtension, DnType, IsCa, Issuer, KeyPair,
    KeyUsagePurpose, PKCS_ECDSA_P256_SHA256, PKCS_ECDSA_P384_SHA384, PublicKeyData, SanType,
};
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};

pub const REQUEST_TOKEN: &str = "fake-actions-request-token-sigstore-91d2";
pub const ISSUER: &str = "https://token.actions.githubusercontent.com";
pub const IDENTITY: &str =
    "https://github.com/example/fleet/.github/workflows/publish.yml@refs/heads/main";
/// Marks every ID token the fake issues, so tests can look for leaks.
pub const TOKEN_MARK: &str = "fakesigstoreidtoken";

/// How the fake misbehaves, for the failure tests.
#[derive(Debug, Clone, Default)]
pub struct Behaviour {
    /// Rekor's integratedTime is this many seconds after now (outside a 10-minute cert).
    pub integrated_time_shift: i64,
    /// Rekor signs its SET over other bytes than the canonical entry.
    pub bad_set: bool,
    /// Tokens are a person's (issuer `EMAIL_ISSUER`, a verified `email` claim): Fulcio's
    /// principal is then the address, in the SAN as an e-mail, and the proof signs it.
    pub email: Option<String>,
    /// Fulcio answers this many requests with 503 before it works.
    pub fulcio_unavailable: usize,
}

pub const EMAIL_ISSUER: &str = "https://accounts.google.com";

/// A test CA: root, intermediate and the intermediate's key.
struct Ca {
    root_pem: String,
    intermediate_pem: String,
    issuer: Issuer<'static, KeyPair>,
}

fn ca(name: &str) -> Ca {
    let root_key = KeyPair::generate_for(&PKCS_ECDSA_P384_SHA384).expect("root key");
    let mut root = CertificateParams::new(Vec::<String>::new()).expect("params");
    root.distinguished_name.push(DnType::OrganizationName, name);
    root.distinguished_name.push(DnType::CommonName, "sigstore");
    root.is_ca = IsCa::Ca(BasicConstraints::Constrained(1));
    root.key_usages = vec![KeyUsagePurpose::KeyCertSign];
    let root_cert = root.self_signed(&root_key).expect("root");
    let root_issuer = Issuer::new(root, root_key);
    let inter_key = KeyPair::generate_for(&PKCS_ECDSA_P384_SHA384).expect("intermediate key");
    let mut inter = CertificateParams::new(Vec::<String>::new()).expect("params");
    inter
        .distinguished_name
        .push(DnType::OrganizationName, name);
    inter
        .distinguished_name
        .push(DnType::CommonName, "sigstore-intermediate");
    inter.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    inter.key_usages = vec![KeyUsagePurpose::KeyCertSign];
    let inter_cert = inter
        .signed_by(&inter_key, &root_issuer)
        .expect("intermediate");
    Ca {
        root_pem: root_cert.pem(),
        intermediate_pem: inter_cert.pem(),
        issuer: Issuer::new(inter, inter_key),
    }
}

/// A CA nobody trusts, for the untrusted-root test: its root as PEM.
pub fn other_root_pem() -> String {
    ca("other.example").root_pem
}

/// The client's P-256 key as rcgen needs it: the raw EC point of the SPKI.
struct ClientKey(Vec<u8>);

impl PublicKeyData for ClientKey {
    fn der_bytes(&self) -> &[u8] {
        &self.0
    }
    fn algorithm(&self) -> &'static rcgen::SignatureAlgorithm {
        &PKCS_ECDSA_P256_SHA256
    }
}

struct State {
    ca: Ca,
    rekor_key: PrivateKey,
    behaviour: Behaviour,
    /// ID token → its claims, for the tokens this fake issued.
    tokens: Mutex<BTreeMap<String, Value>>,
    log_index: Mutex<i64>,
    /// RFC 6962 leaf hashes of the `dsse` entries, in log order: the fake's Merkle tree.
    dsse_leaves: Mutex<Vec<[u8; 32]>>,
    refused: Mutex<usize>,
    seen: Arc<Mutex<Vec<String>>>,
}

/// The running fake; its thread lives as long as the test process.
pub struct SigstoreFake {
    /// `http://127.0.0.1:PORT`
    pub url: String,
    /// The fake Fulcio's root and intermediate (PEM): what `--certificate-chain` trusts.
    pub ca_pem: String,
    /// The fake Rekor's public key (PEM): what `--rekor-public-key` trusts.
    pub rekor_pem: String,
    /// Every request seen, as `METHOD PATH`.
    pub seen: Arc<Mutex<Vec<String>>>,
    state: Arc<State>,
}

impl SigstoreFake {
    pub fn start(behaviour: Behaviour) -> SigstoreFake {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind fake");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        let seen = Arc::new(Mutex::new(Vec::new()));
        let ca = ca("fake-sigstore.example");
        let ca_pem = format!("{}{}", ca.intermediate_pem, ca.root_pem);
        let rekor_key = PrivateKey::generate();
        let rekor_pem = rekor_key.public_key().to_pem();
        let state = Arc::new(State {
            ca,
            rekor_key,
            behaviour,
            tokens: Mutex::new(BTreeMap::new()),
            log_index: Mutex::new(1000),
            dsse_leaves: Mutex::new(Vec::new()),
            refused: Mutex::new(0),
            seen: seen.clone(),
        });
        let serving = state.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let state = serving.clone();
                std::thread::spawn(move || serve(stream, &state));
            }
        });
        SigstoreFake {
            url,
            ca_pem,
            rekor_pem,
            seen,
            state,
        }
    }

    /// What `ACTIONS_ID_TOKEN_REQUEST_URL` is set to.
    pub fn oidc_request_url(&self) -> String {
        format!("{}/oidc/token?api-version=2.0", self.url)
    }

    /// An ID token as an OIDC provider would issue it for `audience` (unsigned: Fulcio's
    /// check of the provider's signature is out of this fake's scope; it accepts only tokens
    /// it issued).
    pub fn id_token(&self, audience: &str) -> String {
        mint(&self.state, audience)
    }
}

fn mint(state: &State, audience: &str) -> String {
    let claims = match &state.behaviour.email {
        Some(email) => json!({
            "iss": EMAIL_ISSUER, "aud": audience, "sub": "104857600123456789012",
            "email": email, "email_verified": true, "exp": now() + 300, "jti": TOKEN_MARK,
        }),
        None => json!({
            "iss": ISSUER, "aud": audience, "sub": "repo:example/fleet:ref:refs/heads/main",
            "job_workflow_ref": "example/fleet/.github/workflows/publish.yml@refs/heads/main",
            "exp": now() + 300, "jti": TOKEN_MARK,
        }),
    };
    let token = format!(
        "{}.{}.{}",
        URL_SAFE_NO_PAD.encode(r#"{"alg":"RS256","typ":"JWT"}"#),
        URL_SAFE_NO_PAD.encode(claims.to_string()),
        URL_SAFE_NO_PAD.encode(TOKEN_MARK)
    );
    state
        .tokens
        .lock()
        .expect("lock")
        .insert(token.clone(), claims);
    token
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

struct Request {
    method: String,
    path: String,
    query: String,
    headers: BTreeMap<String, String>,
    body: String,
}

fn read_request(stream: &TcpStream) -> Option<Request> {
    let raw = http1::read(stream)?;
    let (path, query) = raw.target.split_once('?').unwrap_or((&raw.target, ""));
    Some(Request {
        method: raw.method.clone(),
        path: path.to_owned(),
        query: query.to_owned(),
        headers: raw.headers,
        body: raw.body,
    })
}

fn respond(mut stream: TcpStream, status: u16, body: &str) {
    let reason = match status {
        200 => "OK",
        201 => "Created",
        400 => "Bad Request",
        401 => "Unauthorized",
        503 => "Service Unavailable",
        _ => "Not Found",
    };
    let _ = write!(
        stream,
        "HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = stream.flush();
}

/// Fulcio's and Rekor's error shape (gRPC gateway / go-swagger): `{"code", "message"}`.
fn error(status: u16, message: &str) -> (u16, String) {
    (
        status,
        json!({"code": status, "message": message}).to_string(),
    )
}

fn serve(stream: TcpStream, state: &State) {
    let Some(request) = read_request(&stream) else {
        return;
    };
    state
        .seen
        .lock()
        .expect("lock")
        .push(format!("{} {}", request.method, request.path));
    let (status, body) = match (request.method.as_str(), request.path.as_str()) {
        ("GET", "/oidc/token") => oidc(&request, state),
        ("POST", "/api/v2/signingCert") => fulcio(&request, state),
        ("POST", "/api/v1/log/entries") => rekor(&request, state),
        _ => error(404, "no such endpoint"),
    };
    respond(stream, status, &body);
}

fn json_request(r: &Request) -> Result<Value, (u16, String)> {
    if r.headers.get("content-type").map(String::as_str) != Some("application/json") {
        return Err(error(400, "Content-Type must be application/json"));
    }
    serde_json::from_str(&r.body).map_err(|_| error(400, "body is not JSON"))
}

fn oidc(r: &Request, state: &State) -> (u16, String) {
    if r.headers.get("authorization").map(String::as_str)
        != Some(&format!("Bearer {REQUEST_TOKEN}"))
    {
        return (401, r#"{"message":"bad request token"}"#.to_owned());
    }
    let query: BTreeMap<&str, &str> = r
        .query
        .split('&')
        .filter_map(|p| p.split_once('='))
        .collect();
    if query.get("api-version") != Some(&"2.0") {
        return (400, r#"{"message":"api-version lost"}"#.to_owned());
    }
    let Some(audience) = query.get("audience") else {
        return (400, r#"{"message":"no audience"}"#.to_owned());
    };
    (200, json!({"value": mint(state, audience)}).to_string())
}

fn fulcio(r: &Request, state: &State) -> (u16, String) {
    {
        let mut refused = state.refused.lock().expect("lock");
        if *refused < state.behaviour.fulcio_unavailable {
            *refused += 1;
            return error(503, "service unavailable");
        }
    }
    let body = match json_request(r) {
        Ok(b) => b,
        Err(e) => return e,
    };
    let text = |p: &str| body.pointer(p).and_then(Value::as_str).unwrap_or_default();
    let token = text("/credentials/oidcIdentityToken");
    let Some(claims) = state.tokens.lock().expect("lock").get(token).cloned() else {
        return error(401, "There was an error processing the identity token");
    };
    if claims["aud"] != "sigstore" {
        return error(401, "The identity token's audience is not sigstore");
    }
    if text("/publicKeyRequest/publicKey/algorithm") != "ECDSA" {
        return error(400, "publicKey.algorithm must be ECDSA for this key");
    }
    let Ok(key) = PublicKey::from_pem(text("/publicKeyRequest/publicKey/content")) else {
        return error(
            400,
            "The public key supplied in the request could not be parsed",
        );
    };
    // Proof of possession: the key's signature over the principal's name: the address for an
    // e-mail principal, else `sub` (Fulcio's identity.Principal.Name).
    let proof = STANDARD
        .decode(text("/publicKeyRequest/proofOfPossession"))
        .unwrap_or_default();
    let email = claims["email"].as_str();
    let subject = email.or(claims["sub"].as_str()).unwrap_or_default();
    if key.verify(subject.as_bytes(), &proof).is_err() {
        return error(
            400,
            "The signature supplied in the request could not be verified",
        );
    }
    let spki = key.to_spki_der();
    let point = spki[spki.len().saturating_sub(65)..].to_vec();
    let mut leaf = CertificateParams::new(Vec::<String>::new()).expect("params");
    leaf.subject_alt_names = vec![match email {
        Some(e) => SanType::Rfc822Name(e.try_into().expect("ia5")),
        None => SanType::URI(IDENTITY.try_into().expect("ia5")),
    }];
    let issuer = claims["iss"].as_str().unwrap_or_default().to_owned();
    let start = rcgen::date_time_ymd(1970, 1, 1) + Duration::from_secs(now() as u64);
    leaf.not_before = start - Duration::from_secs(5);
    leaf.not_after = start + Duration::from_secs(600);
    leaf.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    leaf.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::CodeSigning];
    let mut issuer_ext = vec![0x0c, issuer.len() as u8];
    issuer_ext.extend_from_slice(issuer.as_bytes());
    leaf.custom_extensions = vec![
        CustomExtension::from_oid_content(&[1, 3, 6, 1, 4, 1, 57264, 1, 8], issuer_ext),
        CustomExtension::from_oid_content(
            &[1, 3, 6, 1, 4, 1, 57264, 1, 1],
            issuer.as_bytes().to_vec(),
        ),
    ];
    if email.is_none() {
        // Fulcio's deprecated GitHub extensions (raw strings), still issued for Actions tokens.
        for (arc, value) in [(2, "push"), (5, "example/fleet"), (6, "refs/heads/main")] {
            leaf.custom_extensions
                .push(CustomExtension::from_oid_content(
                    &[1, 3, 6, 1, 4, 1, 57264, 1, arc],
                    value.as_bytes().to_vec(),
                ));
        }
    }
    let cert = leaf
        .signed_by(&ClientKey(point), &state.ca.issuer)
        .expect("leaf");
    let chain = [
        cert.pem(),
        state.ca.intermediate_pem.clone(),
        state.ca.root_pem.clone(),
    ];
    (
        200,
        json!({"signedCertificateEmbeddedSct": {"chain": {"certificates": chain}}}).to_string(),
    )
}

fn rekor(r: &Request, state: &State) -> (u16, String) {
    let body = match json_request(r) {
        Ok(b) => b,
        Err(e) => return e,
    };
    let text = |p: &str| body.pointer(p).and_then(Value::as_str).unwrap_or_default();
    if text("/apiVersion") == "0.0.1" && text("/kind") == "dsse" {
        return rekor_dsse(&body, state);
    }
    if text("/apiVersion") != "0.0.1" || text("/kind") != "hashedrekord" {
        return error(400, "unsupported entry type");
    }
    let hash = text("/spec/data/hash/value");
    if text("/spec/data/hash/algorithm") != "sha256"
        || hash.len() != 64
        || !hash.bytes().all(|b| b.is_ascii_hexdigit())
    {
        return error(400, "spec.data.hash must be a sha256 hex digest");
    }
    if STANDARD.decode(text("/spec/signature/content")).is_err() {
        return error(400, "spec.signature.content must be base64");
    }
    let cert = STANDARD
        .decode(text("/spec/signature/publicKey/content"))
        .ok()
        .and_then(|p| String::from_utf8(p).ok())
        .filter(|p| p.starts_with("-----BEGIN CERTIFICATE-----"));
    if cert.is_none() {
        return error(
            400,
            "spec.signature.publicKey.content must be a base64 PEM certificate",
        );
    }
    // What Rekor stores is the canonical JSON of the entry: keys sorted, no spaces.
    let canonical = json!({
        "apiVersion": "0.0.1",
        "kind": "hashedrekord",
        "spec": {
            "data": {"hash": {"algorithm": "sha256", "value": hash}},
            "signature": {
                "content": text("/spec/signature/content"),
                "publicKey": {"content": text("/spec/signature/publicKey/content")},
            },
        },
    })
    .to_string();
    let entry_body = STANDARD.encode(&canonical);
    let integrated_time = now() + state.behaviour.integrated_time_shift;
    let log_index = {
        let mut i = state.log_index.lock().expect("lock");
        *i += 1;
        *i
    };
    let log_id = hex::encode(Sha256::digest(state.rekor_key.public_key().to_spki_der()));
    let signed = format!(
        r#"{{"body":"{entry_body}","integratedTime":{integrated_time},"logID":"{log_id}","logIndex":{log_index}}}"#
    );
    let set_input = if state.behaviour.bad_set {
        format!("{signed} ")
    } else {
        signed
    };
    let set = STANDARD.encode(state.rekor_key.sign(set_input.as_bytes()));
    let uuid = hex::encode(Sha256::digest(canonical.as_bytes()));
    (
        201,
        json!({uuid: {
            "body": entry_body, "integratedTime": integrated_time, "logID": log_id,
            "logIndex": log_index, "verification": {"signedEntryTimestamp": set},
        }})
        .to_string(),
    )
}

/// Rekor's `dsse` v0.0.1 entry type, as cosign v3 logs a bundle: checks the envelope's one
/// signature over its PAE with the verifier certificate's key, stores the canonical body
/// (envelope and payload hashes, signature and verifier) as a leaf of the fake's Merkle tree,
/// and answers with the SET and an inclusion proof up to a checkpoint signed by the log key.
fn rekor_dsse(body: &Value, state: &State) -> (u16, String) {
    use kbundle::signing::bundle::{pae, rekor::leaf_hash};
    use kbundle::signing::keyless::cert::Certificate;
    let text = |v: &Value, p: &str| {
        v.pointer(p)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    let envelope_text = text(body, "/spec/proposedContent/envelope");
    let Ok(envelope) = serde_json::from_str::<Value>(&envelope_text) else {
        return error(
            400,
            "spec.proposedContent.envelope must be a DSSE envelope (JSON)",
        );
    };
    let verifiers = body
        .pointer("/spec/proposedContent/verifiers")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let [verifier] = verifiers.as_slice() else {
        return error(400, "spec.proposedContent.verifiers must hold one verifier");
    };
    let verifier = verifier.as_str().unwrap_or_default().to_owned();
    let cert = STANDARD
        .decode(&verifier)
        .ok()
        .and_then(|p| String::from_utf8(p).ok())
        .and_then(|p| Certificate::from_pem(&p).ok());
    let Some(key) = cert.and_then(|c| c.public_key().ok()) else {
        return error(400, "the verifier must be a base64 PEM certificate");
    };
    let payload = STANDARD
        .decode(text(&envelope, "/payload"))
        .unwrap_or_default();
    let signatures = envelope["signatures"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let [signature] = signatures.as_slice() else {
        return error(400, "the envelope must hold one signature");
    };
    let sig_b64 = text(signature, "/sig");
    let sig = STANDARD.decode(&sig_b64).unwrap_or_default();
    if key
        .verify(&pae(&text(&envelope, "/payloadType"), &payload), &sig)
        .is_err()
    {
        return error(
            400,
            "the envelope's signature does not verify with the verifier",
        );
    }
    let canonical = json!({
        "apiVersion": "0.0.1",
        "kind": "dsse",
        "spec": {
            "envelopeHash": {"algorithm": "sha256", "value": hex::encode(Sha256::digest(envelope_text.as_bytes()))},
            "payloadHash": {"algorithm": "sha256", "value": hex::encode(Sha256::digest(&payload))},
            "signatures": [{"signature": sig_b64, "verifier": verifier}],
        },
    })
    .to_string();
    let (index, leaves) = {
        let mut leaves = state.dsse_leaves.lock().expect("lock");
        leaves.push(leaf_hash(canonical.as_bytes()));
        (leaves.len() - 1, leaves.clone())
    };
    let root = merkle_root(&leaves);
    let hashes: Vec<String> = merkle_path(&leaves, index)
        .iter()
        .map(hex::encode)
        .collect();
    let origin = "fake-rekor.example - 42";
    let note = format!("{origin}\n{}\n{}\n", leaves.len(), STANDARD.encode(root));
    // The signature line starts with the key's hint: the first 4 bytes of SHA-256 of its DER.
    let mut signed_note = Sha256::digest(state.rekor_key.public_key().to_spki_der())[..4].to_vec();
    signed_note.extend(state.rekor_key.sign(note.as_bytes()));
    let checkpoint = format!(
        "{note}\n\u{2014} fake-rekor.example {}\n",
        STANDARD.encode(signed_note)
    );
    let entry_body = STANDARD.encode(&canonical);
    let integrated_time = now() + state.behaviour.integrated_time_shift;
    let log_id = hex::encode(Sha256::digest(state.rekor_key.public_key().to_spki_der()));
    let signed = format!(
        r#"{{"body":"{entry_body}","integratedTime":{integrated_time},"logID":"{log_id}","logIndex":{index}}}"#
    );
    let set_input = if state.behaviour.bad_set {
        format!("{signed} ")
    } else {
        signed
    };
    let set = STANDARD.encode(state.rekor_key.sign(set_input.as_bytes()));
    let uuid = hex::encode(Sha256::digest(canonical.as_bytes()));
    (
        201,
        json!({uuid: {
            "body": entry_body, "integratedTime": integrated_time, "logID": log_id,
            "logIndex": index, "verification": {
                "signedEntryTimestamp": set,
                "inclusionProof": {
                    "checkpoint": checkpoint, "hashes": hashes, "logIndex": index,
                    "rootHash": hex::encode(root), "treeSize": leaves.len(),
                },
            },
        }})
        .to_string(),
    )
}

fn merkle_node(left: &[u8; 32], right: &[u8; 32]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update([1u8]);
    h.update(left);
    h.update(right);
    h.finalize().into()
}

/// RFC 6962's Merkle tree hash.
fn merkle_root(leaves: &[[u8; 32]]) -> [u8; 32] {
    if leaves.len() == 1 {
        return leaves[0];
    }
    let k = leaves.len().next_power_of_two() / 2;
    merkle_node(&merkle_root(&leaves[..k]), &merkle_root(&leaves[k..]))
}

/// RFC 6962's audit path for leaf `m`, bottom up.
fn merkle_path(leaves: &[[u8; 32]], m: usize) -> Vec<[u8; 32]> {
    if leaves.len() == 1 {
        return Vec::new();
    }
    let k = leaves.len().next_power_of_two() / 2;
    let (mut path, sibling) = if m < k {
        (merkle_path(&leaves[..k], m), merkle_root(&leaves[k..]))
    } else {
        (merkle_path(&leaves[k..], m - k), merkle_root(&leaves[..k]))
    };
    path.push(sibling);
    path
}
