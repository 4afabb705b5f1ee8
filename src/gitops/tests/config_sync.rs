//! RootSync / RepoSync: `spec.oci.image`.

use super::*;

const MULTI: &str = "\
# Fleet root. Keep this header.
apiVersion: v1
kind: Namespace
metadata:
  name: config-management-system   # the reconciler's namespace
---
apiVersion: configsync.gke.io/v1beta1
kind: RootSync
metadata:
  name: root-sync
  namespace: config-management-system
spec:
  sourceType: oci
  oci:
    image: us-docker.pkg.dev/proj/fleet/root:v1 # pinned by kbundle
    dir: .
    auth:   k8sserviceaccount

# trailing comment
---
apiVersion: v1
kind: ConfigMap
data: {image: us-docker.pkg.dev/proj/fleet/root:v1}
";

#[test]
fn multi_document_file_changes_only_the_image_scalar() {
    let edit = run(MULTI, Pin::Both);
    let expected = MULTI.replace(
        "image: us-docker.pkg.dev/proj/fleet/root:v1 # pinned",
        &format!("image: {REPO}:v2@{NEW} # pinned"),
    );
    assert_eq!(edit.text, expected);
    assert_eq!(
        edit.changes,
        [change(
            "RootSync",
            "root-sync",
            "spec.oci.image",
            15,
            "us-docker.pkg.dev/proj/fleet/root:v1",
            &format!("{REPO}:v2@{NEW}"),
        )]
    );
}

#[test]
fn pins_write_digest_tag_or_both() {
    let cases = [
        (Pin::Digest, format!("{REPO}@{NEW}")),
        (Pin::Tag, format!("{REPO}:v2")),
        (Pin::Both, format!("{REPO}:v2@{NEW}")),
    ];
    for (pin, reference) in cases {
        let edit = run(MULTI, pin);
        let expected = MULTI.replace(
            "image: us-docker.pkg.dev/proj/fleet/root:v1 #",
            &format!("image: {reference} #"),
        );
        assert_eq!(edit.text, expected, "{pin:?}");
    }
}

#[test]
fn tag_pins_need_a_tag() {
    for (pin, word) in [(Pin::Tag, "tag"), (Pin::Both, "both")] {
        let error = bump(MULTI, &image_without_tag(), pin, None).unwrap_err();
        assert_eq!(
            error.to_string(),
            format!(
                "image {REPO}@{NEW} has no tag, so --pin {word} cannot write one; \
                 add :TAG before the @ in --image, or use --pin digest"
            )
        );
    }
    let edit = bump(MULTI, &image_without_tag(), Pin::Digest, None).unwrap();
    assert!(
        edit.text
            .contains(&format!("image: {REPO}@{NEW} # pinned by kbundle\n"))
    );
}

#[test]
fn quoted_values_keep_their_quotes() {
    let template = "apiVersion: configsync.gke.io/v1\nkind: RepoSync\nmetadata:\n  name: repo-sync\n  \
                    namespace: team-a\nspec:\n  sourceType: \"oci\"\n  oci:\n    image: IMAGE\n";
    for (before, after) in [
        (format!("\"{REPO}:v1\""), format!("\"{REPO}:v2@{NEW}\"")),
        (format!("'{REPO}:v1'"), format!("'{REPO}:v2@{NEW}'")),
        // Plain stays plain.
        (format!("{REPO}:v1"), format!("{REPO}:v2@{NEW}")),
    ] {
        let text = template.replace("IMAGE", &before);
        let edit = run(&text, Pin::Both);
        assert_eq!(edit.text, template.replace("IMAGE", &after));
        assert_eq!(edit.changes[0].kind, "RepoSync");
        assert_eq!(edit.changes[0].line, 9);
    }
}

