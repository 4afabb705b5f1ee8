//! Flux `OCIRepository` and kustomize `images:` entries.

use super::*;

const FLUX_TAG: &str = "\
apiVersion: source.toolkit.fluxcd.io/v1
kind: OCIRepository
metadata:
  name: fleet
  namespace: flux-system
spec:
  interval: 5m
  url: oci://us-docker.pkg.dev/proj/fleet/root
  ref:
    tag: v1 # moved by kbundle
  provider: gcp
";

#[test]
fn flux_both_updates_the_tag_and_adds_the_digest() {
    let edit = run(FLUX_TAG, Pin::Both);
    assert_eq!(
        edit.text,
        FLUX_TAG.replace(
            "    tag: v1 # moved by kbundle\n",
            &format!("    tag: v2 # moved by kbundle\n    digest: {NEW}\n")
        )
    );
    assert_eq!(
        edit.changes,
        [
            change("OCIRepository", "fleet", "spec.ref.tag", 10, "v1", "v2"),
            change("OCIRepository", "fleet", "spec.ref.digest", 11, "", NEW),
        ]
    );
}

#[test]
fn flux_digest_keeps_the_tag() {
    let edit = run(FLUX_TAG, Pin::Digest);
    assert_eq!(
        edit.text,
        FLUX_TAG.replace("kbundle\n", &format!("kbundle\n    digest: {NEW}\n"))
    );
}

#[test]
fn flux_without_ref_gets_one() {
    let text = FLUX_TAG.replace("  ref:\n    tag: v1 # moved by kbundle\n", "");
    let edit = run(&text, Pin::Both);
    assert_eq!(
        edit.text,
        format!("{text}  ref:\n    tag: v2\n    digest: {NEW}\n")
    );
    assert_eq!(
        edit.changes
            .iter()
            .map(|change| (change.field.as_str(), change.line))
            .collect::<Vec<_>>(),
        [("spec.ref.tag", 11), ("spec.ref.digest", 12)]
    );

    // A bare `ref:` gets its children on the lines below it.
    let text = FLUX_TAG.replace("    tag: v1 # moved by kbundle\n", "");
    let edit = run(&text, Pin::Digest);
    assert_eq!(
        edit.text,
        text.replace("  ref:\n", &format!("  ref:\n    digest: {NEW}\n"))
    );
}

#[test]
fn flux_tag_pin_refuses_when_a_digest_would_win() {
    let text = FLUX_TAG.replace("    tag: v1", &format!("    digest: {OLD}\n    tag: v1"));
    let error = run_err(&text, Pin::Tag);
    assert_eq!(
        error.to_string(),
        "line 10: OCIRepository fleet has spec.ref.digest, which takes precedence over the \
         tag, so --pin tag would change nothing; use --pin digest or --pin both, or remove \
         spec.ref.digest"
    );
    let edit = run(&text, Pin::Both);
    assert_eq!(
        edit.text,
        text.replace(OLD, NEW).replace("tag: v1", "tag: v2")
    );
}

#[test]
fn flux_with_another_url_is_not_a_target() {
    let text = FLUX_TAG.replace("fleet/root", "fleet/other");
    assert!(matches!(
        run_err(&text, Pin::Both),
        BumpError::NoTarget { .. }
    ));
}

fn run_err(text: &str, pin: Pin) -> BumpError {
    bump(text, &image(), pin, None).unwrap_err()
}

const KUSTOMIZATION: &str = "\
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
  - deployment.yaml
images:
  # The bundle itself.
  - name: us-docker.pkg.dev/proj/fleet/root
    newTag: 'v1'
  - name: nginx
    newTag: \"1.25\"
";

