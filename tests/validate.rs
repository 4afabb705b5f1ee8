//! `kbundle validate` end to end: real files in, verdicts, positions and exit codes out.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use serde_json::Value;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/validate")
        .join(name)
}

fn kbundle() -> Command {
    let mut cmd = Command::cargo_bin("kbundle").expect("binary");
    cmd.env_remove("RUST_LOG").env(
        "KBUNDLE_CACHE",
        std::env::temp_dir().join("kbundle-test-cache"),
    );
    cmd
}

/// Runs `kbundle validate ARGS`, returning (exit code, stdout, stderr).
fn validate(args: &[&str]) -> (i32, String, String) {
    let out = kbundle().arg("validate").args(args).output().expect("run");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn path(name: &str) -> String {
    fixture(name).display().to_string()
}

fn json(args: &[&str]) -> (i32, Value) {
    let mut all = vec!["-o", "json", "--summary"];
    all.extend_from_slice(args);
    let (code, stdout, stderr) = validate(&all);
    let value = serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout} {stderr}"));
    (code, value)
}

#[test]
fn valid_files_pass_with_exit_0() {
    let (code, out, _) = validate(&["--strict", &path("valid-deployment.yaml")]);
    assert_eq!(code, 0, "{out}");
    assert_eq!(out, "");
}

#[test]
fn wrong_type_is_reported_at_the_value() {
    let (code, out, _) = validate(&[&path("invalid-replicas.yaml")]);
    assert_eq!(code, 1);
    assert_eq!(
        out.trim(),
        format!(
            "{}:6:13: Deployment web is invalid: /spec/replicas: \"two\" is not of type \"integer\"",
            path("invalid-replicas.yaml")
        )
    );
}

#[test]
fn strict_refuses_unknown_properties_at_their_key() {
    let (code, _, _) = validate(&[&path("unknown-field.yaml")]);
    assert_eq!(
        code, 0,
        "without --strict unknown properties pass, as in kubeconform"
    );
    let (code, out, _) = validate(&["--strict", &path("unknown-field.yaml")]);
    assert_eq!(code, 1);
    assert!(out.contains(":5:3: ConfigMap settings is invalid: /metadata/colour: additional property \"colour\" is not allowed"), "{out}");
}

#[test]
fn missing_property_points_at_its_parent() {
    let (code, v) = json(&[&path("missing-selector.yaml")]);
    assert_eq!(code, 1);
    let e = &v["resources"][0]["validationErrors"][0];
    assert_eq!(e["path"], "/spec");
    assert_eq!(
        (e["line"].as_u64(), e["column"].as_u64()),
        (Some(5), Some(1))
    );
    assert!(e["msg"].as_str().unwrap_or("").contains("selector"));
}

#[test]
fn duplicate_keys_are_errors_even_without_strict() {
    let (code, out, _) = validate(&[&path("duplicate-key.yaml")]);
    assert_eq!(code, 1);
    assert!(out.contains(":5:3: ConfigMap first is invalid: /metadata/name: duplicate key \"name\" (first defined at line 4)"), "{out}");
}

#[test]
fn lists_are_expanded_with_item_positions() {
    let (code, v) = json(&["--verbose", &path("list.yaml")]);
    assert_eq!(code, 1);
    let resources = v["resources"].as_array().expect("resources");
    assert_eq!(resources.len(), 2);
    assert_eq!(resources[0]["status"], "statusValid");
    assert_eq!(resources[1]["name"], "bad");
    assert_eq!(resources[1]["line"], 8);
    let e = &resources[1]["validationErrors"][0];
    assert_eq!(e["path"], "/spec/ports/0/port");
    assert_eq!(
        (e["line"].as_u64(), e["column"].as_u64()),
        (Some(14), Some(17))
    );
}

#[test]
fn empty_and_comment_only_documents_are_skipped() {
    let (code, v) = json(&[&path("empty-documents.yaml")]);
    assert_eq!(code, 0);
    assert_eq!(v["summary"]["valid"], 1);
}

#[test]
fn yaml_syntax_errors_name_the_line() {
    let (code, v) = json(&[&path("syntax-error.yaml")]);
    assert_eq!(code, 1);
    let r = &v["resources"][0];
    assert_eq!(r["status"], "statusError");
    assert!(
        r["msg"]
            .as_str()
            .unwrap_or("")
            .starts_with("yaml syntax error")
    );
    assert!(r["line"].as_u64().unwrap_or(0) >= 6, "{r}");
}

