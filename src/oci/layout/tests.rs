use super::*;
use serde_json::json;
use std::process::Command;

const MANIFEST_TYPE: &str = "application/vnd.oci.image.manifest.v1+json";

fn manifest_bytes(config: &[u8]) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "schemaVersion": 2,
        "mediaType": MANIFEST_TYPE,
        "config": {
            "mediaType": "application/vnd.oci.image.config.v1+json",
            "digest": Digest::of(config),
            "size": config.len(),
        },
        "layers": [],
    }))
    .unwrap()
}

fn new_layout() -> (tempfile::TempDir, Layout) {
    let tmp = tempfile::tempdir().unwrap();
    let layout = Layout::create(&tmp.path().join("layout")).unwrap();
    (tmp, layout)
}

#[test]
fn round_trip_blob_manifest_and_tag() {
    let (_tmp, layout) = new_layout();
    let config = br#"{"a":1}"#;
    let d = Digest::of(config);
    assert!(!layout.has_blob(&d));
    layout.put_blob(&d, config).unwrap();
    layout.put_blob(&d, config).unwrap(); // already present: no-op
    assert!(layout.has_blob(&d));
    assert_eq!(layout.get_blob(&d).unwrap(), config);

    let m = manifest_bytes(config);
    let md = layout.put_manifest(&m, MANIFEST_TYPE, Some("v1")).unwrap();
    assert_eq!(md, Digest::of(&m));
    assert_eq!(layout.tags().unwrap(), vec!["v1"]);
    for reference in ["v1", md.as_str()] {
        let (digest, media_type, bytes) = layout.manifest(reference).unwrap();
        assert_eq!(
            (digest, media_type.as_str(), bytes),
            (md.clone(), MANIFEST_TYPE, m.clone())
        );
    }
    // Reopening sees the same state, and create() on a layout just opens it.
    assert_eq!(
        Layout::open(layout.dir()).unwrap().tags().unwrap(),
        vec!["v1"]
    );
    assert_eq!(
        Layout::create(layout.dir()).unwrap().tags().unwrap(),
        vec!["v1"]
    );
    let leftovers: Vec<_> = fs::read_dir(layout.dir().join("blobs/sha256"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.starts_with('.'))
        .collect();
    assert!(leftovers.is_empty(), "temp files left: {leftovers:?}");
}

#[test]
fn retag_replaces_in_place_and_keeps_other_tags() {
    let (_tmp, layout) = new_layout();
    let m1 = manifest_bytes(b"1");
    let m2 = manifest_bytes(b"2");
    layout.put_manifest(&m1, MANIFEST_TYPE, Some("a")).unwrap();
    layout
        .put_manifest(&m1, MANIFEST_TYPE, Some("latest"))
        .unwrap();
    layout.put_manifest(&m1, MANIFEST_TYPE, Some("z")).unwrap();
    let d2 = layout
        .put_manifest(&m2, MANIFEST_TYPE, Some("latest"))
        .unwrap();
    assert_eq!(layout.tags().unwrap(), vec!["a", "latest", "z"]);
    assert_eq!(layout.manifest("latest").unwrap().0, d2);
    assert_eq!(layout.manifest("a").unwrap().0, Digest::of(&m1));
}

#[test]
fn untagged_manifest_is_listed_once_and_dropped_when_tagged() {
    let (_tmp, layout) = new_layout();
    let m = manifest_bytes(b"x");
    let d = layout.put_manifest(&m, MANIFEST_TYPE, None).unwrap();
    layout.put_manifest(&m, MANIFEST_TYPE, None).unwrap();
    assert_eq!(layout.read_index().unwrap().manifests.len(), 1);
    assert!(layout.tags().unwrap().is_empty());
    assert_eq!(layout.manifest(d.as_str()).unwrap().1, MANIFEST_TYPE);
    layout.put_manifest(&m, MANIFEST_TYPE, Some("v1")).unwrap();
    let index = layout.read_index().unwrap();
    assert_eq!(index.manifests.len(), 1);
    assert_eq!(index.manifests[0].ref_name(), Some("v1"));
}

#[test]
fn digest_mismatch_is_refused() {
    let (_tmp, layout) = new_layout();
    let wrong = Digest::of(b"other");
    let err = layout.put_blob(&wrong, b"data").unwrap_err();
    assert!(matches!(err, LayoutError::DigestMismatch { .. }), "{err}");
    assert!(err.to_string().contains(wrong.as_str()), "{err}");
    assert!(!layout.has_blob(&wrong));
}

#[test]
fn corrupt_blob_is_detected_on_read() {
    let (_tmp, layout) = new_layout();
    let d = Digest::of(b"good");
    layout.put_blob(&d, b"good").unwrap();
    fs::write(layout.blob_path(&d), b"evil").unwrap();
    let err = layout.get_blob(&d).unwrap_err();
    assert!(matches!(err, LayoutError::CorruptBlob { .. }), "{err}");
    assert!(err.to_string().contains(d.as_str()), "{err}");
    let missing = Digest::of(b"absent");
    let err = layout.get_blob(&missing).unwrap_err();
    assert!(matches!(err, LayoutError::MissingBlob { .. }), "{err}");
}

#[test]
fn unknown_tag_lists_tags() {
    let (_tmp, layout) = new_layout();
    let err = layout.manifest("nope").unwrap_err().to_string();
    assert!(err.contains("has no tags"), "{err}");
    layout
        .put_manifest(&manifest_bytes(b"1"), MANIFEST_TYPE, Some("v1"))
        .unwrap();
    layout
        .put_manifest(&manifest_bytes(b"2"), MANIFEST_TYPE, Some("v2"))
        .unwrap();
    let err = layout.manifest("v3").unwrap_err().to_string();
    assert!(err.contains("\"v3\"") && err.contains("v1, v2"), "{err}");
    assert!(err.contains(&layout.dir().display().to_string()), "{err}");
}

#[test]
fn bad_input_is_refused() {
    let (_tmp, layout) = new_layout();
    let m = manifest_bytes(b"1");
    for tag in ["", "a b", "-a", "a/", "a---b", "a..b"] {
        let err = layout
            .put_manifest(&m, MANIFEST_TYPE, Some(tag))
            .unwrap_err();
        assert!(
            matches!(err, LayoutError::InvalidTag { .. }),
            "{tag}: {err}"
        );
    }
    let digest_like = Digest::of(b"d").to_string();
    assert!(
        layout
            .put_manifest(&m, MANIFEST_TYPE, Some(&digest_like))
            .is_err()
    );
    for tag in ["v1.2.3", "a--b", "repo/name:tag", "A_b+c@d"] {
        layout.put_manifest(&m, MANIFEST_TYPE, Some(tag)).unwrap();
    }
    let err = layout
        .put_manifest(&m, "application/other", None)
        .unwrap_err();
    assert!(matches!(err, LayoutError::BadManifest { .. }), "{err}");
    assert!(
        layout
            .put_manifest(b"not json", MANIFEST_TYPE, None)
            .is_err()
    );
}

#[test]
fn create_refuses_a_non_empty_foreign_folder_and_open_needs_a_layout() {
    let tmp = tempfile::tempdir().unwrap();
    fs::write(tmp.path().join("notes.txt"), "hi").unwrap();
    let err = Layout::create(tmp.path()).unwrap_err();
    assert!(matches!(err, LayoutError::NotALayout { .. }), "{err}");
    let empty = tmp.path().join("empty");
    fs::create_dir(&empty).unwrap();
    assert!(Layout::open(&empty).is_err());
    Layout::create(&empty).unwrap();
    Layout::open(&empty).unwrap();
}

#[test]
fn index_json_is_valid_oci() {
    let (_tmp, layout) = new_layout();
    let m = manifest_bytes(b"1");
    let d = layout.put_manifest(&m, MANIFEST_TYPE, Some("v1")).unwrap();
    let marker: Value =
        serde_json::from_slice(&fs::read(layout.dir().join("oci-layout")).unwrap()).unwrap();
    assert_eq!(marker, json!({"imageLayoutVersion": "1.0.0"}));
    let index: Value =
        serde_json::from_slice(&fs::read(layout.dir().join("index.json")).unwrap()).unwrap();
    assert_eq!(index["schemaVersion"], 2);
    assert_eq!(index["mediaType"], INDEX_MEDIA_TYPE);
    assert_eq!(
        index["manifests"],
        json!([{
            "mediaType": MANIFEST_TYPE,
            "digest": d.as_str(),
            "size": m.len(),
            "annotations": {REF_NAME: "v1"},
        }])
    );
    assert!(!layout.dir().join(INDEX_TMP).exists());
}

#[test]
fn foreign_index_fields_survive_a_rewrite() {
    let (_tmp, layout) = new_layout();
    let index = json!({
        "schemaVersion": 2,
        "manifests": [{"mediaType": MANIFEST_TYPE, "digest": Digest::of(b"x"), "size": 1,
                       "platform": {"os": "linux"}, "annotations": {"k": "v"}}],
        "annotations": {"created-by": "other"},
    });
    fs::write(layout.dir().join(INDEX_FILE), index.to_string()).unwrap();
    layout
        .put_manifest(&manifest_bytes(b"1"), MANIFEST_TYPE, Some("v1"))
        .unwrap();
    let written: Value =
        serde_json::from_slice(&fs::read(layout.dir().join(INDEX_FILE)).unwrap()).unwrap();
    assert_eq!(written["annotations"]["created-by"], "other");
    assert_eq!(written["manifests"][0]["platform"]["os"], "linux");
    assert_eq!(written["manifests"][0]["annotations"]["k"], "v");
}

#[test]
fn malformed_index_names_file_and_line() {
    let (_tmp, layout) = new_layout();
    fs::write(
        layout.dir().join(INDEX_FILE),
        "{\n\"schemaVersion\": 2,\n oops}",
    )
    .unwrap();
    let err = layout.tags().unwrap_err().to_string();
    assert!(
        err.contains("index.json") && err.contains("line 3"),
        "{err}"
    );
}

/// A real image (config + one gzip tar layer) that skopeo must accept, then a copy made by
/// skopeo that this module must read back.
#[test]
fn skopeo_reads_what_we_write() {
    let skopeo = Command::new("skopeo").arg("--version").output();
    assert!(
        skopeo.is_ok_and(|o| o.status.success()),
        "skopeo is not on PATH; scripts/test installs it (apt-get install skopeo)"
    );
    let (tmp, layout) = new_layout();

    let mut tar = tar::Builder::new(Vec::new());
    let mut header = tar::Header::new_gnu();
    let body = b"kind: ConfigMap\n";
    header.set_size(body.len() as u64);
    header.set_mode(0o644);
    header.set_cksum();
    tar.append_data(&mut header, "cm.yaml", &body[..]).unwrap();
    let tar = tar.into_inner().unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&tar).unwrap();
    let layer = gz.finish().unwrap();

    let config = serde_json::to_vec(&json!({
        "architecture": "amd64",
        "os": "linux",
        "rootfs": {"type": "layers", "diff_ids": [Digest::of(&tar)]},
    }))
    .unwrap();
    let manifest = serde_json::to_vec(&json!({
        "schemaVersion": 2,
        "mediaType": MANIFEST_TYPE,
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                   "digest": Digest::of(&config), "size": config.len()},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                    "digest": Digest::of(&layer), "size": layer.len()}],
    }))
    .unwrap();
    layout.put_blob(&Digest::of(&layer), &layer).unwrap();
    layout.put_blob(&Digest::of(&config), &config).unwrap();
    let digest = layout
        .put_manifest(&manifest, MANIFEST_TYPE, Some("v1"))
        .unwrap();

    let src = format!("oci:{}:v1", layout.dir().display());
    let out = Command::new("skopeo")
        .args(["inspect", &src])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "skopeo inspect failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains(digest.as_str()), "{stdout}");

    let copy = tmp.path().join("copy");
    let dst = format!("oci:{}:v2", copy.display());
    let out = Command::new("skopeo")
        .args(["copy", "--insecure-policy", "--quiet", &src, &dst])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "skopeo copy failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let copied = Layout::open(&copy).unwrap();
    let (_, media_type, bytes) = copied.manifest("v2").unwrap();
    assert_eq!(media_type, MANIFEST_TYPE);
    assert_eq!(bytes, manifest);
}
