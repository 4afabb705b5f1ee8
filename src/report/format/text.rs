//! Plain text, one line per problem, in the `file:line:column:` shape editors can jump to.

use std::io::{self, Write};

use super::{problem_text, shown, summary_line};
use crate::report::{Report, Settings, Status};

pub(super) fn render(report: &Report, settings: Settings, out: &mut dyn Write) -> io::Result<()> {
    for r in report.resources.iter().filter(|r| shown(r, settings)) {
        let label = r.label();
        match r.status {
            Status::Invalid => {
                for p in r.located_problems() {
                    let at = format!("{}:{}:{}", r.filename, p.line, p.column);
                    writeln!(out, "{at}: {label} is invalid: {}", problem_text(&p))?;
                }
            }
            Status::Error => {
                for p in r.located_problems() {
                    let at = format!("{}:{}:{}", r.filename, p.line, p.column);
                    if label.is_empty() {
                        writeln!(out, "{at}: {}", problem_text(&p))?;
                    } else {
                        writeln!(out, "{at}: {label} failed validation: {}", problem_text(&p))?;
                    }
                }
            }
            Status::Valid => writeln!(out, "{}: {label} is valid", r.filename)?,
            Status::Skipped if r.msg.is_empty() => {
                writeln!(out, "{}: {label} is skipped", r.filename)?;
            }
            Status::Skipped => writeln!(out, "{}: {label} is skipped: {}", r.filename, r.msg)?,
        }
    }
    if settings.summary {
        writeln!(out, "{}", summary_line(report))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::report::Settings;
    use crate::report::format::Format;
    use crate::report::format::fixture::{render_to_string, sample};

    #[test]
    fn problems_only() {
        let out = render_to_string(&sample(), Format::Text, Settings::default());
        assert_eq!(
            out,
            "./deploy.yaml:25:13: Deployment api is invalid: /spec/replicas: expected integer, but got string\n\
             ./deploy.yaml:23:14: Deployment api is invalid: /metadata/namespace: namespace must not be set\n\
             broken.yaml:3:5: yaml syntax error: mapping values are not allowed here\n"
        );
    }

    #[test]
    fn verbose_with_summary() {
        let settings = Settings {
            verbose: true,
            summary: true,
        };
        let out = render_to_string(&sample(), Format::Text, settings);
        assert_eq!(
            out,
            "./deploy.yaml: Deployment web is valid\n\
             ./deploy.yaml:25:13: Deployment api is invalid: /spec/replicas: expected integer, but got string\n\
             ./deploy.yaml:23:14: Deployment api is invalid: /metadata/namespace: namespace must not be set\n\
             broken.yaml:3:5: yaml syntax error: mapping values are not allowed here\n\
             crd.yaml: Widget w1 is skipped: no schema\n\
             Summary: 4 resources found in 3 files - Valid: 1, Invalid: 1, Errors: 1, Skipped: 1\n"
        );
    }

    #[test]
    fn resource_error_names_the_resource() {
        let mut report = sample();
        let r = &mut report.resources[1];
        r.status = crate::report::Status::Error;
        r.errors.clear();
        r.msg = "could not fetch schema".to_string();
        let out = render_to_string(&report, Format::Text, Settings::default());
        assert!(
            out.starts_with(
                "./deploy.yaml:20:1: Deployment api failed validation: could not fetch schema\n"
            ),
            "{out}"
        );
    }
}
