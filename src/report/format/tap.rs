//! Test Anything Protocol, version 13: one test point per resource shown.

use std::io::{self, Write};

use super::{problem_text, shown};
use crate::report::{Report, ResourceResult, Settings, Status};

/// A description must stay on one line, and an unescaped `#` would start a directive.
fn clean(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('#', "\\#")
        .replace(['\r', '\n'], " ")
}

/// `file (Kind name)`, or just the file for file-level errors.
fn describe(r: &ResourceResult) -> String {
    let label = r.label();
    if label.is_empty() {
        clean(&r.filename)
    } else {
        format!("{} ({})", clean(&r.filename), clean(&label))
    }
}

pub(super) fn render(report: &Report, settings: Settings, out: &mut dyn Write) -> io::Result<()> {
    writeln!(out, "TAP version 13")?;
    let mut n = 0;
    for r in report.resources.iter().filter(|r| shown(r, settings)) {
        n += 1;
        let what = describe(r);
        match r.status {
            Status::Valid => writeln!(out, "ok {n} - {what}")?,
            Status::Skipped if r.msg.is_empty() => writeln!(out, "ok {n} - {what} # SKIP")?,
            Status::Skipped => writeln!(out, "ok {n} - {what} # SKIP {}", clean(&r.msg))?,
            Status::Invalid | Status::Error => {
                let problems = r
                    .located_problems()
                    .iter()
                    .map(|p| format!("{}:{} {}", p.line, p.column, clean(&problem_text(p))))
                    .collect::<Vec<_>>()
                    .join("; ");
                writeln!(out, "not ok {n} - {what} - {problems}")?;
            }
        }
    }
    writeln!(out, "1..{n}")
}

#[cfg(test)]
mod tests {
    use crate::report::Settings;
    use crate::report::format::Format;
    use crate::report::format::fixture::{render_to_string, sample};

    #[test]
    fn problems_only() {
        let out = render_to_string(&sample(), Format::Tap, Settings::default());
        assert_eq!(
            out,
            "TAP version 13\n\
             not ok 1 - ./deploy.yaml (Deployment api) - 25:13 /spec/replicas: expected integer, but got string; 23:14 /metadata/namespace: namespace must not be set\n\
             not ok 2 - broken.yaml - 3:5 yaml syntax error: mapping values are not allowed here\n\
             1..2\n"
        );
    }

    #[test]
    fn verbose() {
        let settings = Settings {
            verbose: true,
            summary: false,
        };
        let out = render_to_string(&sample(), Format::Tap, settings);
        let lines: Vec<_> = out.lines().collect();
        assert_eq!(lines[1], "ok 1 - ./deploy.yaml (Deployment web)");
        assert_eq!(lines[4], "ok 4 - crd.yaml (Widget w1) # SKIP no schema");
        assert_eq!(lines[5], "1..4");
    }

    #[test]
    fn escapes_hash_and_newline() {
        assert_eq!(super::clean("a#b\nc"), "a\\#b c");
    }
}
