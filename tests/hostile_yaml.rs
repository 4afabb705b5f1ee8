//! Hostile YAML: alias bombs and deep nesting get a clean error with the file and position,
//! in bounded memory, from every reader of outside input (manifests, CRDs, kbundle.yaml).
//!
//! Memory is bounded by running kbundle under `prlimit --as` (1 GiB of address space): before
//! the limits, the alias bomb took all memory and deep nesting overflowed the stack, both
//! aborting instead of exiting 1.

mod support;

use std::path::Path;
use std::process::Command;

/// Address space kbundle gets in these tests.
const MEMORY: u64 = 1 << 30;

/// Runs kbundle in `dir` under the memory limit, with validation workers on the stack size
/// a thread gets by default (2 MiB), whatever the environment says.
fn kbundle(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let out = Command::new("prlimit")
        .arg(format!("--as={MEMORY}"))
        .arg("--")
        .arg(assert_cmd::cargo::cargo_bin("kbundle"))
        .args(args)
        .current_dir(dir)
        .env("RUST_MIN_STACK", (2u32 << 20).to_string())
        .env_remove("GITHUB_ACTIONS")
        .output()
        .expect("prlimit (util-linux) runs kbundle");
    support::Run::from(out).into()
}

/// Ten levels of nine aliases: 9^10 (3.5 billion) strings when expanded, in under 600 bytes.
fn alias_bomb(indent: &str) -> String {
    let mut text = format!(
        "{indent}a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n"
    );
    let mut previous = 'a';
    for level in 'b'..='j' {
        let aliases = vec![format!("*{previous}"); 9].join(",");
        text.push_str(&format!("{indent}{level}: &{level} [{aliases}]\n"));
        previous = level;
    }
    text
}

fn configmap_bomb() -> String {
    format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: bomb\ndata:\n{}",
        alias_bomb("  ")
    )
}