#[test]
fn crlf_line_endings_are_kept() {
    let text = "apiVersion: configsync.gke.io/v1beta1\r\nkind: RootSync\r\nmetadata:\r\n  name: root-sync\r\n\
                spec:\r\n  sourceType: oci\r\n  oci:\r\n    image: old:v1 # pinned by kbundle\r\n    dir: .\r\n";
    let edit = run(text, Pin::Digest);
    assert_eq!(
        edit.text,
        text.replace("image: old:v1 #", &format!("image: {REPO}@{NEW} #"))
    );
    assert_eq!(edit.changes[0].line, 8);
}

#[test]
fn crlf_file_gets_crlf_in_created_keys() {
    let text = "apiVersion: configsync.gke.io/v1beta1\r\nkind: RootSync\r\nmetadata:\r\n  name: r\r\n\
                spec:\r\n  sourceType: oci\r\n  sourceFormat: unstructured\r\n";
    let edit = run(text, Pin::Digest);
    assert_eq!(
        edit.text,
        format!("{text}  oci:\r\n    image: {REPO}@{NEW}\r\n")
    );
    assert_eq!(edit.changes[0].field, "spec.oci.image");
    assert_eq!(edit.changes[0].line, 9);
    assert_eq!(edit.changes[0].old, "");
}

#[test]
fn non_ascii_text_before_the_value_uses_byte_offsets() {
    // The parser counts characters; "é", "—" and "图像" are several bytes each, so a
    // character index used as a byte offset would cut the text in the wrong place.
    let text = "# Fleet — équipe plateforme 图像\napiVersion: configsync.gke.io/v1beta1\nkind: RootSync\n\
                metadata:\n  name: racine-é\nspec:\n  sourceType: oci # 同步\n  oci: {dir: ., image: \"old:v1\"}  # ünïcode\n";
    let edit = run(text, Pin::Both);
    assert_eq!(
        edit.text,
        text.replace("\"old:v1\"", &format!("\"{REPO}:v2@{NEW}\""))
    );
    assert_eq!(edit.changes[0].name, "racine-é");
    assert_eq!(edit.changes[0].line, 8);
}

#[test]
fn key_created_after_a_non_ascii_value() {
    let text = "apiVersion: configsync.gke.io/v1beta1\nkind: RootSync\nmetadata:\n  name: r\nspec:\n  \
                sourceType: oci\n  sourceFormat: déstructuré";
    let edit = run(text, Pin::Both);
    assert_eq!(
        edit.text,
        format!("{text}\n  oci:\n    image: {REPO}:v2@{NEW}")
    );
    assert_eq!(edit.changes[0].line, 9);
}

const TWO: &str = "\
apiVersion: configsync.gke.io/v1beta1
kind: RootSync
metadata:
  name: root-sync
spec:
  sourceType: oci
  oci:
    image: us-docker.pkg.dev/proj/fleet/other:v1
---
apiVersion: configsync.gke.io/v1beta1
kind: RepoSync
metadata:
  name: team-a
  namespace: team-a
spec:
  sourceType: oci
  oci:
    image: us-docker.pkg.dev/proj/fleet/team-a@sha256:0000000000000000000000000000000000000000000000000000000000000000
";

#[test]
fn several_syncs_need_a_name() {
    let error = bump(TWO, &image(), Pin::Both, None).unwrap_err();
    assert_eq!(
        error.to_string(),
        "several RootSync/RepoSync documents sync from OCI (RootSync root-sync, \
         RepoSync team-a/team-a); pick one with --name"
    );
}

#[test]
fn name_selects_the_document() {
    let edit = bump(TWO, &image(), Pin::Digest, Some("team-a")).unwrap();
    assert_eq!(
        edit.text,
        TWO.replace(&format!("fleet/team-a@{OLD}"), &format!("fleet/root@{NEW}"))
    );
    assert_eq!(edit.changes[0].name, "team-a");
    assert_eq!(edit.changes[0].line, 18);

    let error = bump(TWO, &image(), Pin::Both, Some("nope")).unwrap_err();
    assert_eq!(
        error.to_string(),
        "no document named \"nope\" in the file (it has RootSync root-sync, RepoSync \
         team-a/team-a); check --name"
    );
}

