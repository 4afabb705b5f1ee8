//! OCI manifests and indexes (`oci`): the layer descriptors `pull` reads from a manifest, and
//! an image layout's `index.json` as `oci-layout:DIR` references read and rewrite it.
//!
//! Invariants: no panic; every layer read has a valid digest; in a layout whose index.json is
//! the input, every tag it lists either resolves or gives an error; after storing a manifest
//! under a new tag, that tag gives back the same bytes and digest, and no other tag is lost
//! (index.json fields kbundle does not know are kept when it rewrites the file).
#![no_main]

#[path = "../common/scratch.rs"]
mod scratch;

use std::fs;

use kbundle::bundle::{Digest, MANIFEST_MEDIA_TYPE};
use kbundle::oci::ImageRef;
use kbundle::oci::blob::layers_of;
use kbundle::oci::layout::Layout;
use libfuzzer_sys::fuzz_target;

/// Tags looked up per run, so an index listing thousands costs no more than a few.
const LOOKED_UP: usize = 8;

fuzz_target!(|data: &[u8]| {
    if let Ok(layers) = layers_of(data) {
        for l in layers {
            assert!(l.digest.to_string().starts_with("sha256:"));
        }
    }
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = text.parse::<ImageRef>();
    }

    let dir = scratch::dir().join("layout");
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(dir.join("blobs/sha256")).expect("scratch layout");
    fs::write(dir.join("oci-layout"), br#"{"imageLayoutVersion":"1.0.0"}"#).expect("write");
    fs::write(dir.join("index.json"), data).expect("write");
    let Ok(layout) = Layout::open(&dir) else {
        return;
    };
    let before = layout.tags().expect("an index that opened reads again");
    for tag in before.iter().take(LOOKED_UP) {
        let _ = layout.manifest(tag);
    }
    let tag = "fuzz-new-tag";
    let Ok(digest) = layout.put_manifest(data, MANIFEST_MEDIA_TYPE, Some(tag)) else {
        return;
    };
    assert_eq!(digest, Digest::of(data));
    let (found, media_type, bytes) = layout.manifest(tag).expect("the tag just stored");
    assert_eq!(found, digest);
    assert_eq!(media_type, MANIFEST_MEDIA_TYPE);
    assert_eq!(bytes, data);
    let by_digest = layout
        .manifest(digest.as_str())
        .expect("the digest just stored");
    assert_eq!(by_digest.2, data);
    let after = layout.tags().expect("the rewritten index reads");
    let mut expected: Vec<&str> = before
        .iter()
        .map(String::as_str)
        .filter(|t| *t != tag)
        .collect();
    expected.push(tag);
    let mut after: Vec<&str> = after.iter().map(String::as_str).collect();
    expected.sort_unstable();
    expected.dedup();
    after.sort_unstable();
    after.dedup();
    assert_eq!(
        after, expected,
        "tags lost or added by rewriting index.json"
    );
});
