//! YAML that go-yaml v3 reads (so kubectl, kustomize, Config Sync and kubeconform) is read,
//! and a broken document does not hide the others: kbundle beside kubeconform on the same
//! files and schemas.

#[path = "support/kubeconform.rs"]
mod kubeconform;
#[allow(dead_code)] // run_peer is for other peers
#[path = "support/peers.rs"]
mod peers;

use std::path::Path;
use std::process::Command;

use serde_json::Value;

fn fixture(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/validate/yaml")
        .join(name)
        .display()
        .to_string()
}

/// (status, name, msg) of each resource in a kubeconform-shaped JSON report.
fn verdicts(json: &[u8]) -> Vec<(String, String, String)> {
    let report: Value = serde_json::from_slice(json)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(json)));
    report["resources"]
        .as_array()
        .expect("resources")
        .iter()
        .map(|r| {
            let s = |k: &str| r[k].as_str().unwrap_or_default().to_owned();
            (s("status"), s("name"), s("msg"))
        })
        .collect()
}

fn kbundle(file: &str) -> (i32, Vec<(String, String, String)>) {
    let out = Command::new(env!("CARGO_BIN_EXE_kbundle"))
        .args(["validate", "-o", "json", "--verbose", file])
        .output()
        .expect("kbundle");
    (out.status.code().unwrap_or(-1), verdicts(&out.stdout))
}

fn peer(file: &str) -> (i32, Vec<(String, String, String)>) {
    let schemas = kubeconform::schemas();
    let location = kubeconform::location(schemas.path());
    let out = kubeconform::run(&[
        "-kubernetes-version",
        "1.37.0",
        "-schema-location",
        &location,
        "-output",
        "json",
        "-verbose",
        file,
    ]);
    (out.status.code().unwrap_or(-1), verdicts(&out.stdout))
}

fn statuses(v: &[(String, String, String)]) -> Vec<(String, String)> {
    let mut out: Vec<_> = v.iter().map(|(s, n, _)| (s.clone(), n.clone())).collect();
    out.sort();
    out
}

#[test]
fn flow_sequence_closed_at_the_key_column_is_valid_as_in_kubeconform() {
    let file = fixture("flow-closing-bracket.yaml");
    let (code, ours) = kbundle(&file);
    let (peer_code, theirs) = peer(&file);
    assert_eq!((code, peer_code), (0, 0), "{ours:?} {theirs:?}");
    assert_eq!(statuses(&ours), statuses(&theirs));
    assert_eq!(
        statuses(&ours),
        [("statusValid".to_owned(), "redis".to_owned())]
    );
}

#[test]
fn quoted_scalar_continued_at_column_one_is_valid_as_in_kubeconform() {
    let file = fixture("quoted-column-one.yaml");
    let (code, ours) = kbundle(&file);
    let (peer_code, theirs) = peer(&file);
    assert_eq!((code, peer_code), (0, 0), "{ours:?} {theirs:?}");
    assert_eq!(statuses(&ours), statuses(&theirs));
}

#[test]
fn documents_after_a_syntax_error_are_validated_as_in_kubeconform() {
    let file = fixture("broken-middle.yaml");
    let (code, ours) = kbundle(&file);
    let (peer_code, theirs) = peer(&file);
    assert_eq!((code, peer_code), (1, 1));
    // first valid, the broken document in error, third invalid (an integer in data).
    let kinds = |v: &[(String, String, String)]| {
        let mut s: Vec<String> = v.iter().map(|(s, _, _)| s.clone()).collect();
        s.sort();
        s
    };
    assert_eq!(kinds(&ours), kinds(&theirs), "{ours:?} {theirs:?}");
    assert!(
        ours.iter()
            .any(|(s, n, _)| s == "statusInvalid" && n == "third")
    );
    let error = ours
        .iter()
        .find(|(s, _, _)| s == "statusError")
        .expect("the broken document");
    assert!(error.2.contains("document 2"), "{error:?}");

    // The text report gives the line of the broken document's error.
    let out = Command::new(env!("CARGO_BIN_EXE_kbundle"))
        .args(["validate", &file])
        .output()
        .expect("kbundle");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains(&format!("{file}:13:6: yaml syntax error in document 2")),
        "{text}"
    );
}

#[test]
fn a_helm_template_gets_a_hint_to_render_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("deployment.yaml");
    std::fs::write(
        &file,
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {{ include \"app.fullname\" . }}\n  labels:\n    {{- include \"app.labels\" . | nindent 4 }}\n",
    )
    .expect("write");
    let out = Command::new(env!("CARGO_BIN_EXE_kbundle"))
        .args(["validate", &file.display().to_string()])
        .output()
        .expect("kbundle");
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("render it first (helm template)"), "{text}");
}
