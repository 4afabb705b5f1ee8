//! Config Sync's own test repositories (tests/fixtures/validate/kpt-config-sync, copied from
//! GoogleContainerTools/kpt-config-sync): kbundle refuses what `nomos vet` refuses there and
//! accepts what hydrates.

mod support;

const DIR: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/validate/kpt-config-sync"
);

fn validate(args: &[&str]) -> (i32, String, String) {
    let (code, out, err) = support::Run::of(support::kbundle().arg("validate").args(args)).into();
    (code, out.replace(DIR, ""), err)
}

/// Upstream's e2e test wants KNV1014 for both selectors of this hierarchical repository: one
/// uses `mode: dynamic`, which the hierarchy format does not allow, one an unknown mode.
#[test]
fn hierarchical_repository_refuses_dynamic_and_unknown_selector_modes() {
    let (code, out, err) = validate(&[&format!("{DIR}/invalid-hierarchy-namespace-selectors")]);
    assert_eq!(code, 1, "{out}{err}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines,
        [
            "/invalid-hierarchy-namespace-selectors/namespaces/dynamic-ns-selector.yaml:23:9: NamespaceSelector dynamic-namespace-selector is invalid: /spec/mode: KNV1014: NamespaceSelector \"dynamic-namespace-selector\" MUST NOT use the dynamic mode with the hierarchy source format; use mode: static, or the unstructured format",
            "/invalid-hierarchy-namespace-selectors/namespaces/unknown-select-mode.yaml:23:9: NamespaceSelector unknown-namespace-selector is invalid: /spec/mode: \"unknown\" does not match \"^(static|dynamic)$\"",
        ],
        "{err}"
    );
}

/// The same dynamic selector is fine in an unstructured repository (no `system/` beside it).
#[test]
fn dynamic_selectors_are_fine_outside_hierarchical_repositories() {
    let source =
        format!("{DIR}/invalid-hierarchy-namespace-selectors/namespaces/dynamic-ns-selector.yaml");
    let repo = tempfile::tempdir().expect("tempdir");
    let copy = repo.path().join("dynamic-ns-selector.yaml");
    std::fs::copy(&source, &copy).expect("copy");
    let (code, out, err) = validate(&["--configsync", &copy.to_string_lossy()]);
    assert_eq!(code, 0, "{out}{err}");
}

#[test]
fn kustomize_components_repository_is_valid() {
    let (code, out, err) = validate(&["--summary", &format!("{DIR}/kustomize-components")]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains("9 resources found in 9 files - Valid: 9, Invalid: 0, Errors: 0, Skipped: 0 (of which 5 files kustomize)"),
        "{out}"
    );
}
