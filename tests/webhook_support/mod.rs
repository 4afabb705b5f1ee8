//! Real parts for the webhook tests: certificates from rcgen, the `kbundle webhook` binary on a
//! loopback port it picks, an HTTPS client that trusts only the test CA, and review bodies made
//! from the API-server-shaped fixture.

#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};
use serde_json::Value;

pub const FIXTURE: &str = include_str!("../fixtures/webhook/rootsync-update.json");

/// A CA and a serving certificate for localhost and 127.0.0.1 that it issued.
pub struct Certs {
    pub ca_pem: String,
    pub leaf_der: Vec<u8>,
    pub leaf_pem: String,
    pub key_pem: String,
}

impl Certs {
    pub fn new(name: &str) -> Certs {
        let ca_key = KeyPair::generate().expect("ca key");
        let mut ca = CertificateParams::new(Vec::<String>::new()).expect("ca params");
        ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca.distinguished_name
            .push(DnType::CommonName, format!("{name} test CA"));
        let ca_cert = ca.self_signed(&ca_key).expect("ca cert");
        let key = KeyPair::generate().expect("leaf key");
        let mut leaf = CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()])
            .expect("leaf params");
        leaf.distinguished_name
            .push(DnType::CommonName, format!("{name} webhook"));
        let issuer = Issuer::new(ca, ca_key);
        let leaf = leaf.signed_by(&key, &issuer).expect("leaf cert");
        Certs {
            ca_pem: ca_cert.pem(),
            leaf_der: leaf.der().to_vec(),
            leaf_pem: leaf.pem(),
            key_pem: key.serialize_pem(),
        }
    }

    /// Writes tls.crt and tls.key into `dir`, each by a rename as the kubelet swaps files.
    pub fn install(&self, dir: &Path) {
        for (name, text) in [("tls.key", &self.key_pem), ("tls.crt", &self.leaf_pem)] {
            let tmp = dir.join(format!(".{name}.tmp"));
            std::fs::write(&tmp, text).expect("write cert");
            std::fs::rename(&tmp, dir.join(name)).expect("rename cert");
        }
    }
}

/// A running `kbundle webhook`; killed when dropped.
pub struct Webhook {
    pub child: Child,
    /// `127.0.0.1:PORT`
    pub addr: String,
    /// Every stderr line so far, and a signal for each new one.
    pub logs: Arc<(Mutex<Vec<String>>, Condvar)>,
    pub client: reqwest::Client,
}

impl Webhook {
    /// Starts the server with tls.crt/tls.key from `dir` and `args`, and waits for the line
    /// that says where it listens.
    pub fn start(dir: &Path, certs: &Certs, args: &[&str]) -> Webhook {
        let mut child = Command::new(env!("CARGO_BIN_EXE_kbundle"))
            .current_dir(dir)
            .args(["webhook", "--listen", "127.0.0.1:0"])
            .args(["--tls-cert", "tls.crt", "--tls-key", "tls.key"])
            .args(args)
            .env("DOCKER_CONFIG", "/nonexistent-docker-config")
            .env_remove("RUST_LOG")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start kbundle webhook");
        let stderr = child.stderr.take().expect("stderr");
        let mut lines = BufReader::new(stderr).lines();
        let logs = Arc::new((Mutex::new(Vec::new()), Condvar::new()));
        let addr = loop {
            let Some(Ok(line)) = lines.next() else {
                let _ = child.wait();
                panic!(
                    "kbundle webhook exited before listening:\n{}",
                    logs.0.lock().expect("logs").join("\n")
                );
            };
            logs.0.lock().expect("logs").push(line.clone());
            if let Some(rest) = line.split("listening on ").nth(1) {
                break rest.split('"').next().unwrap_or(rest).trim().to_owned();
            }
        };
        let kept = logs.clone();
        std::thread::spawn(move || {
            for line in lines.map_while(Result::ok) {
                kept.0.lock().expect("logs").push(line);
                kept.1.notify_all();
            }
        });
        Webhook {
            child,
            addr,
            logs,
            client: client(&certs.ca_pem),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("https://{}{path}", self.addr)
    }

    /// POSTs a body and returns the HTTP status and the JSON answer.
    pub async fn post(&self, path: &str, body: String) -> (u16, Value) {
        let response = self
            .client
            .post(self.url(path))
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .expect("POST to the webhook");
        let status = response.status().as_u16();
        let text = response.text().await.expect("body");
        let value = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("answer is not JSON ({e}): {text}"));
        (status, value)
    }

    pub async fn get(&self, path: &str) -> (u16, String) {
        let response = self
            .client
            .get(self.url(path))
            .send()
            .await
            .expect("GET from the webhook");
        let status = response.status().as_u16();
        (status, response.text().await.expect("body"))
    }

