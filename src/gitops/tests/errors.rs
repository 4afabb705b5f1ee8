//! Errors: what was wrong and what to do.

use super::*;

#[test]
fn file_without_target_names_the_repository() {
    let text = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n---\n\
                apiVersion: configsync.gke.io/v1beta1\nkind: RootSync\nmetadata:\n  name: git\n\
                spec:\n  sourceType: git\n  git: {repo: https://example.com/x.git}\n";
    let error = bump(text, &image(), Pin::Both, None).unwrap_err();
    assert!(
        error.to_string().starts_with(&format!(
            "no RootSync, RepoSync, Flux OCIRepository or kustomize images entry for {REPO} in the file"
        )),
        "{error}"
    );
    assert!(matches!(
        bump("", &image(), Pin::Both, None),
        Err(BumpError::NoTarget { .. })
    ));
}

#[test]
fn yaml_syntax_error_has_the_line() {
    let text =
        "apiVersion: configsync.gke.io/v1beta1\nkind: RootSync\nspec:\n  oci: [a\n  dir: b\n";
    let error = bump(text, &image(), Pin::Both, None).unwrap_err();
    let BumpError::Syntax { line, .. } = &error else {
        panic!("{error:?}");
    };
    assert_eq!(*line, 5);
    assert!(
        error
            .to_string()
            .starts_with("invalid YAML at line 5, column "),
        "{error}"
    );
}

#[test]
fn block_scalar_image_is_refused() {
    let text = "apiVersion: configsync.gke.io/v1beta1\nkind: RootSync\nmetadata:\n  name: r\nspec:\n  \
                oci:\n    image: |\n      old:v1\n";
    let error = bump(text, &image(), Pin::Both, None).unwrap_err();
    assert_eq!(
        error.to_string(),
        "line 7: spec.oci.image is a block scalar, which kbundle cannot rewrite without \
         reformatting the file; write it as a one-line value and run again"
    );
}

#[test]
fn new_image_parsing() {
    let image = image();
    assert_eq!(image.repository, REPO);
    assert_eq!(image.tag.as_deref(), Some("v2"));
    assert_eq!(image.digest.as_str(), NEW);
    assert_eq!(image.to_string(), format!("{REPO}:v2@{NEW}"));
    assert_eq!(
        image.reference(Pin::Digest).unwrap(),
        format!("{REPO}@{NEW}")
    );

    let error = REPO.parse::<NewImage>().unwrap_err();
    assert_eq!(
        error,
        format!(
            "image \"{REPO}\" has no digest; expected REGISTRY/REPOSITORY[:TAG]@sha256:<64 hex \
             digits>, as printed by `kbundle push`"
        )
    );
    for bad in [
        format!("{REPO}@sha256:abc"),
        format!("@{NEW}"),
        format!("{REPO}:@{NEW}"),
        format!("{REPO}:-x@{NEW}"),
        format!("us docker/x@{NEW}"),
        format!("{REPO}/@{NEW}"),
    ] {
        let error = bad.parse::<NewImage>().unwrap_err();
        assert!(
            error.ends_with("as printed by `kbundle push`"),
            "{bad}: {error}"
        );
    }
}

#[test]
fn duplicate_keys_are_refused_with_both_lines() {
    let text = format!(
        "apiVersion: configsync.gke.io/v1beta1\nkind: RootSync\nmetadata: {{name: r}}\nspec:\n  \
         sourceType: oci\n  oci:\n    image: {REPO}:v1\n    dir: .\n    image: {REPO}:v0\n"
    );
    let error = bump(&text, &image(), Pin::Both, None).unwrap_err();
    assert_eq!(
        error,
        BumpError::DuplicateKey {
            key: "image".into(),
            line: 9,
            first: 7
        }
    );
    // Anywhere in the file, flow mappings too: which value counts is the reader's choice.
    let text = format!(
        "apiVersion: configsync.gke.io/v1beta1\nkind: RootSync\nmetadata: {{name: r, name: s}}\n\
         spec:\n  sourceType: oci\n  oci:\n    image: {REPO}:v1\n"
    );
    let error = bump(&text, &image(), Pin::Both, None).unwrap_err();
    assert_eq!(
        error.to_string(),
        "line 3: duplicate key \"name\" (first defined at line 3); a mapping holds each key \
         once, remove one and run again"
    );
}
