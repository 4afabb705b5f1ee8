//! A local fake of the one part of the OCI distribution spec neither test registry serves: the
//! referrers API. It stands in front of a real docker-registry and passes every request through,
//! except that it remembers each manifest pushed with a `subject` (answering that PUT with the
//! spec's `OCI-Subject` header) and answers `GET /v2/<name>/referrers/<digest>` with an OCI image
//! index of their descriptors (`artifactType` from the manifest, else its config's media type;
//! the manifest's annotations), as distribution-spec v1.1 "Listing Referrers" says.
//!
//! One request per connection (`Connection: close`); request bodies need a Content-Length,
//! which is what kbundle (oci-client, monolithic uploads) sends.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};

use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};

/// The running fake; its thread lives as long as the test process.
pub struct ReferrersApi {
    /// `127.0.0.1:PORT`
    pub addr: String,
    /// Referrer descriptors by `<name>@<subject digest>`.
    referrers: Arc<Mutex<BTreeMap<String, Vec<Value>>>>,
}

struct Request {
    method: String,
    target: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

fn read(stream: &TcpStream) -> Option<Request> {
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    reader.read_line(&mut line).ok()?;
    let mut parts = line.split_whitespace();
    let method = parts.next()?.to_owned();
    let target = parts.next()?.to_owned();
    let mut headers = Vec::new();
    loop {
        let mut h = String::new();
        reader.read_line(&mut h).ok()?;
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        let (k, v) = h.split_once(':')?;
        headers.push((k.trim().to_ascii_lowercase(), v.trim().to_owned()));
    }
    let length: usize = headers
        .iter()
        .find(|(k, _)| k == "content-length")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    Some(Request {
        method,
        target,
        headers,
        body,
    })
}

fn respond(mut stream: TcpStream, status: u16, headers: &[(String, String)], body: &[u8]) {
    let mut head = format!(
        "HTTP/1.1 {status} X\r\nContent-Length: {}\r\nConnection: close\r\n",
        body.len()
    );
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    let _ = stream.write_all(head.as_bytes());
    let _ = stream.write_all(body);
}

impl ReferrersApi {
    /// In front of the registry at `backend` (`127.0.0.1:PORT`).
    pub fn start(backend: &str) -> ReferrersApi {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind fake");
        let addr = listener.local_addr().expect("addr").to_string();
        let referrers = Arc::new(Mutex::new(BTreeMap::new()));
        let state = referrers.clone();
        let backend = backend.to_owned();
        let front = addr.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let state = state.clone();
                let backend = backend.clone();
                let front = front.clone();
                std::thread::spawn(move || serve(stream, &backend, &front, &state));
            }
        });
        ReferrersApi { addr, referrers }
    }
}

fn serve(
    stream: TcpStream,
    backend: &str,
    front: &str,
    referrers: &Mutex<BTreeMap<String, Vec<Value>>>,
) {
    let Some(r) = read(&stream) else { return };
    let path = r.target.split('?').next().unwrap_or_default().to_owned();
    if r.method == "GET" {
        if let Some((name, digest)) = path
            .strip_prefix("/v2/")
            .and_then(|p| p.split_once("/referrers/"))
        {
            let listed = referrers
                .lock()
                .expect("lock")
                .get(&format!("{name}@{digest}"))
                .cloned()
                .unwrap_or_default();
            let index = json!({
                "schemaVersion": 2,
                "mediaType": "application/vnd.oci.image.index.v1+json",
                "manifests": listed,
            });
            let headers = [(
                "Content-Type".to_owned(),
                "application/vnd.oci.image.index.v1+json".to_owned(),
            )];
            return respond(stream, 200, &headers, index.to_string().as_bytes());
        }
    }
    // Everything else goes to the real registry.
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .build()
        .into();
    let url = format!("http://{backend}{}", r.target);
    let mut request = http::Request::builder().method(r.method.as_str()).uri(&url);
    for (k, v) in &r.headers {
        if !matches!(k.as_str(), "host" | "content-length" | "connection") {
            request = request.header(k, v);
        }
    }
    let Ok(request) = request.body(r.body.clone()) else {
        return respond(stream, 400, &[], b"bad request");
    };
    let Ok(mut answer) = agent.run(request) else {
        return respond(stream, 502, &[], b"backend unreachable");
    };
    let status = answer.status().as_u16();
    let mut headers: Vec<(String, String)> = answer
        .headers()
        .iter()
        .filter(|(k, _)| {
            !matches!(
                k.as_str(),
                "content-length" | "connection" | "transfer-encoding"
            )
        })
        .map(|(k, v)| {
            // Keep clients on the front: uploads continue where the backend says, via us.
            let v = v.to_str().unwrap_or_default().replace(backend, front);
            (k.as_str().to_owned(), v)
        })
        .collect();
    let body = answer.body_mut().read_to_vec().unwrap_or_default();
    let is_manifest_put = r.method == "PUT" && path.contains("/manifests/");
    if is_manifest_put && (200..300).contains(&status) {
        if let Some((name, descriptor, subject)) = referrer(&path, &r) {
            let mut all = referrers.lock().expect("lock");
            let list = all.entry(format!("{name}@{subject}")).or_default();
            if !list.iter().any(|d| d["digest"] == descriptor["digest"]) {
                list.push(descriptor);
            }
            headers.push(("OCI-Subject".to_owned(), subject));
        }
    }
    respond(stream, status, &headers, &body);
}

/// (repository, descriptor, subject digest) of a pushed manifest with a subject.
fn referrer(path: &str, r: &Request) -> Option<(String, Value, String)> {
    let name = path
        .strip_prefix("/v2/")?
        .split_once("/manifests/")?
        .0
        .to_owned();
    let manifest: Value = serde_json::from_slice(&r.body).ok()?;
    let subject = manifest.pointer("/subject/digest")?.as_str()?.to_owned();
    let artifact_type = manifest
        .get("artifactType")
        .or_else(|| manifest.pointer("/config/mediaType"))
        .cloned()
        .unwrap_or(Value::Null);
    let mut descriptor = json!({
        "mediaType": manifest.get("mediaType").cloned().unwrap_or(Value::Null),
        "digest": format!("sha256:{}", hex::encode(Sha256::digest(&r.body))),
        "size": r.body.len(),
        "artifactType": artifact_type,
    });
    if let Some(a) = manifest.get("annotations") {
        descriptor["annotations"] = a.clone();
    }
    Some((name, descriptor, subject))
}
