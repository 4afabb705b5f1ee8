//! `kbundle bump` on a local file: one line changes, the rest stays byte-identical.

mod support;

use std::path::Path;

fn kbundle(args: &[&str]) -> (i32, String, String) {
    support::Run::of(support::kbundle().args(args)).into()
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

/// A RootSync whose `spec.oci.image` line is `image_line` (line 8).
fn rootsync(image_line: &str) -> String {
    format!(
        "apiVersion: configsync.gke.io/v1beta1\nkind: RootSync\nmetadata:\n  name: root-sync\n  \
         namespace: config-management-system\nspec:\n  sourceType: oci\n  oci:\n{image_line}\n    \
         auth: k8sserviceaccount\n"
    )
}

const REPO: &str = "us-docker.pkg.dev/p/r/root";

fn image() -> String {
    format!("{REPO}:v2@{DIGEST}")
}

#[test]
fn anchors_and_tags_on_the_image_are_kept() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("root-sync.yaml");
    // The alias comes after the anchor, in the same document: anchors do not cross documents.
    let original = format!(
        "apiVersion: configsync.gke.io/v1beta1\nkind: RootSync\nspec:\n  sourceType: oci\n  \
         oci:\n    image: &img !!str \"{REPO}:v1\"\n    auth: k8sserviceaccount\nmetadata:\n  \
         name: root-sync\n  namespace: config-management-system\n  annotations:\n    \
         mirror: *img\n"
    );
    std::fs::write(&file, &original).expect("write");
    let (code, out, err) = kbundle(&[
        "bump",
        "--file",
        file.to_str().unwrap_or(""),
        "--image",
        &image(),
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("spec.oci.image"), "{out}");
    let edited = std::fs::read_to_string(&file).expect("read");
    assert_eq!(
        edited,
        original.replace(&format!("\"{REPO}:v1\""), &format!("\"{}\"", image()))
    );
    // The file still parses: the alias still has its anchor.
    let (code, out, err) = kbundle(&["validate", file.to_str().unwrap_or("")]);
    assert_eq!(code, 0, "{out}{err}");
}

#[test]
fn duplicate_image_keys_are_refused_with_both_lines() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("root-sync.yaml");
    let original = rootsync(&format!("    image: {REPO}:v1\n    image: {REPO}:v0"));
    std::fs::write(&file, &original).expect("write");
    let shown = file.display().to_string();
    let (code, out, err) = kbundle(&["bump", "--file", &shown, "--image", &image()]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        err.contains(&format!(
            "{shown}:10: duplicate key \"image\", also at {shown}:9; a mapping holds each key \
             once, remove one and run again"
        )),
        "{err}"
    );
    assert_eq!(std::fs::read_to_string(&file).expect("read"), original);
}

#[cfg(unix)]
#[test]
fn a_symlinked_fleet_file_is_edited_where_it_points_and_stays_a_link() {
    use std::os::unix::fs::{PermissionsExt, symlink};
    let dir = tempfile::tempdir().expect("tempdir");
    let repo = dir.path().join("fleet");
    std::fs::create_dir_all(repo.join(".git")).expect("git dir");
    std::fs::create_dir_all(repo.join("base")).expect("mkdir");
    std::fs::create_dir_all(repo.join("clusters/prod")).expect("mkdir");
    let target = repo.join("base/root-sync.yaml");
    std::fs::write(&target, rootsync(&format!("    image: {REPO}:v1"))).expect("write");
    std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o640)).expect("chmod");
    let link = repo.join("clusters/prod/root-sync.yaml");
    symlink("../../base/root-sync.yaml", &link).expect("link");

    let (code, out, err) = kbundle(&[
        "bump",
        "--file",
        link.to_str().unwrap_or(""),
        "--image",
        &image(),
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("spec.oci.image"), "{out}");
    let meta = std::fs::symlink_metadata(&link).expect("stat");
    assert!(meta.file_type().is_symlink(), "the link is still a link");
    let edited = std::fs::read_to_string(&target).expect("read");
    assert!(edited.contains(&image()), "{edited}");
    let mode = std::fs::metadata(&target)
        .expect("stat")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o640, "the target keeps its mode");

    // A link out of the work tree is refused and nothing changes.
    let outside = dir.path().join("elsewhere.yaml");
    let text = rootsync(&format!("    image: {REPO}:v1"));
    std::fs::write(&outside, &text).expect("write");
    let escape = repo.join("escape.yaml");
    symlink(&outside, &escape).expect("link");
    let (code, _, err) = kbundle(&[
        "bump",
        "--file",
        escape.to_str().unwrap_or(""),
        "--image",
        &image(),
    ]);
    assert_eq!(code, 2);
    assert!(err.contains("outside the git work tree"), "{err}");
    assert_eq!(std::fs::read_to_string(&outside).expect("read"), text);
}

