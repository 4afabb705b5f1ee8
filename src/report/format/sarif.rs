//! SARIF 2.1.0, shaped for GitHub code scanning (`github/codeql-action/upload-sarif`).

use std::io::{self, Write};

use serde_json::{Value, json};

use crate::report::{Problem, Report, ResourceResult, Status};

const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";

/// Config Sync codes get their own rule so code scanning can filter and dismiss by them.
fn rule_id(r: &ResourceResult, p: &Problem) -> &'static str {
    match (p.code, r.status) {
        (Some(code), _) => code,
        (None, Status::Invalid) => "schema",
        (None, _) => "error",
    }
}

fn rule(id: &str) -> Value {
    let (name, text) = match id {
        "schema" => (
            "SchemaViolation".to_string(),
            "resource does not match its schema".to_string(),
        ),
        "error" => (
            "ValidationError".to_string(),
            "file or resource could not be validated".to_string(),
        ),
        code => (code.to_string(), format!("config sync check {code}")),
    };
    json!({
        "id": id,
        "name": name,
        "shortDescription": { "text": text },
        "defaultConfiguration": { "level": "error" },
    })
}

/// Code scanning resolves URIs against the repository root, so paths must be relative,
/// forward-slashed and percent-encoded. Absolute paths are kept: this module does not read
/// the working directory, so callers should pass paths relative to the repository.
fn artifact_uri(filename: &str) -> String {
    if filename == "stdin" {
        return filename.to_string();
    }
    let name = filename.replace('\\', "/");
    let mut name = name.as_str();
    while let Some(rest) = name.strip_prefix("./") {
        name = rest;
    }
    percent_encode(name)
}

/// Leaves unreserved characters and `/`; a `:` would otherwise read as a URI scheme.
fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'/') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn message(r: &ResourceResult, p: &Problem) -> String {
    [r.label().as_str(), p.path.as_str(), p.msg.as_str()]
        .into_iter()
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(": ")
}

pub(super) fn render(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    let mut rule_ids: Vec<&str> = Vec::new();
    let mut results = Vec::new();
    let failed = report
        .resources
        .iter()
        .filter(|r| matches!(r.status, Status::Invalid | Status::Error));
    for r in failed {
        let uri = artifact_uri(&r.filename);
        for p in r.located_problems() {
            let id = rule_id(r, &p);
            let index = match rule_ids.iter().position(|known| *known == id) {
                Some(i) => i,
                None => {
                    rule_ids.push(id);
                    rule_ids.len() - 1
                }
            };
            results.push(json!({
                "ruleId": id,
                "ruleIndex": index,
                "level": "error",
                "message": { "text": message(r, &p) },
                "locations": [{
                    "physicalLocation": {
                        "artifactLocation": { "uri": uri },
                        "region": {
                            "startLine": p.line.max(1),
                            "startColumn": p.column.max(1),
                        },
                    },
                }],
            }));
        }
    }
    let doc = json!({
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {
                "driver": {
                    "name": "kbundle",
                    "informationUri": "https://github.com/kbundle/kbundle",
                    "version": env!("CARGO_PKG_VERSION"),
                    "rules": rule_ids.iter().map(|id| rule(id)).collect::<Vec<_>>(),
                },
            },
            "results": results,
        }],
    });
    serde_json::to_writer_pretty(&mut *out, &doc)?;
    writeln!(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::Settings;
    use crate::report::format::Format;
    use crate::report::format::fixture::{render_to_string, sample};

    fn sarif() -> Value {
        let out = render_to_string(&sample(), Format::Sarif, Settings::default());
        serde_json::from_str(&out).expect("sarif is json")
    }

    #[test]
    fn document_shape() {
        let v = sarif();
        assert_eq!(v["version"], "2.1.0");
        assert_eq!(v["$schema"], SCHEMA);
        let driver = &v["runs"][0]["tool"]["driver"];
        assert_eq!(driver["name"], "kbundle");
        let ids: Vec<_> = driver["rules"]
            .as_array()
            .expect("rules")
            .iter()
            .map(|r| r["id"].as_str().unwrap_or_default())
            .collect();
        assert_eq!(ids, ["schema", "KNV1061", "error"]);
        assert_eq!(driver["rules"][1]["defaultConfiguration"]["level"], "error");
        assert_eq!(
            driver["rules"][0]["shortDescription"]["text"],
            "resource does not match its schema"
        );
    }

    #[test]
    fn results_point_at_lines() {
        let v = sarif();
        let results = v["runs"][0]["results"].as_array().expect("results");
        assert_eq!(results.len(), 3);
        let first = &results[0];
        assert_eq!(first["ruleId"], "schema");
        assert_eq!(first["ruleIndex"], 0);
        assert_eq!(first["level"], "error");
        assert_eq!(
            first["message"]["text"],
            "Deployment api: /spec/replicas: expected integer, but got string"
        );
        let loc = &first["locations"][0]["physicalLocation"];
        assert_eq!(loc["artifactLocation"]["uri"], "deploy.yaml");
        assert_eq!(loc["region"]["startLine"], 25);
        assert_eq!(loc["region"]["startColumn"], 13);
        assert_eq!(results[1]["ruleId"], "KNV1061");
        assert_eq!(results[1]["ruleIndex"], 1);
        assert_eq!(
            results[1]["locations"][0]["physicalLocation"]["region"]["startLine"],
            23
        );
        let error = &results[2];
        assert_eq!(error["ruleId"], "error");
        assert_eq!(error["ruleIndex"], 2);
        assert_eq!(
            error["message"]["text"],
            "yaml syntax error: mapping values are not allowed here"
        );
        let loc = &error["locations"][0]["physicalLocation"];
        assert_eq!(loc["artifactLocation"]["uri"], "broken.yaml");
        assert_eq!(loc["region"]["startLine"], 3);
    }

    #[test]
    fn start_line_is_at_least_one() {
        let mut report = sample();
        report.resources[1].errors[0].line = 0;
        report.resources[1].errors[0].column = 0;
        let out = render_to_string(&report, Format::Sarif, Settings::default());
        let v: Value = serde_json::from_str(&out).expect("json");
        let region = &v["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"];
        assert_eq!(region["startLine"], 1);
        assert_eq!(region["startColumn"], 1);
    }

    #[test]
    fn uris() {
        assert_eq!(artifact_uri("stdin"), "stdin");
        assert_eq!(artifact_uri("./a/b.yaml"), "a/b.yaml");
        assert_eq!(artifact_uri("a\\b c.yaml"), "a/b%20c.yaml");
        assert_eq!(artifact_uri("x:y.yaml"), "x%3Ay.yaml");
    }
}