#[test]
fn stdin_is_read_for_dash_and_for_no_path() {
    let text = std::fs::read_to_string(fixture("invalid-replicas.yaml")).expect("fixture");
    for args in [vec!["validate", "-"], vec!["validate"]] {
        let out = kbundle()
            .args(&args)
            .write_stdin(text.clone())
            .output()
            .expect("run");
        assert_eq!(out.status.code(), Some(1));
        assert!(
            String::from_utf8_lossy(&out.stdout)
                .starts_with("stdin:6:13: Deployment web is invalid")
        );
    }
}

#[test]
fn folders_are_walked_and_filename_patterns_ignored() {
    let dir = fixture("");
    let (_, v) = json(&[
        "--ignore-filename-pattern",
        "configsync",
        "--verbose",
        dir.to_str().unwrap_or("."),
    ]);
    let files: Vec<&str> = v["resources"]
        .as_array()
        .expect("resources")
        .iter()
        .filter_map(|r| r["filename"].as_str())
        .collect();
    assert!(files.iter().any(|f| f.ends_with("valid-deployment.yaml")));
    assert!(!files.iter().any(|f| f.contains("configsync")));
}

#[test]
fn crds_from_flag_or_from_the_inputs_validate_custom_resources() {
    let (code, out, _) = validate(&[&path("widgets.yaml")]);
    assert_eq!(code, 1);
    assert!(out.contains("could not find schema for Widget"), "{out}");

    let (code, out, _) = validate(&["--crd", &path("widget-crd.yaml"), &path("widgets.yaml")]);
    assert_eq!(code, 1);
    assert!(
        out.contains(":15:9: Widget bad is invalid: /spec/size: 0 is less than the minimum of 1"),
        "{out}"
    );
    assert!(!out.contains("Widget good"), "{out}");

    let (code, out2, _) = validate(&[&path("widget-crd.yaml"), &path("widgets.yaml")]);
    assert_eq!(code, 1);
    assert!(out2.contains("Widget bad is invalid"), "{out2}");

    let (code, v) = json(&["--ignore-missing-schemas", &path("widgets.yaml")]);
    assert_eq!(code, 0);
    assert_eq!(v["summary"]["skipped"], 2);
}

#[test]
fn crd_flag_without_crds_is_a_usage_error() {
    let (code, _, err) = validate(&[
        "--crd",
        &path("valid-deployment.yaml"),
        &path("widgets.yaml"),
    ]);
    assert_eq!(code, 2);
    assert!(err.contains("no CustomResourceDefinition found"), "{err}");
}

#[test]
fn skip_and_reject_by_kind_or_gvk() {
    let (code, v) = json(&["--skip", "Deployment", &path("invalid-replicas.yaml")]);
    assert_eq!(code, 0);
    assert_eq!(v["summary"]["skipped"], 1);
    let (code, v) = json(&[
        "--skip",
        "apps/v1/Deployment",
        &path("invalid-replicas.yaml"),
    ]);
    assert_eq!((code, v["summary"]["skipped"].as_u64()), (0, Some(1)));
    let (code, v) = json(&["--reject", "ConfigMap,Secret", &path("unknown-field.yaml")]);
    assert_eq!(code, 1);
    assert_eq!(
        v["resources"][0]["msg"],
        "prohibited resource kind ConfigMap"
    );
}

#[test]
fn kubernetes_version_chooses_the_embedded_schemas() {
    let file = path("device-class.yaml");
    assert_eq!(validate(&["--kubernetes-version", "1.34", &file]).0, 0);
    assert_eq!(validate(&["--kubernetes-version", "1.37.2", &file]).0, 0);
    let (code, out, _) = validate(&["--kubernetes-version", "v1.30.0", &file]);
    assert_eq!(code, 1);
    assert!(out.contains("could not find schema for DeviceClass"));
}

#[test]
fn usage_errors_exit_2_and_say_what_to_do() {
    let (code, _, err) = validate(&[
        "--kubernetes-version",
        "1.29",
        &path("valid-deployment.yaml"),
    ]);
    assert_eq!(code, 2);
    assert!(err.contains("1.30 to 1.37"), "{err}");
    let (code, _, err) = validate(&["--kubernetes-version", "latest"]);
    assert_eq!(code, 2);
    assert!(err.contains("1.35"), "{err}");
    let (code, _, err) = validate(&["/no/such/manifests"]);
    assert_eq!(code, 2);
    assert!(
        err.contains("/no/such/manifests: no such file or directory"),
        "{err}"
    );
    let (code, _, err) = validate(&["--schema-location", "x/{{ .Nope }}.json"]);
    assert_eq!(code, 2);
    assert!(err.contains("unknown variable"), "{err}");
    let (code, _, err) = validate(&["--ignore-filename-pattern", "(", "."]);
    assert_eq!(code, 2);
    assert!(err.contains("--ignore-filename-pattern"), "{err}");
}