#[test]
fn kustomize_block_entry_updates_new_tag_and_adds_digest() {
    let edit = run(KUSTOMIZATION, Pin::Both);
    assert_eq!(
        edit.text,
        KUSTOMIZATION.replace(
            "    newTag: 'v1'\n",
            &format!("    newTag: 'v2'\n    digest: {NEW}\n")
        )
    );
    assert_eq!(
        edit.changes,
        [
            change("Kustomization", "", "images[0].newTag", 8, "v1", "v2"),
            change("Kustomization", "", "images[0].digest", 9, "", NEW),
        ]
    );
}

#[test]
fn kustomize_last_line_without_newline_and_new_name_match() {
    // No apiVersion: the usual kustomization.yaml; matched through newName.
    let text = "images:\n- name: root\n  newName: us-docker.pkg.dev/proj/fleet/root\n  digest: \
                sha256:0000000000000000000000000000000000000000000000000000000000000000";
    let edit = run(text, Pin::Both);
    assert_eq!(
        edit.text,
        format!(
            "images:\n- name: root\n  newName: us-docker.pkg.dev/proj/fleet/root\n  digest: {NEW}\n  newTag: v2"
        )
    );
    assert!(matches!(
        run_err(text, Pin::Tag),
        BumpError::Precedence { line: 4, .. }
    ));
}

#[test]
fn kustomize_flow_entries_are_edited_on_their_line() {
    let text = "images:\n- {name: nginx, newTag: \"1.25\"}\n- {name: us-docker.pkg.dev/proj/fleet/root, newTag: v1}  # app\n";
    let edit = run(text, Pin::Both);
    assert_eq!(
        edit.text,
        text.replace("newTag: v1}", &format!("newTag: v2, digest: {NEW}}}"))
    );
    assert_eq!(edit.changes.len(), 2);
    assert!(edit.changes.iter().all(|change| change.line == 3));

    let text = "images: [{name: us-docker.pkg.dev/proj/fleet/root}]\n";
    let edit = run(text, Pin::Digest);
    assert_eq!(
        edit.text,
        text.replace("root}", &format!("root, digest: {NEW}}}"))
    );
}

#[test]
fn numeric_looking_tags_are_quoted_when_written_plain() {
    let text = "images:\n- name: us-docker.pkg.dev/proj/fleet/root\n  newTag: v1\n";
    let image: NewImage = format!("{REPO}:1.0@{NEW}").parse().unwrap();
    let edit = bump(text, &image, Pin::Tag, None).unwrap();
    assert_eq!(edit.text, text.replace("v1", "\"1.0\""));
    assert_eq!(edit.changes[0].new, "1.0");
}

#[test]
fn mixed_fleet_file_edits_every_target() {
    let text = format!(
        "{}---\n{FLUX_TAG}---\n{KUSTOMIZATION}",
        "apiVersion: configsync.gke.io/v1beta1\nkind: RootSync\nmetadata:\n  name: root-sync\n\
         spec:\n  sourceType: oci\n  oci:\n    image: us-docker.pkg.dev/proj/fleet/root:v1\n"
    );
    let edit = run(&text, Pin::Digest);
    assert_eq!(
        edit.changes
            .iter()
            .map(|change| (change.kind.as_str(), change.field.as_str(), change.line))
            .collect::<Vec<_>>(),
        [
            ("RootSync", "spec.oci.image", 8),
            ("OCIRepository", "spec.ref.digest", 20),
            ("Kustomization", "images[0].digest", 31),
        ]
    );
    let expected = text
        .replace(
            "image: us-docker.pkg.dev/proj/fleet/root:v1\n",
            &format!("image: {REPO}@{NEW}\n"),
        )
        .replace("kbundle\n", &format!("kbundle\n    digest: {NEW}\n"))
        .replace(
            "newTag: 'v1'\n",
            &format!("newTag: 'v1'\n    digest: {NEW}\n"),
        );
    assert_eq!(edit.text, expected);
    let again = run(&edit.text, Pin::Digest);
    assert!(again.changes.is_empty());
    assert_eq!(again.text, edit.text);
}