#[test]
fn the_one_sync_already_on_the_repository_is_picked() {
    let text = TWO.replace("fleet/other:v1", "fleet/root:v1");
    let edit = run(&text, Pin::Both);
    assert_eq!(
        edit.text,
        text.replace("fleet/root:v1", &format!("fleet/root:v2@{NEW}"))
    );
    assert_eq!(edit.changes.len(), 1);
}

#[test]
fn registry_port_is_not_a_tag() {
    let text = "apiVersion: configsync.gke.io/v1beta1\nkind: RootSync\nmetadata:\n  name: a\nspec:\n  \
                oci:\n    image: localhost:5000/fleet/root:v1\n---\napiVersion: configsync.gke.io/v1beta1\n\
                kind: RootSync\nmetadata:\n  name: b\nspec:\n  oci:\n    image: localhost:5000/fleet/other\n";
    let image: NewImage = format!("localhost:5000/fleet/root@{NEW}").parse().unwrap();
    assert_eq!(image.repository, "localhost:5000/fleet/root");
    assert_eq!(image.tag, None);
    let edit = bump(text, &image, Pin::Digest, None).unwrap();
    assert_eq!(edit.text, text.replace("root:v1", &format!("root@{NEW}")));
}

#[test]
fn four_space_documents_get_four_space_keys() {
    let text = "apiVersion: configsync.gke.io/v1beta1\nkind: RootSync\nmetadata:\n    name: r\nspec:\n    \
                sourceType: oci\n    oci:\n        dir: .\n# end\n";
    let edit = run(text, Pin::Both);
    assert_eq!(
        edit.text,
        text.replace(
            "dir: .\n",
            &format!("dir: .\n        image: {REPO}:v2@{NEW}\n")
        )
    );
}

#[test]
fn real_example_changes_only_the_image_line() {
    let text = include_str!("../../../examples/fleet/root-sync.yaml");
    let edit = run(text, Pin::Both);
    assert_eq!(
        changed_lines(text, &edit.text),
        [(
            "    image: us-docker.pkg.dev/example-project/config/root:latest",
            &*format!("    image: {REPO}:v2@{NEW}")
        )]
    );
    assert_eq!(
        edit.text.len(),
        text.len() + edit.changes[0].new.len() - edit.changes[0].old.len()
    );
    // And a second run finds nothing to do.
    let again = run(&edit.text, Pin::Both);
    assert_eq!(again.text, edit.text);
    assert!(again.changes.is_empty());
}

#[test]
fn anchors_and_tags_before_the_image_stay() {
    let head = "apiVersion: configsync.gke.io/v1beta1\nkind: RootSync\nmetadata: {name: r}\n\
                spec:\n  sourceType: oci\n  oci:\n";
    let new = format!("{REPO}:v2@{NEW}");
    for (written, expected) in [
        ("&img old:v1", format!("&img {new}")),
        ("!!str \"old:v1\"", format!("!!str \"{new}\"")),
        ("&img !!str 'old:v1'", format!("&img !!str '{new}'")),
        ("!!str &img old:v1", format!("!!str &img {new}")),
        (
            "!<tag:yaml.org,2002:str> old:v1",
            format!("!<tag:yaml.org,2002:str> {new}"),
        ),
        (
            "&img # why\n      old:v1",
            format!("&img # why\n      {new}"),
        ),
        ("&img", format!("&img {new}")),
    ] {
        let text = format!("{head}    image: {written}\n    dir: .\n  alias: *img\n");
        let text = if written.contains("&img") {
            text
        } else {
            text.replace("  alias: *img\n", "")
        };
        let edit = run(&text, Pin::Both);
        assert_eq!(edit.text, text.replace(written, &expected), "{written:?}");
        assert_eq!(edit.changes.len(), 1, "{written:?}");
    }
    let flow = format!("{head}    {{image: &img old:v1, dir: .}}\n");
    let flow = flow.replace("  oci:\n    {", "  oci: {");
    let edit = run(&flow, Pin::Both);
    assert_eq!(
        edit.text,
        flow.replace("&img old:v1", &format!("&img {new}"))
    );
}