#[cfg(unix)]
#[test]
fn temporary_files_of_a_killed_bump_are_recognisable_and_cleaned_up() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("root-sync.yaml");
    std::fs::write(&file, rootsync(&format!("    image: {REPO}:v1"))).expect("write");
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o604)).expect("chmod");
    // What a bump killed between creating its temporary file and the rename leaves: the
    // process (a PID no process can have) is gone.
    let stale = dir
        .path()
        .join(".root-sync.yaml.kbundle-tmp-4294967295.AbCdEf");
    std::fs::write(&stale, "half a fi").expect("write");
    let unrelated = dir.path().join(".tmp12345");
    std::fs::write(&unrelated, "someone else's").expect("write");

    let (code, _, err) = kbundle(&[
        "bump",
        "--file",
        file.to_str().unwrap_or(""),
        "--image",
        &image(),
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(!stale.exists(), "the stale temporary file is removed");
    assert!(
        unrelated.exists(),
        "files kbundle did not make are left alone"
    );
    let names: Vec<String> = std::fs::read_dir(dir.path())
        .expect("list")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        names.len(),
        2,
        "no temporary file of this run is left: {names:?}"
    );
    let mode = std::fs::metadata(&file).expect("stat").permissions().mode();
    assert_eq!(mode & 0o777, 0o604, "the file keeps its mode");
}

#[test]
fn hostile_fleet_files_get_a_clean_error_in_bounded_memory() {
    let dir = tempfile::tempdir().expect("tempdir");
    let deep = dir.path().join("deep.yaml");
    std::fs::write(&deep, "- ".repeat(50_000) + "x\n").expect("write");
    // bump never expands aliases, so a bomb beside the image is just text to keep.
    let mut bomb = rootsync(&format!("    image: {REPO}:v1"));
    bomb.push_str("  a: &a [a, a, a, a, a, a, a, a, a]\n");
    for (previous, level) in ('a'..='i').zip('b'..='j') {
        let aliases = vec![format!("*{previous}"); 9].join(", ");
        bomb.push_str(&format!("  {level}: &{level} [{aliases}]\n"));
    }
    let bombed = dir.path().join("bomb.yaml");
    std::fs::write(&bombed, &bomb).expect("write");
    let run = |file: &Path| {
        std::process::Command::new("prlimit")
            .arg(format!("--as={}", 1u64 << 30))
            .arg("--")
            .arg(assert_cmd::cargo::cargo_bin("kbundle"))
            .args([
                "bump",
                "--file",
                file.to_str().unwrap_or(""),
                "--image",
                &image(),
            ])
            .output()
            .expect("prlimit (util-linux) runs kbundle")
    };
    let out = run(&deep);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("invalid YAML at line 1, column 257: nesting deeper than 128 levels"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = run(&bombed);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let edited = std::fs::read_to_string(&bombed).expect("read");
    assert_eq!(edited, bomb.replace(&format!("{REPO}:v1"), &image()));
}