    /// The first stderr line so far that contains `needle`.
    pub fn log_line(&self, needle: &str) -> Option<String> {
        let lines = self.logs.0.lock().expect("logs");
        lines.iter().find(|l| l.contains(needle)).cloned()
    }

    /// Waits (bounded) until a stderr line contains `needle`, and returns it.
    pub fn wait_for_log(&self, needle: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(20);
        let (lines, arrived) = &*self.logs;
        let mut lines = lines.lock().expect("logs");
        loop {
            if let Some(line) = lines.iter().find(|l| l.contains(needle)) {
                return line.clone();
            }
            let left = deadline.saturating_duration_since(Instant::now());
            assert!(
                !left.is_zero(),
                "no log line with {needle:?}:\n{}",
                lines.join("\n")
            );
            lines = arrived.wait_timeout(lines, left).expect("logs").0;
        }
    }
}

impl Drop for Webhook {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An HTTPS client that trusts the test CA and nothing else.
pub fn client(ca_pem: &str) -> reqwest::Client {
    reqwest::Client::builder()
        .tls_certs_only([reqwest::Certificate::from_pem(ca_pem.as_bytes()).expect("ca pem")])
        .timeout(Duration::from_secs(30))
        .build()
        .expect("https client")
}

/// A review of a RootSync update from the fixture: spec.oci.image `image`, annotation `new`
/// (now) and `old` (before), AdmissionReview version `version` (v1 or v1beta1), uid `uid`.
pub fn review(image: &str, new: &str, old: &str, version: &str, uid: &str) -> String {
    FIXTURE
        .replace("\"IMAGE@DIGEST\"", &format!("{new:?}"))
        .replace("OLD_IMAGE_TO_SYNC", old)
        .replace("\"IMAGE\"", &format!("{image:?}"))
        .replace(
            "admission.k8s.io/v1\"",
            &format!("admission.k8s.io/{version}\""),
        )
        .replace("705ab4f5-6393-11e8-b7cc-42010a800002", uid)
}

/// Runs the kbundle binary in `dir` (keys are made with COSIGN_PASSWORD=pw).
pub fn kbundle(args: &[&str], dir: &Path) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_kbundle"))
        .current_dir(dir)
        .args(args)
        .env("COSIGN_PASSWORD", "pw")
        .env("SOURCE_DATE_EPOCH", "1700000000")
        .env("DOCKER_CONFIG", "/nonexistent-docker-config")
        .output()
        .expect("run kbundle");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Pushes the examples to `image` and returns the digest.
pub fn push(image: &str, dir: &Path) -> String {
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let (code, out, err) = kbundle(
        &["push", examples.to_str().expect("utf-8"), "--image", image],
        dir,
    );
    assert_eq!(code, 0, "{err}");
    out.trim()
        .rsplit_once('@')
        .map(|(_, d)| d.to_owned())
        .expect("push prints REF@DIGEST")
}

/// The response part of an answer, after checking the envelope.
pub fn response<'a>(answer: &'a Value, version: &str, uid: &str) -> &'a Value {
    assert_eq!(
        answer["apiVersion"],
        format!("admission.k8s.io/{version}"),
        "{answer}"
    );
    assert_eq!(answer["kind"], "AdmissionReview", "{answer}");
    assert_eq!(answer["response"]["uid"], uid, "{answer}");
    &answer["response"]
}

pub fn message(response: &Value) -> String {
    response["status"]["message"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

/// A TLS client for one handshake: what certificate did the server present?
pub async fn handshake(
    addr: &str,
    roots: &[&Certs],
) -> tokio_rustls::client::TlsStream<tokio::net::TcpStream> {
    let mut store = rustls::RootCertStore::empty();
    for certs in roots {
        let der = rustls_pki_types::pem::PemObject::from_pem_slice(certs.ca_pem.as_bytes())
            .expect("ca der");
        store.add(der).expect("add root");
    }
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("versions")
    .with_root_certificates(store)
    .with_no_client_auth();
    let tcp = tokio::net::TcpStream::connect(addr).await.expect("connect");
    tokio_rustls::TlsConnector::from(Arc::new(config))
        .connect(
            rustls_pki_types::ServerName::try_from("localhost").expect("name"),
            tcp,
        )
        .await
        .expect("handshake")
}

pub fn presented(stream: &tokio_rustls::client::TlsStream<tokio::net::TcpStream>) -> Vec<u8> {
    stream
        .get_ref()
        .1
        .peer_certificates()
        .expect("peer certificates")[0]
        .to_vec()
}

pub async fn healthz(
    stream: &mut tokio_rustls::client::TlsStream<tokio::net::TcpStream>,
) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nhost: localhost\r\n\r\n")
        .await
        .expect("write");
    let mut buf = vec![0; 4096];
    let n = stream.read(&mut buf).await.expect("read");
    String::from_utf8_lossy(&buf[..n]).into_owned()
}
