//! Printing a [`Report`] in the formats `--output` offers.
//!
//! Each format lives in its own file; this one holds the switch and the few rules they
//! share (which resources are shown, how a problem and the totals read).

use std::io::{self, Write};

use super::{Problem, Report, ResourceResult, Settings, Status};

mod github;
mod json;
mod junit;
mod markdown;
mod sarif;
mod tap;
mod text;

/// An output format for validation results.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// One line per problem, `file:line:column: message` (kubeconform's `pretty` too)
    #[default]
    #[value(alias = "pretty")]
    Text,
    /// kubeconform's JSON, for scripts
    Json,
    /// JUnit XML, for CI test reports
    Junit,
    /// Test Anything Protocol, version 13
    Tap,
    /// SARIF 2.1.0, for GitHub code scanning
    Sarif,
    /// GitHub Actions annotations (`::error` commands)
    Github,
    /// A Markdown table, for PR comments and job summaries
    Markdown,
}

/// Writes `report` to `out` in `format`.
pub fn render(
    report: &Report,
    format: Format,
    settings: Settings,
    out: &mut dyn Write,
) -> io::Result<()> {
    match format {
        Format::Text => text::render(report, settings, out),
        Format::Json => json::render(report, settings, out),
        Format::Junit => junit::render(report, out),
        Format::Tap => tap::render(report, settings, out),
        Format::Sarif => sarif::render(report, out),
        Format::Github => github::render(report, settings, out),
        Format::Markdown => markdown::render(report, settings, out),
    }
}

/// Failures are always worth printing; successes only when asked for.
fn shown(r: &ResourceResult, settings: Settings) -> bool {
    match r.status {
        Status::Invalid | Status::Error => true,
        Status::Valid | Status::Skipped => settings.verbose,
    }
}

/// `1 file`, `2 files`.
fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("{n} {word}")
    } else {
        format!("{n} {word}s")
    }
}

/// `/spec/replicas: msg`, or just the message when it is about the whole resource.
fn problem_text(p: &Problem) -> String {
    if p.path.is_empty() {
        p.msg.clone()
    } else {
        format!("{}: {}", p.path, p.msg)
    }
}

/// kubeconform's closing line, shared by the line-oriented formats.
fn summary_line(report: &Report) -> String {
    let s = report.summary();
    // kustomize files are counted in the verdicts (an invalid one fails the run) but named
    // apart: they are not cluster resources.
    let kustomize = report
        .resources
        .iter()
        .filter(|r| r.version.starts_with("kustomize.config.k8s.io/"))
        .count();
    let apart = if kustomize > 0 {
        format!(" (of which {} kustomize)", plural(kustomize, "file"))
    } else {
        String::new()
    };
    format!(
        "Summary: {} found in {} - Valid: {}, Invalid: {}, Errors: {}, Skipped: {}{apart}",
        plural(report.resources.len(), "resource"),
        plural(report.files, "file"),
        s.valid,
        s.invalid,
        s.errors,
        s.skipped
    )
}

#[cfg(test)]
pub(crate) mod fixture {
    use std::sync::Arc;

    use crate::manifest::Pos;
    use crate::report::{Problem, Report, ResourceResult, Status};

    fn resource(file: &str, kind: &str, name: &str, status: Status, line: u32) -> ResourceResult {
        ResourceResult {
            filename: Arc::from(file),
            kind: kind.to_string(),
            name: name.to_string(),
            namespace: String::new(),
            version: if kind.is_empty() { "" } else { "apps/v1" }.to_string(),
            status,
            msg: String::new(),
            pos: Pos { line, column: 1 },
            errors: Vec::new(),
        }
    }

    /// One of each status: valid, invalid with two problems, a file-level error, skipped.
    pub(crate) fn sample() -> Report {
        let valid = resource("./deploy.yaml", "Deployment", "web", Status::Valid, 1);
        let mut invalid = resource("./deploy.yaml", "Deployment", "api", Status::Invalid, 20);
        invalid.msg = "2 problems".to_string();
        invalid.errors = vec![
            Problem {
                path: "/spec/replicas".to_string(),
                msg: "expected integer, but got string".to_string(),
                line: 25,
                column: 13,
                code: None,
            },
            Problem {
                path: "/metadata/namespace".to_string(),
                msg: "namespace must not be set".to_string(),
                line: 23,
                column: 14,
                code: Some("KNV1061"),
            },
        ];
        let mut error = resource("broken.yaml", "", "", Status::Error, 3);
        error.pos.column = 5;
        error.msg = "yaml syntax error: mapping values are not allowed here".to_string();
        let mut skipped = resource("crd.yaml", "Widget", "w1", Status::Skipped, 1);
        skipped.version = "example.com/v1".to_string();
        skipped.msg = "no schema".to_string();
        Report {
            resources: vec![valid, invalid, error, skipped],
            files: 3,
        }
    }

    /// Runs a renderer into a string.
    pub(crate) fn render_to_string(
        report: &Report,
        format: super::Format,
        settings: crate::report::Settings,
    ) -> String {
        let mut out = Vec::new();
        super::render(report, format, settings, &mut out).expect("render");
        String::from_utf8(out).expect("utf-8")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pluralises() {
        assert_eq!(plural(1, "file"), "1 file");
        assert_eq!(plural(0, "file"), "0 files");
        let mut report = fixture::sample();
        report.resources.truncate(1);
        report.files = 1;
        assert_eq!(
            summary_line(&report),
            "Summary: 1 resource found in 1 file - Valid: 1, Invalid: 0, Errors: 0, Skipped: 0"
        );
    }

    #[test]
    fn value_names() {
        use clap::ValueEnum;
        let names: Vec<_> = Format::value_variants()
            .iter()
            .filter_map(|f| f.to_possible_value())
            .map(|v| v.get_name().to_string())
            .collect();
        assert_eq!(
            names,
            [
                "text", "json", "junit", "tap", "sarif", "github", "markdown"
            ]
        );
    }
}
