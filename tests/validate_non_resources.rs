//! Files that are not cluster resources: kustomize's files against kustomize's schema,
//! reported as what they are; Helm chart files and other YAML skipped with a reason (failed
//! with --reject-unknown-files); none of them uses up GitHub annotations.

use std::process::Command;

const DIR: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/validate/non-resources"
);

fn validate(args: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_kbundle"))
        .arg("validate")
        .args(args)
        .env_remove("GITHUB_ACTIONS")
        .env_remove("GITHUB_STEP_SUMMARY")
        .output()
        .expect("kbundle");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

fn json(args: &[&str]) -> (i32, serde_json::Value) {
    let mut all = vec!["-o", "json", "--verbose"];
    all.extend_from_slice(args);
    let (code, out) = validate(&all);
    (code, serde_json::from_str(&out).expect("json"))
}

/// (file relative to DIR, kind, status) for each result.
fn verdicts(v: &serde_json::Value) -> Vec<(String, String, String)> {
    let mut out: Vec<_> = v["resources"]
        .as_array()
        .expect("resources")
        .iter()
        .map(|r| {
            let s = |k: &str| r[k].as_str().unwrap_or_default().to_owned();
            let file = s("filename")
                .trim_start_matches(&format!("{DIR}/"))
                .to_owned();
            (file, s("kind"), s("status"))
        })
        .collect();
    out.sort();
    out
}

fn v(file: &str, kind: &str, status: &str) -> (String, String, String) {
    (file.to_owned(), kind.to_owned(), status.to_owned())
}

#[test]
fn kustomize_files_are_checked_and_other_yaml_skipped() {
    let (code, report) = json(&[DIR]);
    assert_eq!(code, 1, "{report}");
    assert_eq!(
        verdicts(&report),
        [
            v("app/deployment.yaml", "Deployment", "statusValid"),
            v("app/kustomization.yaml", "Kustomization", "statusValid"),
            v(
                "broken/kustomization.yaml",
                "Kustomization",
                "statusInvalid"
            ),
            v("chart/Chart.yaml", "", "statusSkipped"),
            v("chart/values.yaml", "", "statusSkipped"),
            v("component/kustomization.yaml", "Component", "statusValid"),
            v("docker-compose.yml", "", "statusSkipped"),
        ]
    );
    let (_, text) = validate(&[DIR]);
    let broken = format!("{DIR}/broken/kustomization.yaml");
    assert_eq!(
        text.lines().collect::<Vec<_>>(),
        [
            format!(
                "{broken}:5:13: Kustomization is invalid: /images/0/newTag: 1.27 is not of type \"string\""
            ),
            format!(
                "{broken}:6:24: Kustomization is invalid: /patchesStrategicMerge: \"patch.yaml\" is not of type \"array\""
            ),
        ]
    );
    let (_, text) = validate(&["--summary", &format!("{DIR}/app")]);
    assert!(text.contains("(of which 1 file kustomize)"), "{text}");
}

#[test]
fn reject_unknown_files_fails_them() {
    let (code, out) = validate(&[
        "--reject-unknown-files",
        &format!("{DIR}/chart"),
        &format!("{DIR}/docker-compose.yml"),
    ]);
    assert_eq!(code, 1);
    assert_eq!(out.lines().count(), 3, "{out}");
    assert!(out.contains("docker-compose.yml:1:1: this document has no apiVersion and no kind; it is not a Kubernetes resource"), "{out}");
    // Without the flag they pass.
    assert_eq!(
        validate(&[
            &format!("{DIR}/chart"),
            &format!("{DIR}/docker-compose.yml")
        ])
        .0,
        0
    );
}

#[test]
fn skipped_files_use_no_github_annotation() {
    let (_, out) = validate(&["-o", "github", DIR]);
    let annotations: Vec<&str> = out.lines().filter(|l| l.starts_with("::error")).collect();
    assert_eq!(annotations.len(), 2, "{out}");
    assert!(
        annotations
            .iter()
            .all(|a| a.contains("broken/kustomization.yaml")),
        "{out}"
    );
}

#[test]
fn a_kind_missing_from_a_kubernetes_manifest_is_still_an_error() {
    // kubeconform's verdict: an apiVersion without a kind is a broken resource.
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("cm.yaml");
    std::fs::write(&file, "apiVersion: v1\nmetadata:\n  name: x\n").expect("write");
    let (code, out) = validate(&[&file.display().to_string()]);
    assert_eq!(code, 1);
    assert!(out.contains("missing 'kind' key"), "{out}");
}

#[test]
fn skip_and_reject_apply_to_kustomize_files() {
    let broken = format!("{DIR}/broken");
    assert_eq!(validate(&["--skip", "Kustomization", &broken]).0, 0);
    let (code, out) = validate(&["--reject", "Kustomization", &format!("{DIR}/app")]);
    assert_eq!(code, 1);
    assert!(
        out.contains("prohibited resource kind Kustomization"),
        "{out}"
    );
}
