//! Positions of three errors that pointed at the wrong place: a tab used as indentation, a
//! misspelled kind, and a list where an object belongs (a `- ` at its key's column).

use std::process::Command;

fn validate_text(text: &str) -> String {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("m.yaml");
    std::fs::write(&file, text).expect("write");
    let out = Command::new(env!("CARGO_BIN_EXE_kbundle"))
        .args(["validate", &file.display().to_string()])
        .output()
        .expect("kbundle");
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    stdout.replace(&format!("{}:", file.display()), "")
}

#[test]
fn a_tab_indenting_a_line_is_reported_on_that_line() {
    let out =
        validate_text("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n\tnamespace: y\n");
    assert!(
        out.starts_with("5:1: yaml syntax error in document 1"),
        "{out}"
    );
}

#[test]
fn a_misspelled_kind_points_at_the_kind() {
    let out = validate_text("apiVersion: apps/v1\nkind: Deploymnet\nmetadata:\n  name: x\n");
    assert!(
        out.starts_with("2:7: Deploymnet x failed validation: could not find schema"),
        "{out}"
    );
}

#[test]
fn a_list_where_an_object_belongs_points_at_the_dash() {
    let out = validate_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n  labels:\n  - app\n  annotations:\n    - a\n",
    );
    assert_eq!(
        out.lines().collect::<Vec<_>>(),
        [
            "6:3: ConfigMap x is invalid: /metadata/labels: an array is not of type \"object\"",
            "8:5: ConfigMap x is invalid: /metadata/annotations: an array is not of type \"object\"",
        ]
    );
}
