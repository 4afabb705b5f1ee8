//! GitHub Actions workflow commands, which the runner turns into annotations on the diff.

use std::io::{self, Write};

use super::{problem_text, summary_line};
use crate::report::{Problem, Report, ResourceResult, Settings, Status};

/// GitHub shows only this many error annotations per step and drops the rest silently.
const MAX_ANNOTATIONS: usize = 10;

/// As `escapeData` in @actions/core.
fn escape_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// As `escapeProperty` in @actions/core.
fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

fn annotation(r: &ResourceResult, p: &Problem) -> String {
    let label = r.label();
    let mut title = if label.is_empty() {
        "kbundle".to_string()
    } else {
        label
    };
    if let Some(code) = p.code {
        title = format!("{title} ({code})");
    }
    // annotations only attach to the diff with repository-relative paths
    let file = r.filename.strip_prefix("./").unwrap_or(&r.filename);
    format!(
        "::error file={},line={},col={},title={}::{}",
        escape_property(file),
        p.line,
        p.column,
        escape_property(&title),
        escape_data(&problem_text(p))
    )
}

pub(super) fn render(report: &Report, settings: Settings, out: &mut dyn Write) -> io::Result<()> {
    // errors first: a file that could not be read hides everything in it
    let by_status = |status| {
        report
            .resources
            .iter()
            .filter(move |r| r.status == status)
            .flat_map(|r| r.located_problems().into_iter().map(move |p| (r, p)))
    };
    let mut problems = by_status(Status::Error).chain(by_status(Status::Invalid));
    for (r, p) in problems.by_ref().take(MAX_ANNOTATIONS) {
        writeln!(out, "{}", annotation(r, &p))?;
    }
    let rest = problems.count();
    if rest > 0 {
        let word = if rest == 1 { "problem" } else { "problems" };
        writeln!(
            out,
            "::notice title=kbundle::{rest} more {word} not annotated; see the full report"
        )?;
    }
    if settings.summary {
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
    fn errors_first_then_invalid() {
        let settings = Settings {
            verbose: true,
            summary: true,
        };
        let out = render_to_string(&sample(), Format::Github, settings);
        assert_eq!(
            out,
            "::error file=broken.yaml,line=3,col=5,title=kbundle::yaml syntax error: mapping values are not allowed here\n\
             ::error file=deploy.yaml,line=25,col=13,title=Deployment api::/spec/replicas: expected integer, but got string\n\
             ::error file=deploy.yaml,line=23,col=14,title=Deployment api (KNV1061)::/metadata/namespace: namespace must not be set\n\
             Summary: 4 resources found in 3 files - Valid: 1, Invalid: 1, Errors: 1, Skipped: 1\n"
        );
    }

    #[test]
    fn escapes_like_actions_core() {
        let mut report = sample();
        report.resources.retain(|r| r.status == Status::Invalid);
        let r = &mut report.resources[0];
        r.filename = "dir,a:b/x.yaml".into();
        r.errors.truncate(1);
        r.errors[0].msg = "100% wrong\nsecond line\r".to_string();
        let out = render_to_string(&report, Format::Github, Settings::default());
        assert_eq!(
            out,
            "::error file=dir%2Ca%3Ab/x.yaml,line=25,col=13,title=Deployment api::/spec/replicas: 100%25 wrong%0Asecond line%0D\n"
        );
        assert_eq!(escape_property("a:b,c%"), "a%3Ab%2Cc%25");
    }

    #[test]
    fn caps_annotations() {
        let mut report = sample();
        let template = report.resources[1].errors[0].clone();
        report.resources[1].errors = (1..=12)
            .map(|line| Problem {
                line,
                ..template.clone()
            })
            .collect();
        let out = render_to_string(&report, Format::Github, Settings::default());
        let lines: Vec<_> = out.lines().collect();
        assert_eq!(lines.len(), 11);
        assert!(lines[..10].iter().all(|l| l.starts_with("::error ")));
        assert!(lines[0].starts_with("::error file=broken.yaml,"));
        assert_eq!(
            lines[10],
            "::notice title=kbundle::3 more problems not annotated; see the full report"
        );
    }
}
