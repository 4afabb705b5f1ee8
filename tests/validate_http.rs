//! `--schema-location` over HTTP, against a real HTTP server on loopback, with the cache.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use assert_cmd::Command;

const SCHEMA: &str = r#"{"type":"object","required":["data"],"properties":{"data":{"type":"object","properties":{"mode":{"const":"slow"}}}}}"#;

/// Serves SCHEMA at /v1.37.0/configmap-v1.json and 404 elsewhere; counts requests.
fn serve() -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let hits = Arc::new(AtomicUsize::new(0));
    let counter = hits.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().expect("clone"));
            let mut request_line = String::new();
            if reader.read_line(&mut request_line).is_err() {
                continue;
            }
            loop {
                let mut header = String::new();
                if reader.read_line(&mut header).map_or(true, |n| n == 0) || header == "\r\n" {
                    break;
                }
            }
            counter.fetch_add(1, Ordering::SeqCst);
            let found = request_line.starts_with("GET /v1.37.0/configmap-v1.json ");
            let (status, body) = if found {
                ("200 OK", SCHEMA)
            } else {
                ("404 Not Found", "")
            };
            let _ = write!(
                stream,
                "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    (base, hits)
}

fn validate(location: &str, cache: &std::path::Path, file: &str) -> (i32, String) {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/validate/");
    let out = Command::cargo_bin("kbundle")
        .expect("binary")
        .current_dir(dir)
        .args(["validate", "--cache"])
        .arg(cache)
        .args([
            "--schema-location",
            location,
            "--schema-location",
            "default",
            file,
        ])
        .output()
        .expect("run");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

#[test]
fn http_schemas_are_fetched_once_then_served_from_the_cache() {
    let (base, hits) = serve();
    let cache = tempfile::tempdir().expect("tempdir");
    let location = format!(
        "{base}/{{{{ .NormalizedKubernetesVersion }}}}/{{{{ .ResourceKind }}}}{{{{ .KindSuffix }}}}.json"
    );

    let (code, out) = validate(&location, cache.path(), "unknown-field.yaml");
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains(":7:9: ConfigMap settings is invalid: /data/mode"),
        "{out}"
    );
    assert_eq!(hits.load(Ordering::SeqCst), 1);

    let (code, _) = validate(&location, cache.path(), "unknown-field.yaml");
    assert_eq!(code, 1);
    assert_eq!(
        hits.load(Ordering::SeqCst),
        1,
        "second run must use the cache"
    );

    // A 404 falls through to the next location (the embedded schemas).
    let (code, out) = validate(&location, cache.path(), "valid-deployment.yaml");
    assert_eq!(code, 0, "{out}");
    assert_eq!(hits.load(Ordering::SeqCst), 2);
}

#[test]
fn unreachable_schema_server_is_an_error_that_names_the_url() {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    drop(listener);
    let cache = tempfile::tempdir().expect("tempdir");
    let location = format!("http://127.0.0.1:{port}/{{{{ .ResourceKind }}}}.json");
    let (code, out) = validate(&location, cache.path(), "unknown-field.yaml");
    assert_eq!(code, 1);
    assert!(
        out.contains(&format!("http://127.0.0.1:{port}/configmap.json")),
        "{out}"
    );
}
