//! Verdicts on a mixed corpus (tests/fixtures/peer), with and without `--strict`, against two
//! peers on the same schemas: the `kubernetes-validate` CLI (PyPI 1.37.0, the source of the
//! embedded schemas) and kubeconform (v0.7.0, built by scripts/install-peers), which reads the
//! wheel's schema files under their own names (scripts/kubeconform-schemas).
//! `scripts/test` installs both; without either this test fails and says so.
//!
//! Every file on which a peer and kbundle disagree is in `EXPLAINED`, with the reason; an
//! unexplained disagreement fails, and so does an explanation that no longer applies.

mod support;

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

use serde_json::Value;
use support::peers;

const CORPUS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/peer");

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Peer {
    KubernetesValidate,
    Kubeconform,
}

/// A disagreement kept on purpose: on `file`, in the `strict` modes listed, `peer` judges the
/// file invalid when `peer_invalid` (and kbundle valid), or the other way round.
struct Explained {
    file: &'static str,
    peer: Peer,
    strict: &'static [bool],
    peer_invalid: bool,
    why: &'static str,
}

const EXPLAINED: &[Explained] = &[
    Explained {
        file: "deployment-replicas-overflow.yaml",
        peer: Peer::KubernetesValidate,
        strict: &[false, true],
        peer_invalid: false,
        why: "replicas is `format: int32`; JSON Schema ignores formats it does not assert, so \
              4294967296 passes the schema, but the API server decodes into an int32 and refuses \
              it. kbundle checks int32/int64 formats as ranges (README)",
    },
    Explained {
        file: "deployment-replicas-overflow.yaml",
        peer: Peer::Kubeconform,
        strict: &[false, true],
        peer_invalid: false,
        why: "kubeconform's JSON Schema library does not assert `format: int32`; the API server \
              refuses a value out of int32 range, and so does kbundle",
    },
    Explained {
        file: "configmap-date-value.yaml",
        peer: Peer::KubernetesValidate,
        strict: &[false, true],
        peer_invalid: true,
        why: "PyYAML reads an unquoted 2024-01-01 as a date (a YAML 1.1 timestamp), which is \
              not a JSON string; go-yaml (sigs.k8s.io/yaml: kubectl, kubeconform, and kbundle's \
              reading) keeps it the string the API server then receives",
    },
    Explained {
        file: "service-port-exponent.yaml",
        peer: Peer::KubernetesValidate,
        strict: &[false, true],
        peer_invalid: true,
        why: "PyYAML's float needs a dot, so `1e3` is the string '1e3' to it; go-yaml reads the \
              number 1000, an integer port",
    },
    Explained {
        file: "configmap-duplicate-key.yaml",
        peer: Peer::KubernetesValidate,
        strict: &[false, true],
        peer_invalid: false,
        why: "a key given twice is an error in kbundle (README: \"Duplicate keys are errors\"); \
              PyYAML keeps the last value without a word",
    },
    Explained {
        file: "configmap-duplicate-key.yaml",
        peer: Peer::Kubeconform,
        strict: &[false],
        peer_invalid: false,
        why: "kubeconform rejects duplicate keys only with -strict; kbundle always does \
              (README), since the API server would silently keep one of the two values",
    },
    Explained {
        file: "list-configmap-int.yaml",
        peer: Peer::KubernetesValidate,
        strict: &[false, true],
        peer_invalid: false,
        why: "kubernetes-validate checks a `kind: List` against List's own schema, whose items \
              are unchecked objects; kubeconform and kbundle check every item, and this item's \
              data value is a number",
    },
];

fn corpus() -> Vec<String> {
    let mut files: Vec<String> = std::fs::read_dir(CORPUS)
        .expect("corpus")
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .map(|p| p.display().to_string())
        .collect();
    files.sort();
    files
}

/// Files kubernetes-validate fails: did not validate, or could not be validated.
fn kubernetes_validate_invalid(files: &[String], strict: bool) -> BTreeSet<String> {
    let mut cmd = Command::new("kubernetes-validate");
    cmd.args(["-k", "1.37", "--quiet", "--no-warn"]);
    if strict {
        cmd.arg("--strict");
    }
    let out = cmd.args(files).output().unwrap_or_else(|e| {
        panic!("cannot run kubernetes-validate ({e}); run scripts/test, which installs it with pip")
    });
    // Its exit code ORs 1 (invalid) and 2 (could not be validated).
    assert!(matches!(out.status.code(), Some(0..=3)), "{out:?}");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.strip_prefix("ERROR "))
        .filter_map(|l| {
            [" did not validate", " could not be validated"]
                .iter()
                .find_map(|sep| l.split_once(sep).map(|(f, _)| f.to_owned()))
        })
        .collect()
}

