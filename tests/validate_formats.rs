//! Every output format carries the line and column of each problem.

use assert_cmd::Command;
use serde_json::Value;

fn run(format: &str, files: &[&str]) -> (i32, String) {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/validate/");
    let out = Command::cargo_bin("kbundle")
        .expect("binary")
        .current_dir(dir)
        .args(["validate", "-o", format])
        .args(files)
        .output()
        .expect("run");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

const FILES: [&str; 2] = ["invalid-replicas.yaml", "duplicate-key.yaml"];

#[test]
fn text() {
    let (code, out) = run("text", &FILES);
    assert_eq!(code, 1);
    assert!(
        out.contains("invalid-replicas.yaml:6:13: Deployment web is invalid"),
        "{out}"
    );
    assert!(
        out.contains("duplicate-key.yaml:5:3: ConfigMap first is invalid"),
        "{out}"
    );
}

#[test]
fn json_keeps_kubeconform_shape_and_adds_positions() {
    let (code, out) = run("json", &FILES);
    assert_eq!(code, 1);
    let v: Value = serde_json::from_str(&out).expect("json");
    let r = &v["resources"][0];
    for key in [
        "filename",
        "kind",
        "name",
        "version",
        "status",
        "msg",
        "validationErrors",
    ] {
        assert!(r.get(key).is_some(), "missing {key} in {r}");
    }
    assert_eq!(r["validationErrors"][0]["line"], 6);
    assert_eq!(r["validationErrors"][0]["column"], 13);
    assert_eq!(r["validationErrors"][0]["path"], "/spec/replicas");
}

#[test]
fn junit() {
    let (code, out) = run("junit", &FILES);
    assert_eq!(code, 1);
    assert!(out.contains("<testsuites"), "{out}");
    assert!(out.contains("6:13 /spec/replicas"), "{out}");
    assert!(out.contains("5:3 /metadata/name"), "{out}");
}

#[test]
fn tap() {
    let (code, out) = run("tap", &FILES);
    assert_eq!(code, 1);
    assert!(out.starts_with("TAP version 13"), "{out}");
    assert!(
        out.contains("not ok 1 - invalid-replicas.yaml (Deployment web) - 6:13 /spec/replicas"),
        "{out}"
    );
    assert!(out.trim_end().ends_with("1..2"), "{out}");
}

#[test]
fn sarif_is_2_1_0_with_regions() {
    let (code, out) = run("sarif", &FILES);
    assert_eq!(code, 1);
    let v: Value = serde_json::from_str(&out).expect("json");
    assert_eq!(v["version"], "2.1.0");
    let results = v["runs"][0]["results"].as_array().expect("results");
    assert_eq!(results.len(), 2);
    let loc = &results[0]["locations"][0]["physicalLocation"];
    assert_eq!(loc["artifactLocation"]["uri"], "invalid-replicas.yaml");
    assert_eq!(loc["region"]["startLine"], 6);
    assert_eq!(loc["region"]["startColumn"], 13);
}

#[test]
fn github_workflow_commands() {
    let (code, out) = run("github", &FILES);
    assert_eq!(code, 1);
    assert!(
        out.contains("::error file=invalid-replicas.yaml,line=6,col=13,title=Deployment web::/spec/replicas%3A \"two\" is not of type \"integer\"")
            || out.contains("::error file=invalid-replicas.yaml,line=6,col=13,title=Deployment web::/spec/replicas: \"two\" is not of type \"integer\""),
        "{out}"
    );
}

#[test]
fn markdown_table() {
    let (code, out) = run("markdown", &FILES);
    assert_eq!(code, 1);
    assert!(
        out.contains("| File | Line | Resource | Problem |"),
        "{out}"
    );
    assert!(out.contains("| invalid-replicas.yaml | 6:13 |"), "{out}");
}
