//! `kbundle bump` on a local file: one line changes, the rest stays byte-identical.

use std::path::Path;

fn kbundle(args: &[&str]) -> (i32, String, String) {
    let out = assert_cmd::Command::cargo_bin("kbundle")
        .expect("binary")
        .args(args)
        .env_remove("GITHUB_TOKEN")
        .output()
        .expect("run");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

const DIGEST: &str = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

#[test]
fn bumps_the_example_rootsync_then_reports_up_to_date() {
    let original = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/fleet/root-sync.yaml"),
    )
    .expect("example");
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("root-sync.yaml");
    std::fs::write(&file, &original).expect("write");
    let file_arg = file.to_str().unwrap_or("x");
    let image = format!("us-docker.pkg.dev/example-project/config/root:v2@{DIGEST}");

    let (code, out, err) = kbundle(&["bump", "--file", file_arg, "--image", &image]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("RootSync root-sync spec.oci.image"), "{out}");
    let edited = std::fs::read_to_string(&file).expect("read");
    let changed: Vec<(&str, &str)> = original
        .lines()
        .zip(edited.lines())
        .filter(|(a, b)| a != b)
        .collect();
    assert_eq!(changed.len(), 1, "{changed:?}");
    assert!(changed[0].1.contains(&image), "{changed:?}");
    assert_eq!(original.lines().count(), edited.lines().count());

    let (code, out, _) = kbundle(&["bump", "--file", file_arg, "--image", &image]);
    assert_eq!((code, out.trim()), (0, "up to date"));
}

#[test]
fn errors_exit_2_and_leave_the_file_alone() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("cm.yaml");
    std::fs::write(
        &file,
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n",
    )
    .expect("write");
    let file_arg = file.to_str().unwrap_or("x");
    let image = format!("example.com/r/root:v1@{DIGEST}");
    let (code, _, err) = kbundle(&["bump", "--file", file_arg, "--image", &image]);
    assert_eq!(code, 2);
    assert!(err.contains("no RootSync"), "{err}");
    let (code, _, err) = kbundle(&[
        "bump",
        "--file",
        file_arg,
        "--image",
        "example.com/r/root:v1",
    ]);
    assert_eq!(code, 2);
    assert!(err.contains("sha256"), "{err}");
    let (code, _, err) = kbundle(&[
        "bump",
        "--file",
        file_arg,
        "--image",
        &image,
        "--repo",
        "acme/fleet",
    ]);
    assert_eq!(code, 2);
    assert!(err.contains("give the path inside the repository"), "{err}");
    assert_eq!(
        std::fs::read_to_string(&file).expect("read"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n"
    );
}
