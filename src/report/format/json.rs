//! kubeconform's JSON shape, so that scripts written against `kubeconform -output json` work.

use std::io::{self, Write};

use serde::Serialize;

use super::shown;
use crate::report::{Problem, Report, Settings, Status, Summary};

#[derive(Serialize)]
struct Output<'a> {
    resources: Vec<Resource<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    summary: Option<Summary>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Resource<'a> {
    filename: &'a str,
    kind: &'a str,
    name: &'a str,
    version: &'a str,
    status: Status,
    msg: &'a str,
    line: u32,
    column: u32,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    validation_errors: &'a [Problem],
}

pub(super) fn render(report: &Report, settings: Settings, out: &mut dyn Write) -> io::Result<()> {
    let resources = report
        .resources
        .iter()
        .filter(|r| shown(r, settings))
        .map(|r| Resource {
            filename: &r.filename,
            kind: &r.kind,
            name: &r.name,
            version: &r.version,
            status: r.status,
            msg: &r.msg,
            line: r.pos.line,
            column: r.pos.column,
            validation_errors: &r.errors,
        })
        .collect();
    let output = Output {
        resources,
        summary: settings.summary.then(|| report.summary()),
    };
    serde_json::to_writer_pretty(&mut *out, &output)?;
    writeln!(out)
}

#[cfg(test)]
mod tests {
    use crate::report::Settings;
    use crate::report::format::Format;
    use crate::report::format::fixture::{render_to_string, sample};

    #[test]
    fn problems_only() {
        let out = render_to_string(&sample(), Format::Json, Settings::default());
        let expected = r#"{
  "resources": [
    {
      "filename": "./deploy.yaml",
      "kind": "Deployment",
      "name": "api",
      "version": "apps/v1",
      "status": "statusInvalid",
      "msg": "2 problems",
      "line": 20,
      "column": 1,
      "validationErrors": [
        {
          "path": "/spec/replicas",
          "msg": "expected integer, but got string",
          "line": 25,
          "column": 13
        },
        {
          "path": "/metadata/namespace",
          "msg": "namespace must not be set",
          "line": 23,
          "column": 14,
          "code": "KNV1061"
        }
      ]
    },
    {
      "filename": "broken.yaml",
      "kind": "",
      "name": "",
      "version": "",
      "status": "statusError",
      "msg": "yaml syntax error: mapping values are not allowed here",
      "line": 3,
      "column": 5
    }
  ]
}
"#;
        assert_eq!(out, expected);
    }

    #[test]
    fn verbose_with_summary() {
        let settings = Settings {
            verbose: true,
            summary: true,
        };
        let out = render_to_string(&sample(), Format::Json, settings);
        let v: serde_json::Value = serde_json::from_str(&out).expect("json");
        let statuses: Vec<_> = v["resources"]
            .as_array()
            .expect("resources")
            .iter()
            .map(|r| r["status"].as_str().unwrap_or_default())
            .collect();
        assert_eq!(
            statuses,
            [
                "statusValid",
                "statusInvalid",
                "statusError",
                "statusSkipped"
            ]
        );
        assert!(v["resources"][0].get("validationErrors").is_none());
        assert!(out.ends_with(
            r#"  "summary": {
    "valid": 1,
    "invalid": 1,
    "errors": 1,
    "skipped": 1
  }
}
"#
        ));
    }
}
