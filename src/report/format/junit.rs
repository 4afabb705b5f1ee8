//! JUnit XML in kubeconform's layout: one suite per file, one case per resource.

use std::borrow::Cow;
use std::collections::HashMap;
use std::io::{self, Write};

use quick_xml::escape::escape;

use crate::report::{Problem, Report, ResourceResult, Status};

/// Attribute values also need line breaks kept, which plain escaping would let parsers
/// normalise to spaces.
fn attr(s: &str) -> Cow<'_, str> {
    let escaped = escape(s);
    if escaped.contains(['\n', '\r', '\t']) {
        Cow::Owned(
            escaped
                .replace('\n', "&#10;")
                .replace('\r', "&#13;")
                .replace('\t', "&#9;"),
        )
    } else {
        escaped
    }
}

/// `25:13 /spec/replicas: msg`, one per line, so the failure text points into the file.
fn problem_lines(problems: &[Problem]) -> String {
    problems
        .iter()
        .map(|p| format!("{}:{} {}", p.line, p.column, super::problem_text(p)))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Every resource is written, whatever the verbosity: a test report is a full record.
pub(super) fn render(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    let mut index: HashMap<&str, usize> = HashMap::new();
    let mut suites: Vec<(&str, Vec<&ResourceResult>)> = Vec::new();
    for r in &report.resources {
        let i = *index.entry(&r.filename).or_insert_with(|| {
            suites.push((&r.filename, Vec::new()));
            suites.len() - 1
        });
        suites[i].1.push(r);
    }

    let s = report.summary();
    writeln!(out, r#"<?xml version="1.0" encoding="UTF-8"?>"#)?;
    writeln!(
        out,
        r#"<testsuites name="kubeconform" time="0" tests="{}" failures="{}" disabled="{}" errors="{}">"#,
        report.resources.len(),
        s.invalid,
        s.skipped,
        s.errors
    )?;
    for (id, (file, cases)) in suites.iter().enumerate() {
        let count = |status| cases.iter().filter(|r| r.status == status).count();
        writeln!(
            out,
            r#"  <testsuite name="{}" id="{}" tests="{}" failures="{}" errors="{}" disabled="0" skipped="{}">"#,
            attr(file),
            id + 1,
            cases.len(),
            count(Status::Invalid),
            count(Status::Error),
            count(Status::Skipped)
        )?;
        for r in cases {
            write_case(r, out)?;
        }
        writeln!(out, "  </testsuite>")?;
    }
    writeln!(out, "</testsuites>")
}

fn write_case(r: &ResourceResult, out: &mut dyn Write) -> io::Result<()> {
    let (name, class) = if r.kind.is_empty() {
        (r.filename.to_string(), "kbundle".to_string())
    } else {
        (r.label(), format!("{}@{}", r.kind, r.version))
    };
    let open = format!(
        r#"    <testcase name="{}" classname="{}""#,
        attr(&name),
        attr(&class)
    );
    let problems = r.located_problems();
    let message = if r.msg.is_empty() {
        problems.first().map(|p| p.msg.as_str()).unwrap_or_default()
    } else {
        r.msg.as_str()
    };
    match r.status {
        Status::Valid => writeln!(out, "{open} />"),
        Status::Skipped => {
            writeln!(out, "{open}>")?;
            if r.msg.is_empty() {
                writeln!(out, "      <skipped />")?;
            } else {
                writeln!(out, r#"      <skipped message="{}" />"#, attr(&r.msg))?;
            }
            writeln!(out, "    </testcase>")
        }
        Status::Invalid | Status::Error => {
            let (tag, kind) = if r.status == Status::Invalid {
                ("failure", "ValidationError")
            } else {
                ("error", "Error")
            };
            writeln!(out, "{open}>")?;
            writeln!(
                out,
                r#"      <{tag} message="{}" type="{kind}">{}</{tag}>"#,
                attr(message),
                escape(problem_lines(&problems))
            )?;
            writeln!(out, "    </testcase>")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::Settings;
    use crate::report::format::Format;
    use crate::report::format::fixture::{render_to_string, sample};

    #[test]
    fn all_resources_grouped_by_file() {
        let out = render_to_string(&sample(), Format::Junit, Settings::default());
        let expected = r#"<?xml version="1.0" encoding="UTF-8"?>
<testsuites name="kubeconform" time="0" tests="4" failures="1" disabled="1" errors="1">
  <testsuite name="./deploy.yaml" id="1" tests="2" failures="1" errors="0" disabled="0" skipped="0">
    <testcase name="Deployment web" classname="Deployment@apps/v1" />
    <testcase name="Deployment api" classname="Deployment@apps/v1">
      <failure message="2 problems" type="ValidationError">25:13 /spec/replicas: expected integer, but got string
23:14 /metadata/namespace: namespace must not be set</failure>
    </testcase>
  </testsuite>
  <testsuite name="broken.yaml" id="2" tests="1" failures="0" errors="1" disabled="0" skipped="0">
    <testcase name="broken.yaml" classname="kbundle">
      <error message="yaml syntax error: mapping values are not allowed here" type="Error">3:5 yaml syntax error: mapping values are not allowed here</error>
    </testcase>
  </testsuite>
  <testsuite name="crd.yaml" id="3" tests="1" failures="0" errors="0" disabled="0" skipped="1">
    <testcase name="Widget w1" classname="Widget@example.com/v1">
      <skipped message="no schema" />
    </testcase>
  </testsuite>
</testsuites>
"#;
        assert_eq!(out, expected);
    }

    #[test]
    fn escapes_markup() {
        assert_eq!(attr("a<b & \"c\"\nd"), "a&lt;b &amp; &quot;c&quot;&#10;d");
        let mut report = sample();
        report.resources[1].errors[0].msg = "want <int> & got \"x\"".to_string();
        let out = render_to_string(&report, Format::Junit, Settings::default());
        assert!(out.contains("25:13 /spec/replicas: want &lt;int&gt; &amp; got &quot;x&quot;"));
    }
}
