//! A custom resource's `metadata` is ObjectMeta, whatever its CRD declares: the API server
//! checks it so, for CRDs from `--crd`, from the inputs and embedded (Config Sync's).

use std::path::Path;
use std::process::Command;

fn fixture(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/validate")
        .join(name)
        .display()
        .to_string()
}

fn validate(args: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_kbundle"))
        .arg("validate")
        .args(args)
        .output()
        .expect("kbundle");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

/// The lines of the report about one resource.
fn about<'a>(out: &'a str, name: &str) -> Vec<&'a str> {
    out.lines()
        .filter(|l| l.contains(&format!("Gadget {name} ")))
        .collect()
}

fn check(out: &str, strict: bool) {
    // namespace, labels and annotations are ObjectMeta's, though the CRD lists only name.
    assert_eq!(
        about(out, "small"),
        [format!(
            "{}: Gadget small is valid",
            fixture("crd-metadata/gadgets.yaml")
        )]
    );
    let list = about(out, "labels-as-list");
    assert!(
        list[0].contains(":18:5: ") && list[0].contains("/metadata/labels"),
        "{out}"
    );
    // What the CRD adds to ObjectMeta still holds.
    assert!(about(out, "a-name-far-too-long-for-the-crd")[0].contains("longer than 20 characters"));
    let typo = about(out, "typo");
    if strict {
        assert!(
            typo[0].contains(":33:3: ") && typo[0].contains("\"lables\" is not allowed"),
            "{out}"
        );
    } else {
        assert!(typo[0].ends_with("is valid"), "{out}");
    }
}

#[test]
fn strict_checks_metadata_as_object_meta_with_crd_flag() {
    for strict in [false, true] {
        let mut args = vec!["--verbose", "--crd"];
        let crd = fixture("crd-metadata/crd.yaml");
        let gadgets = fixture("crd-metadata/gadgets.yaml");
        args.extend([crd.as_str(), gadgets.as_str()]);
        if strict {
            args.push("--strict");
        }
        let (code, out) = validate(&args);
        assert_eq!(code, 1, "{out}");
        check(&out, strict);
    }
}

#[test]
fn strict_checks_metadata_as_object_meta_with_crd_among_inputs() {
    let (code, out) = validate(&["--verbose", "--strict", &fixture("crd-metadata")]);
    assert_eq!(code, 1, "{out}");
    check(&out, true);
}

#[test]
fn embedded_config_sync_crds_check_metadata_as_object_meta() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("root-sync.yaml");
    std::fs::write(
        &file,
        "apiVersion: configsync.gke.io/v1beta1\nkind: RootSync\nmetadata:\n  name: root-sync\n  namespace: config-management-system\n  labels: app\n  annotations:\n    team: a\nspec:\n  sourceType: oci\n  oci:\n    image: us-docker.pkg.dev/proj/repo/root:v1\n    auth: k8sserviceaccount\n",
    )
    .expect("write");
    let (code, out) = validate(&["--strict", &file.display().to_string()]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains(":6:11: ") && out.contains("/metadata/labels"),
        "{out}"
    );
    assert_eq!(out.lines().count(), 1, "{out}");
}
