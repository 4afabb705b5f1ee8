//! Every test asserts the whole output text: the point of `bump` is that nothing but the
//! changed values moves.

mod config_sync;
mod errors;
mod flux_kustomize;

use super::{BumpError, Change, Edit, NewImage, Pin, bump};

/// The digest the tests bump to.
const NEW: &str = "sha256:1111111111111111111111111111111111111111111111111111111111111111";
/// A digest already in the files.
const OLD: &str = "sha256:0000000000000000000000000000000000000000000000000000000000000000";
const REPO: &str = "us-docker.pkg.dev/proj/fleet/root";

/// `REPO:v2@NEW`.
fn image() -> NewImage {
    format!("{REPO}:v2@{NEW}").parse().unwrap()
}

fn image_without_tag() -> NewImage {
    format!("{REPO}@{NEW}").parse().unwrap()
}

fn run(text: &str, pin: Pin) -> Edit {
    bump(text, &image(), pin, None).unwrap()
}

fn change(kind: &str, name: &str, field: &str, line: u32, old: &str, new: &str) -> Change {
    Change {
        kind: kind.to_owned(),
        name: name.to_owned(),
        field: field.to_owned(),
        line,
        old: old.to_owned(),
        new: new.to_owned(),
    }
}

/// The lines that differ between two texts of the same line count.
fn changed_lines<'a>(before: &'a str, after: &'a str) -> Vec<(&'a str, &'a str)> {
    assert_eq!(before.lines().count(), after.lines().count());
    before
        .lines()
        .zip(after.lines())
        .filter(|(a, b)| a != b)
        .collect()
}

#[test]
fn up_to_date_returns_the_text_unchanged() {
    let text = format!(
        "kind: RootSync\napiVersion: configsync.gke.io/v1beta1\nmetadata: {{name: r}}\n\
         spec:\n  sourceType: oci\n  oci:\n    image: {REPO}:v2@{NEW}\n"
    );
    let edit = run(&text, Pin::Both);
    assert_eq!(edit.text, text);
    assert!(edit.changes.is_empty());
    assert!(edit.is_up_to_date());
}
