//! What `kbundle push` asks a registry, and when: as few round trips as the protocol allows,
//! and nothing at all written for invalid input, however slow the registry is to answer.
//! Requests are read from the real registry's own log (`support::Registry::requests`).

mod support;

use std::net::TcpListener;
use std::path::Path;
use std::time::{Duration, Instant};

use support::{Registry, examples, run_clean, skopeo};

fn push(args: &[&str]) -> (i32, String, String) {
    run_clean(&[&["push"], args].concat(), &["GITHUB_ACTIONS"], &[])
}

fn examples_arg() -> String {
    examples().to_str().expect("utf-8 path").to_owned()
}

fn invalid_fixture() -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/validate/invalid-replicas.yaml")
        .to_str()
        .expect("utf-8 path")
        .to_owned()
}

/// A request as "METHOD what": the repository and digests left out.
fn kind(request: &str) -> String {
    let (method, uri) = request.split_once(' ').unwrap_or((request, ""));
    let what = if uri == "/v2/" {
        "/v2/"
    } else if uri.contains("/blobs/uploads/") {
        "upload"
    } else if uri.contains("/blobs/") {
        "blob"
    } else if let Some((_, reference)) = uri.rsplit_once("/manifests/") {
        reference
    } else {
        uri
    };
    format!("{method} {what}")
}

fn kinds(requests: &[String]) -> Vec<String> {
    let mut out: Vec<_> = requests.iter().map(|r| kind(r)).collect();
    out.sort();
    out
}

#[test]
fn a_push_asks_v2_once_and_writes_each_blob_and_the_tag_once_and_a_re_push_writes_nothing() {
    // oci-client asked `/v2/` again before every request of an open registry (it kept no
    // note that no login is needed), a tag HEAD that found nothing was followed by a GET,
    // and the manifest was put twice (by digest, then by tag): each a round trip more.
    let registry = Registry::start();
    let image = format!("{}/kbundle/rounds:v1", registry.addr);
    let (code, _, stderr) = push(&[&examples_arg(), "--image", &image]);
    assert_eq!(code, 0, "{stderr}");
    let first = registry.requests();
    assert_eq!(
        kinds(&first),
        [
            "GET /v2/",
            "HEAD blob",
            "HEAD blob",
            "HEAD v1",
            "POST upload",
            "POST upload",
            "PUT upload",
            "PUT upload",
            "PUT v1",
        ],
        "{first:#?}"
    );
    let (code, _, stderr) = push(&[&examples_arg(), "--image", &image]);
    assert_eq!(code, 0, "{stderr}");
    let again = registry.requests()[first.len()..].to_vec();
    assert_eq!(
        kinds(&again),
        ["GET /v2/", "HEAD blob", "HEAD blob", "HEAD v1"],
        "{again:#?}"
    );
}

#[test]
fn invalid_input_is_refused_at_once_while_the_registry_has_not_answered() {
    // Validation runs beside the login and the registry's checks now; its verdict must still
    // come first, and stop the rest, when the registry takes its time (here: never answers).
    let silent = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = silent.local_addr().expect("addr");
    let held = std::thread::spawn(move || {
        // Hold every connection open, unanswered, until the test process ends.
        silent.incoming().flatten().collect::<Vec<_>>()
    });
    let started = Instant::now();
    let (code, stdout, stderr) = push(&[
        &invalid_fixture(),
        "--image",
        &format!("{addr}/kbundle/bad:v1"),
    ]);
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(stdout, "");
    assert!(stderr.contains("invalid-replicas.yaml:6:13"), "{stderr}");
    assert!(stderr.contains("not pushed"), "{stderr}");
    // The registry client gives up after 120 s without an answer; the verdict needs none.
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "took {:?}",
        started.elapsed()
    );
    drop(held);
}

#[test]
fn invalid_input_writes_nothing_to_a_registry_or_a_layout() {
    let registry = Registry::start();
    let image = format!("{}/kbundle/refused:v1", registry.addr);
    let (code, _, stderr) = push(&[&invalid_fixture(), "--image", &image]);
    assert_eq!(code, 1, "{stderr}");
    let writes: Vec<_> = registry
        .requests()
        .into_iter()
        .filter(|r| r.starts_with("POST") || r.starts_with("PUT") || r.starts_with("PATCH"))
        .collect();
    assert_eq!(writes, Vec::<String>::new());
    assert!(
        !skopeo(&["inspect", &format!("docker://{image}")])
            .status
            .success()
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let layout = dir.path().join("layout");
    let (code, _, stderr) = push(&[
        &invalid_fixture(),
        "--image",
        &format!("oci-layout:{}:v1", layout.display()),
    ]);
    assert_eq!(code, 1, "{stderr}");
    assert!(!layout.exists(), "an invalid bundle made the layout folder");
}
