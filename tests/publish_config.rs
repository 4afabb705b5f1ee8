//! `kbundle publish` reading its settings from `kbundle.yaml` (or `--config FILE`), offline.

mod support;

use std::path::Path;

use support::examples;

fn kbundle(dir: &Path) -> assert_cmd::Command {
    let mut cmd = support::kbundle();
    cmd.current_dir(dir).env("COSIGN_PASSWORD", "");
    cmd
}

/// A work folder with the example manifests in `config/` and the fleet file beside them.
fn workspace() -> tempfile::TempDir {
    let work = tempfile::tempdir().expect("tempdir");
    let status = std::process::Command::new("cp")
        .arg("-r")
        .arg(examples())
        .arg(work.path().join("config"))
        .status()
        .expect("cp");
    assert!(status.success());
    std::fs::copy(
        examples().join("fleet/root-sync.yaml"),
        work.path().join("root-sync.yaml"),
    )
    .expect("copy");
    work
}

fn stdout(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn kbundle_yaml_in_the_current_folder_supplies_publish_settings() {
    let work = workspace();
    std::fs::write(
        work.path().join("kbundle.yaml"),
        "paths: [config]\n\
         image: oci-layout:out/root:v7\n\
         fleet-file: root-sync.yaml\n\
         fleet-image: registry.example.com/config/root:v7\n\
         pin: digest\n\
         annotation:\n  team: web\n",
    )
    .expect("write");
    let out = kbundle(work.path()).arg("publish").output().expect("run");
    assert!(out.status.success(), "{}", stderr(&out));
    let pinned = stdout(&out);
    assert!(
        pinned.starts_with("oci-layout:out/root:v7@sha256:"),
        "{pinned}"
    );
    let digest = pinned.trim().rsplit_once('@').expect("digest").1.to_owned();
    let fleet = std::fs::read_to_string(work.path().join("root-sync.yaml")).expect("fleet");
    assert!(
        fleet.contains(&format!("image: registry.example.com/config/root@{digest}")),
        "{fleet}"
    );
    // The annotation from the mapping reached the manifest.
    let index = std::fs::read_to_string(work.path().join("out/root/index.json")).expect("index");
    let index: serde_json::Value = serde_json::from_str(&index).expect("json");
    let manifest_digest = index["manifests"][0]["digest"]
        .as_str()
        .expect("digest")
        .trim_start_matches("sha256:")
        .to_owned();
    let manifest = std::fs::read_to_string(
        work.path()
            .join("out/root/blobs/sha256")
            .join(manifest_digest),
    )
    .expect("manifest");
    assert!(manifest.contains("\"team\":\"web\""), "{manifest}");
}

#[test]
fn a_flag_on_the_command_line_replaces_the_file_setting() {
    let work = workspace();
    std::fs::write(
        work.path().join("kbundle.yaml"),
        "paths: [config]\nimage: oci-layout:from-file:v1\n",
    )
    .expect("write");
    let out = kbundle(work.path())
        .args(["publish", "--image", "oci-layout:from-flag:v2"])
        .output()
        .expect("run");
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).starts_with("oci-layout:from-flag:v2@sha256:"));
    assert!(work.path().join("from-flag/index.json").is_file());
    assert!(!work.path().join("from-file").exists());

    // --no-config ignores the file: the default image and the default path (.) apply, and
    // `.` holds kbundle.yaml, which is not a manifest.
    let out = kbundle(work.path())
        .args(["publish", "--no-config", "config"])
        .output()
        .expect("run");
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).starts_with("oci-layout:.kbundle/oci:latest@sha256:"));
}

#[test]
fn relative_paths_in_an_explicit_config_are_relative_to_its_folder() {
    let work = workspace();
    let sub = work.path().join("settings");
    std::fs::create_dir(&sub).expect("mkdir");
    std::fs::write(
        sub.join("publish.yaml"),
        "paths: [../config]\nfleet-file: ../root-sync.yaml\nfleet-image: r.example.com/x/root:v1\n\
         image: oci-layout:out:v1\n",
    )
    .expect("write");
    let out = kbundle(work.path())
        .args(["publish", "--config", "settings/publish.yaml"])
        .output()
        .expect("run");
    assert!(out.status.success(), "{}", stderr(&out));
    let fleet = std::fs::read_to_string(work.path().join("root-sync.yaml")).expect("fleet");
    assert!(
        fleet.contains("image: r.example.com/x/root:v1@sha256:"),
        "{fleet}"
    );
}

#[test]
fn an_unknown_setting_names_the_file_line_and_the_known_keys() {
    let work = workspace();
    std::fs::write(
        work.path().join("kbundle.yaml"),
        "paths: [config]\n# a comment\nimgae: oci-layout:x\n",
    )
    .expect("write");
    let out = kbundle(work.path()).arg("publish").output().expect("run");
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("kbundle.yaml:3: unknown setting \"imgae\""),
        "{err}"
    );
    assert!(err.contains("image"), "{err}");
    assert!(!work.path().join(".kbundle").exists(), "nothing ran");
}

#[test]
fn a_switch_with_a_non_boolean_value_is_refused() {
    let work = workspace();
    std::fs::write(
        work.path().join("kbundle.yaml"),
        "paths: [config]\nstrict: \"maybe\"\n",
    )
    .expect("write");
    let out = kbundle(work.path()).arg("publish").output().expect("run");
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("kbundle.yaml:2: strict is a switch; write true or false"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_layout_image_needs_fleet_image_before_a_fleet_file_is_touched() {
    let work = workspace();
    let before = std::fs::read_to_string(work.path().join("root-sync.yaml")).expect("fleet");
    let out = kbundle(work.path())
        .args([
            "publish",
            "config",
            "--image",
            "oci-layout:out:v1",
            "--fleet-file",
            "root-sync.yaml",
        ])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("--fleet-image"), "{}", stderr(&out));
    let after = std::fs::read_to_string(work.path().join("root-sync.yaml")).expect("fleet");
    assert_eq!(before, after);
    assert!(!work.path().join("out").exists(), "nothing was pushed");
}