#[test]
fn exit_on_error_stops_at_the_first_failure() {
    let (code, v) = json(&[
        "--exit-on-error",
        "-n",
        "1",
        &path("invalid-replicas.yaml"),
        &path("duplicate-key.yaml"),
    ]);
    assert_eq!(code, 1);
    assert_eq!(v["resources"].as_array().map(Vec::len), Some(1));
}

#[test]
fn schema_location_templates_read_local_folders() {
    let dir = tempfile::tempdir().expect("tempdir");
    let folder = dir.path().join("v1.37.0-standalone");
    std::fs::create_dir_all(&folder).expect("mkdir");
    // A deliberately narrow ConfigMap schema: only `data.mode: fast` is allowed.
    std::fs::write(
        folder.join("configmap-v1.json"),
        r#"{"type":"object","properties":{"data":{"type":"object","properties":{"mode":{"const":"slow"}}}}}"#,
    )
    .expect("write");
    let location = dir.path().display().to_string();
    let (code, out, _) = validate(&["--schema-location", &location, &path("unknown-field.yaml")]);
    assert_eq!(code, 1);
    assert!(
        out.contains(":7:9: ConfigMap settings is invalid: /data/mode"),
        "{out}"
    );
    // Kinds the folder lacks fall through to the embedded schemas after `default`.
    let (code, out, _) = validate(&[
        "--schema-location",
        &location,
        "--schema-location",
        "default",
        &path("valid-deployment.yaml"),
    ]);
    assert_eq!(code, 0, "{out}");
    let (code, _, _) = validate(&[
        "--schema-location",
        &location,
        &path("valid-deployment.yaml"),
    ]);
    assert_eq!(code, 1, "without `default` there is no Deployment schema");
}

#[test]
fn configsync_rules_turn_on_with_a_rootsync_and_carry_their_codes() {
    let dir = path("configsync");
    let (code, v) = json(&[&dir]);
    assert_eq!(code, 1);
    let mut found: Vec<(String, u64)> = v["resources"]
        .as_array()
        .expect("resources")
        .iter()
        .flat_map(|r| {
            r["validationErrors"]
                .as_array()
                .cloned()
                .unwrap_or_default()
        })
        .map(|e| {
            (
                e["code"].as_str().unwrap_or("").to_owned(),
                e["line"].as_u64().unwrap_or(0),
            )
        })
        .collect();
    found.sort();
    assert_eq!(
        found,
        vec![
            ("KNV1029".to_owned(), 17),
            ("KNV1045".to_owned(), 12),
            ("KNV1052".to_owned(), 5),
            ("KNV1061".to_owned(), 5),
        ]
    );
    // Without a RootSync among the inputs the rules stay off, unless asked for.
    assert_eq!(validate(&[&path("configsync/app.yaml")]).0, 0);
    assert_eq!(
        validate(&["--configsync", &path("configsync/app.yaml")]).0,
        1
    );
    assert_eq!(validate(&["--no-configsync", &dir]).0, 0);
}

#[test]
fn rootsync_schemas_come_from_the_embedded_config_sync_crds() {
    let rootsync = "apiVersion: configsync.gke.io/v1beta1\nkind: RootSync\nmetadata:\n  name: r\n  namespace: config-management-system\nspec:\n  sourceType: oci\n  oci:\n    image: x\n    auth: k8sserviceaccount\n    period: 5\n  colour: red\n";
    let out = kbundle()
        .args(["validate", "--strict", "-"])
        .write_stdin(rootsync)
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains(
            "stdin:11:13: RootSync r is invalid: /spec/oci/period: 5 is not of type \"string\""
        ),
        "{text}"
    );
    assert!(
        text.contains("stdin:12:3: RootSync r is invalid: /spec/colour: additional property"),
        "{text}"
    );
}

