//! GitHub's own OpenAPI description (npm `@octokit/openapi`) served by Prism (npm
//! `@stoplight/prism-cli`, installed by scripts/test into .ci/node), which validates every
//! request against it; and a small recording proxy in front that can rewrite Prism's example
//! responses, so a flow that needs particular data (a RootSync in a file) still runs against
//! the real request validation.

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};

/// A running `prism mock`; killed when dropped or when the test process exits.
pub struct Prism {
    child: Child,
    /// Closing it (drop, or exit) makes the shell kill Prism.
    _stdin: Option<std::process::ChildStdin>,
    /// `http://127.0.0.1:PORT`
    pub url: String,
    log: Arc<Mutex<Vec<String>>>,
}

fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a free port");
    listener.local_addr().expect("local addr").port()
}

impl Prism {
    pub fn start() -> Prism {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join(".ci/node/node_modules");
        let prism = root.join(".bin/prism");
        let spec = root.join("@octokit/openapi/generated/api.github.com.json");
        assert!(
            prism.exists() && spec.exists(),
            "{} or {} is missing; scripts/test installs them (npm)",
            prism.display(),
            spec.display()
        );
        let port = free_port();
        // Tests share one Prism through a static, which is never dropped: a shell holds
        // Prism and kills it when our end of its stdin closes, i.e. when this process exits.
        let mut child = Command::new("sh")
            .args([
                "-c",
                "exec 3<&0; \"$0\" mock -h 127.0.0.1 -p \"$1\" \"$2\" & prism=$!; \
                 (read -r _ <&3; kill $prism) >/dev/null 2>&1 & wait $prism",
            ])
            .arg(&prism)
            .arg(port.to_string())
            .arg(&spec)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start prism");
        let stdin = child.stdin.take();
        let log = Arc::new(Mutex::new(Vec::new()));
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        for stream in [
            Box::new(child.stdout.take().expect("stdout")) as Box<dyn Read + Send>,
            Box::new(child.stderr.take().expect("stderr")),
        ] {
            let log = Arc::clone(&log);
            let ready_tx = ready_tx.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(stream).lines().map_while(Result::ok) {
                    if line.contains("Prism is listening") {
                        let _ = ready_tx.send(true);
                    }
                    log.lock().expect("log").push(line);
                }
                let _ = ready_tx.send(false);
            });
        }
        drop(ready_tx);
        let listening = ready_rx.recv().unwrap_or(false);
        if !listening {
            let _ = child.wait();
            panic!(
                "prism exited before listening:\n{}",
                log.lock().expect("log").join("\n")
            );
        }
        Prism {
            child,
            _stdin: stdin,
            url: format!("http://127.0.0.1:{port}"),
            log,
        }
    }

    /// Prism's complaints about requests (not about GitHub's own example responses).
    pub fn request_violations(&self) -> Vec<String> {
        self.log
            .lock()
            .expect("log")
            .iter()
            .filter(|l| l.contains("Violation: request"))
            .cloned()
            .collect()
    }
}

impl Drop for Prism {
    fn drop(&mut self) {
        self._stdin.take();
        let _ = self.child.wait();
    }
}

/// One request that went through the proxy.
#[derive(Debug, Clone)]
pub struct Exchange {
    pub method: String,
    pub path: String,
    pub request_body: String,
    /// The request's Authorization header, to check which credential was used.
    pub authorization: String,
    pub status: u16,
}

/// Sees each successful response as (method, path without query, body); may change the body
/// and return another status to answer with (Prism has already validated the request).
type Rewrite = dyn Fn(&str, &str, &mut serde_json::Value) -> Option<u16> + Send + Sync;

/// Forwards to Prism, records every exchange, and lets a test change successful response
/// bodies (the request Prism validated is the one kbundle sent, unchanged).
pub struct Proxy {
    /// `http://127.0.0.1:PORT`
    pub url: String,
    pub exchanges: Arc<Mutex<Vec<Exchange>>>,
}

