//! Reads a report back from `validate -o json` (kubeconform's shape plus line and column),
//! so `comment --report` and `bump --report` can use a validation that ran earlier.

use std::collections::BTreeSet;
use std::sync::Arc;

use serde::Deserialize;

use crate::manifest::Pos;
use crate::report::{Problem, Report, ResourceResult, Status, Summary};

#[derive(Deserialize)]
struct Output {
    resources: Vec<Resource>,
    #[serde(default)]
    summary: Option<Totals>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Resource {
    filename: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    version: String,
    status: String,
    #[serde(default)]
    msg: String,
    #[serde(default)]
    line: u32,
    #[serde(default)]
    column: u32,
    #[serde(default)]
    validation_errors: Vec<ReadProblem>,
}

#[derive(Deserialize)]
struct ReadProblem {
    #[serde(default)]
    path: String,
    msg: String,
    #[serde(default)]
    line: u32,
    #[serde(default)]
    column: u32,
    #[serde(default)]
    code: Option<String>,
}

#[derive(Deserialize)]
struct Totals {
    valid: usize,
    invalid: usize,
    errors: usize,
    skipped: usize,
}

fn status(s: &str) -> Result<Status, String> {
    Ok(match s {
        "statusValid" => Status::Valid,
        "statusInvalid" => Status::Invalid,
        "statusError" => Status::Error,
        "statusSkipped" => Status::Skipped,
        other => return Err(format!("unknown status {other:?}")),
    })
}

/// The report in `text`. Without `--verbose`, `validate` lists only invalid and failed
/// resources; the valid and skipped ones its `summary` counts (with `--summary`) are added
/// back as unnamed entries, so totals and verdicts stay right.
pub fn from_json(text: &str) -> Result<Report, String> {
    let output: Output = serde_json::from_str(text)
        .map_err(|e| format!("not a `kbundle validate -o json` report: {e}"))?;
    let mut report = Report::default();
    let mut files = BTreeSet::new();
    for r in output.resources {
        let filename: Arc<str> = Arc::from(r.filename.as_str());
        files.insert(filename.clone());
        report.resources.push(ResourceResult {
            filename,
            kind: r.kind,
            name: r.name,
            namespace: String::new(),
            version: r.version,
            status: status(&r.status)?,
            msg: r.msg,
            pos: Pos {
                line: r.line,
                column: r.column,
            },
            errors: r
                .validation_errors
                .into_iter()
                .map(|p| Problem {
                    path: p.path,
                    // Codes are static strings in a live report; read back, they go in front
                    // of the message, which is how every format shows them anyway.
                    msg: match p.code {
                        Some(code) => format!("{code}: {}", p.msg),
                        None => p.msg,
                    },
                    line: p.line,
                    column: p.column,
                    code: None,
                })
                .collect(),
        });
    }
    report.files = files.len();
    if let Some(totals) = output.summary {
        let listed = report.summary();
        let missing = |total: usize, listed: usize| total.saturating_sub(listed);
        let unlisted = [
            (Status::Valid, missing(totals.valid, listed.valid)),
            (Status::Skipped, missing(totals.skipped, listed.skipped)),
        ];
        if listed.invalid != totals.invalid || listed.errors != totals.errors {
            return Err(format!(
                "its summary counts {} invalid and {} errors but it lists {} and {}",
                totals.invalid, totals.errors, listed.invalid, listed.errors
            ));
        }
        for (status, n) in unlisted {
            for _ in 0..n {
                report.resources.push(ResourceResult {
                    filename: Arc::from(""),
                    kind: String::new(),
                    name: String::new(),
                    namespace: String::new(),
                    version: String::new(),
                    status,
                    msg: String::new(),
                    pos: Pos { line: 0, column: 0 },
                    errors: Vec::new(),
                });
            }
        }
    }
    Ok(report)
}

/// Totals as one line: `12 valid, 0 invalid, 0 errors, 1 skipped`.
pub fn totals(s: Summary) -> String {
    format!(
        "{} valid, {} invalid, {} errors, {} skipped",
        s.valid, s.invalid, s.errors, s.skipped
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::format::fixture::sample;
    use crate::report::{Format, Settings, render};

    fn json(report: &Report, settings: Settings) -> String {
        let mut out = Vec::new();
        render(report, Format::Json, settings, &mut out).expect("render");
        String::from_utf8(out).expect("utf-8")
    }

    #[test]
    fn round_trips_verdicts_and_totals() {
        let original = sample();
        for verbose in [true, false] {
            let settings = Settings {
                verbose,
                summary: true,
            };
            let read = from_json(&json(&original, settings)).expect("read");
            assert_eq!(read.summary(), original.summary(), "verbose {verbose}");
            assert_eq!(read.passed(), original.passed());
            // Problems keep their place, and their code in front of the message.
            let problems = |r: &Report| -> Vec<(u32, u32)> {
                r.resources
                    .iter()
                    .flat_map(|r| r.errors.iter().map(|p| (p.line, p.column)))
                    .collect()
            };
            assert_eq!(problems(&read), problems(&original));
        }
        let read = from_json(&json(&original, Settings::default())).expect("read");
        let coded = read
            .resources
            .iter()
            .flat_map(|r| &r.errors)
            .any(|p| p.msg.starts_with("KNV1061: "));
        assert!(coded);
    }

    #[test]
    fn refuses_what_is_not_a_report() {
        assert!(from_json("{}").is_err());
        assert!(from_json("[1,2]").is_err());
        let bad = r#"{"resources":[{"filename":"a","status":"statusWeird"}]}"#;
        assert!(from_json(bad).unwrap_err().contains("statusWeird"));
    }
}