#[test]
fn alias_bomb_in_a_manifest_is_refused_with_its_position() {
    let dir = tempfile::tempdir().expect("tempdir");
    let text = configmap_bomb();
    assert!(text.len() < 600, "{}", text.len());
    std::fs::write(dir.path().join("bomb.yaml"), text).expect("write");
    std::fs::write(
        dir.path().join("fine.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: fine\n",
    )
    .expect("write");
    let (code, out, err) = kbundle(dir.path(), &["validate", "--summary", "."]);
    assert_eq!(code, 1, "{out}{err}");
    // The level-d list (line 9) is where expansion passes go-yaml's ratio.
    assert!(
        out.contains("bomb.yaml:9:16: excessive aliasing: aliases would expand to "),
        "the error names the file and position: {out}"
    );
    assert!(out.contains("(go-yaml's limit)"), "{out}");
    assert!(
        out.contains("2 resources found in 2 files - Valid: 1, Invalid: 0, Errors: 1"),
        "the other file is still validated: {out}"
    );
}

#[test]
fn small_aliasing_is_still_expanded() {
    let dir = tempfile::tempdir().expect("tempdir");
    // Three levels: 729 strings from 30 written, well inside go-yaml's allowance.
    let text = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ok\n  annotations:\n    \
                x: &a [a, b, c, d, e, f, g, h, i]\n    y: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n    \
                z: [*b, *b, *b, *b, *b, *b, *b, *b, *b]\n";
    std::fs::write(dir.path().join("ok.yaml"), text).expect("write");
    let (code, out, err) = kbundle(dir.path(), &["validate", "ok.yaml"]);
    // Judged by the schema (annotations are strings), so the aliases were expanded.
    assert_eq!(code, 1, "{out}{err}");
    assert!(out.contains("/metadata/annotations/x"), "{out}");
    assert!(!out.contains("aliasing"), "{out}");
}

#[test]
fn alias_bomb_in_a_crd_or_kbundle_yaml_is_refused_with_its_position() {
    let dir = tempfile::tempdir().expect("tempdir");
    let crd = format!(
        "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  \
         name: bombs.example.com\n  labels:\n{}",
        alias_bomb("    ")
    );
    std::fs::write(dir.path().join("crd.yaml"), crd).expect("write");
    std::fs::write(
        dir.path().join("fine.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: fine\n",
    )
    .expect("write");
    let (code, out, err) = kbundle(dir.path(), &["validate", "--crd", "crd.yaml", "fine.yaml"]);
    assert_eq!(code, 2, "{out}{err}");
    assert!(err.contains("crd.yaml:9:"), "{err}");
    assert!(err.contains("excessive aliasing"), "{err}");

    let config = format!(
        "paths: [.]\nimage: example.com/r:v1\nx:\n{}",
        alias_bomb("  ")
    );
    std::fs::write(dir.path().join("kbundle.yaml"), config).expect("write");
    let (code, out, err) = kbundle(dir.path(), &["publish", "--config", "kbundle.yaml"]);
    assert_eq!(code, 2, "{out}{err}");
    assert!(err.contains("kbundle.yaml:7:"), "{err}");
    assert!(err.contains("excessive aliasing"), "{err}");
}

#[test]
fn deep_block_nesting_is_refused_with_its_position() {
    let dir = tempfile::tempdir().expect("tempdir");
    // 50,000 nested block sequences on one line: 100 KB.
    std::fs::write(dir.path().join("deep.yaml"), "- ".repeat(100_000) + "x\n").expect("write");
    let mapping: String = (0..200).map(|i| format!("{}a:\n", " ".repeat(i))).collect();
    std::fs::write(dir.path().join("deep-map.yaml"), mapping).expect("write");
    let (code, out, err) = kbundle(dir.path(), &["validate", "deep.yaml", "deep-map.yaml"]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        out.contains(
            "deep.yaml:1:257: nesting deeper than 128 levels (the limit); no Kubernetes \
             manifest needs that, flatten the document"
        ),
        "{out}"
    );
    assert!(
        out.contains("deep-map.yaml:129:129: nesting deeper than 128 levels"),
        "{out}"
    );
}

#[test]
fn deep_flow_nesting_is_refused_with_its_position() {
    let dir = tempfile::tempdir().expect("tempdir");
    let flow = "[".repeat(100_000) + &"]".repeat(50_000);
    std::fs::write(dir.path().join("deep.json"), &flow).expect("write");
    // Block levels first, then flow: the limit counts both.
    let mixed = "- ".repeat(100) + &"[".repeat(100) + &"]".repeat(100) + "\n";
    std::fs::write(dir.path().join("mixed.yaml"), mixed).expect("write");
    let (code, out, err) = kbundle(dir.path(), &["validate", "deep.json", "mixed.yaml"]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(out.contains("deep.json:1:"), "{out}");
    assert!(
        out.contains("mixed.yaml:1:229: nesting deeper than 128 levels"),
        "{out}"
    );
}

#[test]
fn schema_nested_past_serde_json_recursion_limit_is_an_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let schema = "{\"items\":".repeat(100_000) + "{}" + &"}".repeat(50_000);
    std::fs::write(dir.path().join("configmap-v1.json"), schema).expect("write");
    std::fs::write(
        dir.path().join("cm.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n",
    )
    .expect("write");
    let (code, out, err) = kbundle(
        dir.path(),
        &[
            "validate",
            "--schema-location",
            "{{ .ResourceKind }}-{{ .ResourceAPIVersion }}.json",
            "cm.yaml",
        ],
    );
    assert_eq!(code, 1, "{out}{err}");
    assert!(out.contains("recursion limit exceeded"), "{out}");
}

/// A CRD whose schema nests `levels` deep through `keyword` (`items`, `additionalProperties`,
/// `not`), and a resource that goes all the way down with a wrong type at the bottom.
fn deep_crd(levels: usize, keyword: &str) -> (String, String) {
    let mut crd = String::from(
        "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  \
         name: deeps.example.com\nspec:\n  group: example.com\n  scope: Namespaced\n  names: \
         {plural: deeps, singular: deep, kind: Deep, listKind: DeepList}\n  versions:\n    - \
         name: v1\n      served: true\n      storage: true\n      schema:\n        \
         openAPIV3Schema:\n          type: object\n          properties:\n            spec:\n",
    );
    for level in 0..levels {
        let pad = " ".repeat(14 + 2 * level);
        crd.push_str(&format!("{pad}type: array\n{pad}{keyword}:\n"));
    }
    crd.push_str(&format!("{}type: string\n", " ".repeat(14 + 2 * levels)));
    let resource = format!(
        "apiVersion: example.com/v1\nkind: Deep\nmetadata: {{name: d}}\nspec:\n  {}1\n",
        "- ".repeat(levels)
    );
    (crd, resource)
}

/// The deepest documents the limit lets through are checked on a validation worker's 2 MiB
/// stack in this (debug) build: schema compilation recurses once per subschema level, the
/// costliest consumer of depth.
#[test]
fn documents_at_the_depth_limit_validate_on_a_small_stack() {
    let dir = tempfile::tempdir().expect("tempdir");
    // The CRD wrapper takes 8 levels; 120 schema levels reach exactly 128.
    for keyword in ["items", "additionalProperties", "not"] {
        let (crd, resource) = deep_crd(120, keyword);
        std::fs::write(dir.path().join("crd.yaml"), crd).expect("write");
        std::fs::write(dir.path().join("deep.yaml"), resource).expect("write");
        let (code, out, err) = kbundle(dir.path(), &["validate", "crd.yaml", "deep.yaml"]);
        assert!(code == 0 || code == 1, "{keyword}: exit {code}: {out}{err}");
        assert!(!out.contains("nesting deeper"), "{keyword}: {out}");
        assert!(
            !out.contains("could not find schema"),
            "{keyword}: the CRD was used: {out}"
        );
        if keyword == "items" {
            assert!(out.contains("1 is not of type \"string\""), "{out}");
        }
    }
    // One level more and the CRD itself is refused, with its position.
    let (crd, resource) = deep_crd(121, "items");
    std::fs::write(dir.path().join("crd.yaml"), crd).expect("write");
    std::fs::write(dir.path().join("deep.yaml"), resource).expect("write");
    let (code, out, err) = kbundle(dir.path(), &["validate", "crd.yaml", "deep.yaml"]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        out.contains("crd.yaml:260:257: nesting deeper than 128 levels"),
        "{out}"
    );
    assert!(out.contains("nesting deeper than 128 levels"), "{out}");
}

/// Many broken documents in one file: each error resumes at the next document. Resuming
/// copied the rest of the file each time, so 100,000 broken documents (6 MB) took over a minute of
/// CPU; now each byte is read a bounded number of times. `prlimit --cpu` turns a return of
/// that into a failure (SIGXCPU) rather than a slow run.
#[test]
fn a_file_of_many_broken_documents_is_read_in_linear_time() {
    let dir = tempfile::tempdir().expect("tempdir");
    let doc = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\ndata: {a: b\n";
    std::fs::write(
        dir.path().join("broken.yaml"),
        format!("---\n{doc}").repeat(100_000),
    )
    .expect("write");
    let out = Command::new("prlimit")
        .args(["--cpu=20", "--"])
        .arg(assert_cmd::cargo::cargo_bin("kbundle"))
        .args(["validate", "--summary", "broken.yaml"])
        .current_dir(dir.path())
        .env_remove("GITHUB_ACTIONS")
        .output()
        .expect("prlimit (util-linux) runs kbundle");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("broken.yaml:600001:1: yaml syntax error in document 100000:"),
        "{}",
        stdout.lines().rev().take(2).collect::<Vec<_>>().join("\n")
    );
    assert!(stdout.contains("Errors: 100000"), "{stdout}");
}