impl Proxy {
    pub fn start(upstream: &str, rewrite: Box<Rewrite>) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind proxy");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        let exchanges = Arc::new(Mutex::new(Vec::new()));
        let rewrite: Arc<Rewrite> = Arc::from(rewrite);
        let upstream = upstream.to_owned();
        let recorded = Arc::clone(&exchanges);
        std::thread::spawn(move || {
            for stream in listener.incoming().map_while(Result::ok) {
                let upstream = upstream.clone();
                let recorded = Arc::clone(&recorded);
                let rewrite = Arc::clone(&rewrite);
                std::thread::spawn(move || serve(stream, &upstream, &recorded, &*rewrite));
            }
        });
        Proxy { url, exchanges }
    }

    pub fn exchanges(&self) -> Vec<Exchange> {
        self.exchanges.lock().expect("exchanges").clone()
    }
}

fn serve(stream: TcpStream, upstream: &str, recorded: &Mutex<Vec<Exchange>>, rewrite: &Rewrite) {
    let mut reader = BufReader::new(stream.try_clone().expect("clone stream"));
    let mut writer = stream;
    {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let mut parts = line.split_whitespace();
        let (Some(method), Some(target)) = (parts.next(), parts.next()) else {
            return;
        };
        let (method, target) = (method.to_owned(), target.to_owned());
        let mut headers = Vec::new();
        let mut length = 0usize;
        loop {
            let mut h = String::new();
            reader.read_line(&mut h).expect("header");
            let h = h.trim_end();
            if h.is_empty() {
                break;
            }
            let (k, v) = h.split_once(':').expect("header line");
            let (k, v) = (k.trim().to_ascii_lowercase(), v.trim().to_owned());
            assert_ne!(
                k, "transfer-encoding",
                "the proxy only handles Content-Length bodies"
            );
            if k == "content-length" {
                length = v.parse().expect("content-length");
            }
            if !matches!(k.as_str(), "host" | "content-length" | "connection") {
                headers.push((k, v));
            }
        }
        let mut body = vec![0u8; length];
        reader.read_exact(&mut body).expect("body");

        let mut request = http::Request::builder()
            .method(method.as_str())
            .uri(format!("{upstream}{target}"));
        for (k, v) in &headers {
            request = request.header(k, v);
        }
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .allow_non_standard_methods(true)
            .build()
            .into();
        let request = request.body(body.clone()).expect("request");
        let mut response = agent.run(request).expect("forward to prism");
        let status = response.status().as_u16();
        let content_type = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("application/json")
            .to_owned();
        let mut out = response.body_mut().read_to_vec().expect("prism body");
        let path = target.split('?').next().unwrap_or("").to_owned();
        let parsed = serde_json::from_slice::<serde_json::Value>(&out);
        let mut answer = status;
        if let (200..=299, Ok(mut json)) = (status, parsed) {
            answer = rewrite(&method, &path, &mut json).unwrap_or(status);
            out = serde_json::to_vec(&json).expect("json");
        }
        recorded.lock().expect("exchanges").push(Exchange {
            method: method.clone(),
            path: target.clone(),
            request_body: String::from_utf8_lossy(&body).into_owned(),
            authorization: headers
                .iter()
                .find(|(k, _)| k == "authorization")
                .map(|(_, v)| v.clone())
                .unwrap_or_default(),
            status,
        });
        let head = format!(
            "HTTP/1.1 {answer} X\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
            out.len()
        );
        if writer.write_all(head.as_bytes()).is_err() || writer.write_all(&out).is_err() {
            return;
        }
        let _ = writer.flush();
    }
}

/// The example RootSync (examples/fleet/root-sync.yaml), base64 as the contents API sends a
/// file.
pub fn root_sync_base64() -> String {
    base64_of(&example_root_sync())
}

/// The example RootSync with `image` as its image, base64.
pub fn root_sync_base64_with(image: &str) -> String {
    base64_of(&example_root_sync().replace(
        "us-docker.pkg.dev/example-project/config/root:latest",
        image,
    ))
}

fn example_root_sync() -> String {
    std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/fleet/root-sync.yaml"),
    )
    .expect("example")
}

fn base64_of(text: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(text)
}

/// Makes Prism's answer to a `GET …/contents/…` (its example is a README) the file whose
/// content is `base64`; other answers are left alone.
pub fn serve_file(method: &str, path: &str, json: &mut serde_json::Value, base64: &str) {
    if method == "GET" && path.contains("/contents/") {
        json["content"] = serde_json::Value::String(base64.to_owned());
        json["encoding"] = "base64".into();
        json["type"] = "file".into();
    }
}
