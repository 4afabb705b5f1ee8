//! Verdicts agree with the `kubernetes-validate` CLI (PyPI 1.37.0, the source of the
//! embedded schemas) on a mixed corpus, with and without `--strict`.
//! `scripts/test` installs the peer; without it this test fails and says so.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

use serde_json::Value;

const CORPUS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/peer");

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

/// Files kubernetes-validate fails.
fn peer_invalid(files: &[String], strict: bool) -> BTreeSet<String> {
    let mut cmd = Command::new("kubernetes-validate");
    cmd.args(["-k", "1.37", "--quiet", "--no-warn"]);
    if strict {
        cmd.arg("--strict");
    }
    let out = cmd.args(files).output().unwrap_or_else(|e| {
        panic!("cannot run kubernetes-validate ({e}); run scripts/test, which installs it with pip")
    });
    assert!(matches!(out.status.code(), Some(0 | 1)), "{out:?}");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.strip_prefix("ERROR "))
        .filter_map(|l| l.split_once(" did not validate").map(|(f, _)| f.to_owned()))
        .collect()
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
    let report: Value = serde_json::from_slice(&out.stdout).expect("json report");
    report["resources"]
        .as_array()
        .expect("resources")
        .iter()
        .filter(|r| r["status"] != "statusValid")
        .filter_map(|r| r["filename"].as_str().map(str::to_owned))
        .collect()
}

#[test]
fn verdicts_match_kubernetes_validate() {
    let files = corpus();
    assert!(files.len() >= 30, "the corpus is the point of this test");
    for strict in [false, true] {
        let peer = peer_invalid(&files, strict);
        let ours = kbundle_invalid(strict);
        assert!(
            !peer.is_empty() && peer.len() < files.len(),
            "corpus must mix verdicts"
        );
        let name = |f: &String| {
            Path::new(f)
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
        };
        let only_peer: Vec<_> = peer.difference(&ours).filter_map(name).collect();
        let only_ours: Vec<_> = ours.difference(&peer).filter_map(name).collect();
        assert!(
            only_peer.is_empty() && only_ours.is_empty(),
            "strict={strict}: invalid only for kubernetes-validate: {only_peer:?}; only for kbundle: {only_ours:?}"
        );
    }
}
