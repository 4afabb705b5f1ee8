//! Markdown for pull request comments and `$GITHUB_STEP_SUMMARY`.

use std::io::{self, Write};

use super::{plural, shown, summary_line};
use crate::report::{Problem, Report, ResourceResult, Settings, Status};

/// Comments are capped at 65536 characters; 200 rows stays well below that.
const MAX_ROWS: usize = 200;

/// Keeps a value inside its table cell and stops GitHub reading `<x>` as an HTML tag.
fn cell(s: &str) -> String {
    s.replace('<', "&lt;")
        .replace('|', "\\|")
        .replace("\r\n", "<br>")
        .replace(['\n', '\r'], "<br>")
}

/// Code spans show entities literally, so only the cell breakers are escaped.
fn code_cell(s: &str) -> String {
    s.replace('|', "\\|").replace(['\n', '\r'], " ")
}

fn problem_cell(p: &Problem) -> String {
    let mut text = String::new();
    if let Some(code) = p.code {
        text.push_str(code);
        text.push_str(": ");
    }
    if !p.path.is_empty() {
        text.push_str(&format!("`{}`: ", code_cell(&p.path)));
    }
    text.push_str(&cell(&p.msg));
    text
}

fn row(r: &ResourceResult, line: u32, column: u32, what: &str) -> String {
    format!(
        "| {} | {line}:{column} | {} | {what} |",
        cell(&r.filename),
        cell(&r.label())
    )
}

fn rows(r: &ResourceResult) -> Vec<String> {
    let (line, column) = (r.pos.line.max(1), r.pos.column.max(1));
    match r.status {
        Status::Valid => vec![row(r, line, column, "✅ valid")],
        Status::Skipped if r.msg.is_empty() => vec![row(r, line, column, "⏭️ skipped")],
        Status::Skipped => {
            let what = format!("⏭️ skipped: {}", cell(&r.msg));
            vec![row(r, line, column, &what)]
        }
        Status::Invalid | Status::Error => r
            .located_problems()
            .iter()
            .map(|p| row(r, p.line, p.column, &problem_cell(p)))
            .collect(),
    }
}

pub(super) fn render(report: &Report, settings: Settings, out: &mut dyn Write) -> io::Result<()> {
    let s = report.summary();
    let total = plural(report.resources.len(), "resource");
    writeln!(out, "### kbundle validate")?;
    writeln!(out)?;
    if report.passed() {
        let skipped = if s.skipped > 0 {
            format!(", {} skipped", s.skipped)
        } else {
            String::new()
        };
        writeln!(out, "✅ {} valid{skipped}", plural(s.valid, "resource"))?;
    } else {
        let errors = plural(s.errors, "error");
        writeln!(out, "❌ {} invalid, {errors} out of {total}", s.invalid)?;
    }

    let all: Vec<String> = report
        .resources
        .iter()
        .filter(|r| shown(r, settings))
        .flat_map(rows)
        .collect();
    if !all.is_empty() {
        writeln!(out)?;
        writeln!(out, "| File | Line | Resource | Problem |")?;
        writeln!(out, "| --- | --- | --- | --- |")?;
        for line in all.iter().take(MAX_ROWS) {
            writeln!(out, "{line}")?;
        }
        if all.len() > MAX_ROWS {
            // the blank line ends the table; without it the note would become a row
            writeln!(out)?;
            writeln!(out, "… and {} more", all.len() - MAX_ROWS)?;
        }
    }
    if settings.summary {
        writeln!(out)?;
        writeln!(out, "{}", summary_line(report))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::format::Format;
    use crate::report::format::fixture::{render_to_string, sample};

    #[test]
    fn problems_table() {
        let out = render_to_string(&sample(), Format::Markdown, Settings::default());
        assert_eq!(
            out,
            "### kbundle validate\n\
             \n\
             ❌ 1 invalid, 1 error out of 4 resources\n\
             \n\
             | File | Line | Resource | Problem |\n\
             | --- | --- | --- | --- |\n\
             | ./deploy.yaml | 25:13 | Deployment api | `/spec/replicas`: expected integer, but got string |\n\
             | ./deploy.yaml | 23:14 | Deployment api | KNV1061: `/metadata/namespace`: namespace must not be set |\n\
             | broken.yaml | 3:5 |  | yaml syntax error: mapping values are not allowed here |\n"
        );
    }

    #[test]
    fn verbose_rows() {
        let settings = Settings {
            verbose: true,
            summary: false,
        };
        let out = render_to_string(&sample(), Format::Markdown, settings);
        assert!(out.contains("| ./deploy.yaml | 1:1 | Deployment web | ✅ valid |\n"));
        assert!(out.contains("| crd.yaml | 1:1 | Widget w1 | ⏭️ skipped: no schema |\n"));
    }

    #[test]
    fn all_valid() {
        let mut report = sample();
        report.resources.truncate(1);
        let out = render_to_string(&report, Format::Markdown, Settings::default());
        assert_eq!(out, "### kbundle validate\n\n✅ 1 resource valid\n");
    }

    #[test]
    fn escapes_cells() {
        assert_eq!(cell("a|b\nc <nil>"), "a\\|b<br>c &lt;nil>");
    }

    #[test]
    fn caps_rows() {
        let mut report = sample();
        let template = report.resources[1].errors[0].clone();
        report.resources[1].errors = (1..=205)
            .map(|line| Problem {
                line,
                ..template.clone()
            })
            .collect();
        let out = render_to_string(&report, Format::Markdown, Settings::default());
        let rows = out.lines().filter(|l| l.starts_with("| ./deploy")).count();
        assert_eq!(rows, MAX_ROWS);
        // 205 problems plus the file-level error, minus the 200 shown
        assert!(out.ends_with("\n\n… and 6 more\n"), "{out}");
    }
}
