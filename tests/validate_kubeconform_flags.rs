//! kubeconform's command lines, single-dash Go flags and all, run through kubeconform
//! (v0.7.0) and `kbundle validate` on the same files and schemas: the same verdicts, the same
//! exit codes.

#[path = "support/kubeconform.rs"]
mod kubeconform;
#[allow(dead_code)] // run_peer is for other peers
#[path = "support/peers.rs"]
mod peers;

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

use serde_json::Value;

const PEER: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/peer");

/// Corpus files on which kubeconform and kbundle agree by design (see EXPLAINED in
/// tests/peer_kubernetes_validate.rs for the others), valid and invalid, strict or not.
const FILES: &[&str] = &[
    "configmap-valid.yaml",
    "configmap-unknown-top.yaml",
    "configmap-no-kind.yaml",
    "deployment-valid.yaml",
    "deployment-replicas-string.yaml",
    "deployment-container-extra.yaml",
    "secret-valid.yaml",
    "service-valid.yaml",
    "service-port-string.yaml",
    "pod-env-int.yaml",
];

fn files() -> Vec<String> {
    FILES.iter().map(|f| format!("{PEER}/{f}")).collect()
}

/// The exit code and the (file name, status) of every result of a JSON report.
type Verdicts = (Option<i32>, BTreeSet<(String, String)>);

fn verdicts(code: Option<i32>, stdout: &[u8]) -> Verdicts {
    let report: Value = serde_json::from_slice(stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(stdout)));
    let set = report["resources"]
        .as_array()
        .expect("resources")
        .iter()
        .map(|r| {
            let file = r["filename"].as_str().unwrap_or_default();
            let name = Path::new(file).file_name().unwrap_or_default();
            (
                name.to_string_lossy().into_owned(),
                r["status"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    (code, set)
}

/// Runs one kubeconform command line through both, as written.
fn both(args: &[&str]) -> (Verdicts, Verdicts) {
    let theirs = kubeconform::run(args);
    let ours = Command::new(env!("CARGO_BIN_EXE_kbundle"))
        .arg("validate")
        .args(args)
        .output()
        .expect("kbundle");
    assert!(
        ours.stderr.is_empty() || ours.status.code() != Some(2),
        "{}",
        String::from_utf8_lossy(&ours.stderr)
    );
    (
        verdicts(ours.status.code(), &ours.stdout),
        verdicts(theirs.status.code(), &theirs.stdout),
    )
}

#[test]
fn kubeconform_command_lines_give_kubeconform_verdicts() {
    let schemas = kubeconform::schemas();
    let location = kubeconform::location(schemas.path());
    let files = files();
    let files: Vec<&str> = files.iter().map(String::as_str).collect();
    let lines: Vec<Vec<&str>> = vec![
        vec!["-summary", "-output", "json", "-verbose"],
        vec!["-strict", "-output=json", "-verbose", "-n", "2"],
        vec![
            "-output",
            "json",
            "-verbose",
            "-skip",
            "ConfigMap,v1/Secret",
            "-reject",
            "Service",
        ],
        vec![
            "-output",
            "json",
            "-verbose",
            "-strict=false",
            "-ignore-filename-pattern",
            ".*deployment.*",
        ],
        vec![
            "-output",
            "json",
            "-summary=true",
            "-verbose",
            "-exit-on-error",
            "-n",
            "1",
        ],
    ];
    for line in lines {
        let mut args = vec![
            "-kubernetes-version",
            "1.37.0",
            "-schema-location",
            &location,
        ];
        args.extend(&line);
        args.extend(&files);
        let (ours, theirs) = both(&args);
        if line.contains(&"-exit-on-error") {
            // Both stop after the first failure; which files came before it depends on the
            // order of the workers, so only the exit code and a failure are compared.
            assert_eq!(ours.0, theirs.0, "{line:?}");
            assert!(ours.1.iter().any(|(_, s)| s != "statusValid"), "{line:?}");
            continue;
        }
        assert_eq!(ours, theirs, "{line:?}");
    }
}

#[test]
fn ignore_missing_schemas_and_pretty_output_as_in_kubeconform() {
    let schemas = kubeconform::schemas();
    let location = kubeconform::location(schemas.path());
    let widgets = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/validate/widgets.yaml"
    );
    for flags in [&["-ignore-missing-schemas"][..], &[]] {
        let mut args = vec!["-schema-location", &location, "-output", "json", "-verbose"];
        args.extend(flags);
        args.push(widgets);
        let (ours, theirs) = both(&args);
        assert_eq!(ours, theirs, "{flags:?}");
    }
    // `-output pretty` is kubeconform's text; the exit code says the same.
    let out = Command::new(env!("CARGO_BIN_EXE_kbundle"))
        .args([
            "validate",
            "-output",
            "pretty",
            "-insecure-skip-tls-verify",
            widgets,
        ])
        .output()
        .expect("kbundle");
    assert_eq!(out.status.code(), Some(1), "{out:?}");
}