#[test]
fn the_examples_validate_strictly_and_kbundleignore_is_honoured() {
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let (code, v) = json(&["--strict", examples.to_str().unwrap_or(".")]);
    assert_eq!(code, 0, "{v}");
    assert_eq!(
        v["summary"]["valid"], 11,
        "fleet/ is listed in .kbundleignore"
    );
    assert_eq!(
        v["summary"]["errors"], 0,
        "examples/workflows is listed in .kbundleignore"
    );
    // The fleet's RootSync, validated on its own, with Config Sync's rules.
    let fleet = examples.join("fleet/root-sync.yaml");
    let (code, v) = json(&["--strict", fleet.to_str().unwrap_or(".")]);
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["summary"]["valid"], 1);
}

#[test]
fn integers_outside_their_openapi_format_are_invalid_at_the_value() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("deploy.yaml");
    std::fs::write(
        &file,
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n  \
         replicas: 4294967296\n  revisionHistoryLimit: 2147483647\n  selector: {matchLabels: \
         {app: web}}\n  template:\n    metadata: {labels: {app: web}}\n    spec:\n      \
         activeDeadlineSeconds: 9223372036854775808\n      terminationGracePeriodSeconds: \
         9223372036854775807\n      containers: [{name: web, image: nginx}]\n",
    )
    .expect("write");
    let (code, out, err) = validate(&[file.to_str().unwrap_or("")]);
    assert_eq!(code, 1, "{out}{err}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 2, "the largest int32 and int64 pass: {out}");
    assert!(
        lines[0].ends_with(
            "deploy.yaml:5:13: Deployment web is invalid: /spec/replicas: 4294967296 is out \
             of range for format int32 (-2147483648 to 2147483647)"
        ),
        "{out}"
    );
    assert!(
        lines[1].ends_with(
            "deploy.yaml:11:30: Deployment web is invalid: \
             /spec/template/spec/activeDeadlineSeconds: 9223372036854775808 is out of range \
             for format int64 (-9223372036854775808 to 9223372036854775807)"
        ),
        "{out}"
    );
}

#[test]
fn crd_integer_formats_are_ranges_too() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("crd.yaml"),
        r#"apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.example.com
spec:
  group: example.com
  scope: Namespaced
  names: {plural: widgets, singular: widget, kind: Widget, listKind: WidgetList}
  versions:
    - name: v1
      served: true
      storage: true
      schema:
        openAPIV3Schema:
          type: object
          properties:
            spec:
              type: object
              properties:
                size: {type: integer, format: int32, minimum: 0}
"#,
    )
    .expect("write");
    std::fs::write(
        dir.path().join("w.yaml"),
        "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\nspec:\n  size: \
         2147483648\n---\napiVersion: example.com/v1\nkind: Widget\nmetadata: {name: ok}\n\
         spec:\n  size: 2147483647\n",
    )
    .expect("write");
    let (code, out, err) = validate(&[dir.path().to_str().unwrap_or("")]);
    assert_eq!(code, 1, "{out}{err}");
    assert_eq!(out.lines().count(), 1, "{out}");
    assert!(
        out.contains(
            "w.yaml:5:9: Widget w is invalid: /spec/size: 2147483648 is out of range for \
             format int32"
        ),
        "{out}"
    );
}

#[cfg(unix)]
#[test]
fn broken_symlinks_in_a_folder_are_skipped_with_a_warning() {
    use std::os::unix::fs::symlink;
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().join("manifests");
    std::fs::create_dir_all(root.join("sub")).expect("mkdir");
    std::fs::copy(fixture("invalid-replicas.yaml"), root.join("deploy.yaml")).expect("copy");
    symlink("missing.yaml", root.join("dangling.yaml")).expect("link");
    symlink("self.yaml", root.join("self.yaml")).expect("link");
    symlink("..", root.join("sub/up")).expect("link");
    let (code, out, err) = validate(&["--summary", root.to_str().unwrap_or("")]);
    assert_eq!(code, 1, "the rest is validated and judged: {out}{err}");
    assert!(
        out.contains("deploy.yaml:6:13: Deployment web is invalid"),
        "{out}"
    );
    assert!(out.contains("1 resource found in 1 file"), "{out}");
    let shown = |name: &str| root.join(name).display().to_string();
    for (name, why) in [
        ("dangling.yaml", "skipped: dangling symbolic link"),
        (
            "self.yaml",
            "skipped: symbolic link that cannot be followed",
        ),
        ("sub/up", "skipped: symbolic link loop"),
    ] {
        assert!(
            err.contains(&format!("{}: {why}", shown(name))),
            "{name}: {err}"
        );
    }
}