/// The wheel's schemas where kubeconform can read them, under their own file names.
fn kubeconform_schemas() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/kubeconform-schemas");
    let out = Command::new("python3")
        .arg(&script)
        .arg(dir.path())
        .arg("1.37.0")
        .output()
        .expect("python3");
    assert!(
        out.status.success(),
        "scripts/kubeconform-schemas: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    dir
}

/// Files kubeconform does not find valid (invalid or in error), on the wheel's schemas.
fn kubeconform_invalid(files: &[String], strict: bool, schemas: &Path) -> BTreeSet<String> {
    let location = format!(
        "{}/{{{{ .NormalizedKubernetesVersion }}}}-local{{{{ .StrictSuffix }}}}/{{{{ .ResourceKind }}}}{{{{ .KindSuffix }}}}.json",
        schemas.display()
    );
    let mut args = vec![
        "-kubernetes-version",
        "1.37.0",
        "-schema-location",
        &location,
        "-output",
        "json",
        "-verbose",
    ];
    if strict {
        args.push("-strict");
    }
    args.extend(files.iter().map(String::as_str));
    let out = Command::new(peers::peer("kubeconform"))
        .args(&args)
        .output()
        .expect("run kubeconform");
    assert!(matches!(out.status.code(), Some(0 | 1)), "{out:?}");
    statuses(&out.stdout)
}

/// Files kbundle fails.
fn kbundle_invalid(strict: bool) -> BTreeSet<String> {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_kbundle"));
    cmd.args([
        "validate",
        "--kubernetes-version",
        "1.37",
        "-o",
        "json",
        CORPUS,
    ]);
    if strict {
        cmd.arg("--strict");
    }
    let out = cmd.output().expect("kbundle");
    statuses(&out.stdout)
}

/// The files of a kubeconform-shaped JSON report whose status is not `statusValid`.
fn statuses(json: &[u8]) -> BTreeSet<String> {
    let report: Value = serde_json::from_slice(json).expect("json report");
    report["resources"]
        .as_array()
        .expect("resources")
        .iter()
        .filter(|r| r["status"] != "statusValid")
        .filter_map(|r| r["filename"].as_str().map(str::to_owned))
        .collect()
}

fn name(file: &String) -> String {
    Path::new(file)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

#[test]
fn verdicts_match_kubernetes_validate_and_kubeconform() {
    let files = corpus();
    assert!(files.len() >= 40, "the corpus is the point of this test");
    let schemas = kubeconform_schemas();
    let mut unexplained = Vec::new();
    let mut seen = vec![false; EXPLAINED.len()];
    for strict in [false, true] {
        let ours = kbundle_invalid(strict);
        for peer in [Peer::KubernetesValidate, Peer::Kubeconform] {
            let theirs = match peer {
                Peer::KubernetesValidate => kubernetes_validate_invalid(&files, strict),
                Peer::Kubeconform => kubeconform_invalid(&files, strict, schemas.path()),
            };
            assert!(
                !theirs.is_empty() && theirs.len() < files.len(),
                "{peer:?}: the corpus must mix verdicts"
            );
            let differences = theirs
                .difference(&ours)
                .map(|f| (name(f), true))
                .chain(ours.difference(&theirs).map(|f| (name(f), false)));
            for (file, peer_invalid) in differences {
                let known = EXPLAINED.iter().position(|e| {
                    e.file == file
                        && e.peer == peer
                        && e.strict.contains(&strict)
                        && e.peer_invalid == peer_invalid
                });
                match known {
                    Some(i) => seen[i] = true,
                    None => unexplained.push(format!(
                        "strict={strict}: {file} is {} for {peer:?} and {} for kbundle",
                        if peer_invalid { "invalid" } else { "valid" },
                        if peer_invalid { "valid" } else { "invalid" },
                    )),
                }
            }
        }
    }
    assert!(
        unexplained.is_empty(),
        "disagreements without an explanation in EXPLAINED:\n{}",
        unexplained.join("\n")
    );
    let stale: Vec<String> = EXPLAINED
        .iter()
        .zip(&seen)
        .filter(|(_, seen)| !**seen)
        .map(|(e, _)| format!("{} ({:?}): {}", e.file, e.peer, e.why))
        .collect();
    assert!(
        stale.is_empty(),
        "explained disagreements that no longer happen (remove them):\n{}",
        stale.join("\n")
    );
}
