//! CEL rules of CRDs (`x-kubernetes-validations`): messages at the field's line and column,
//! `messageExpression`, `fieldPath`, `reason`; unsupported functions are warnings naming the
//! rule, transition rules are left out with a note.

use std::process::Command;

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/validate/cel");

fn run(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_kbundle"))
        .arg("validate")
        .args(args)
        .env_remove("RUST_LOG")
        .output()
        .expect("kbundle");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn failed_rules_are_reported_at_their_fields() {
    for args in [
        vec![DIR.to_owned()],
        vec![
            "--crd".to_owned(),
            format!("{DIR}/routes-crd.yaml"),
            format!("{DIR}/routes.yaml"),
        ],
    ] {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let (code, out, err) = run(&args);
        assert_eq!(code, 1, "{out}{err}");
        let file = format!("{DIR}/routes.yaml");
        assert_eq!(
            out.lines().collect::<Vec<_>>(),
            [
                format!(
                    "{file}:21:3: Route bad is invalid: /spec: hostnames must be lower-case DNS names"
                ),
                format!(
                    "{file}:23:16: Route bad is invalid: /spec/minReplicas: minReplicas must not exceed maxReplicas (FieldValueForbidden)"
                ),
                format!(
                    "{file}:27:7: Route bad is invalid: /spec/rules/0: at most one RequestRedirect filter, found 2"
                ),
                format!(
                    "{file}:27:13: Route bad is invalid: /spec/rules/0/path: path must be absolute"
                ),
            ]
        );
        // Never a silent pass: the rule this interpreter cannot run is named, once.
        let warnings: Vec<&str> = err.lines().filter(|l| l.contains("WARN")).collect();
        assert_eq!(warnings.len(), 1, "{err}");
        assert!(
            warnings[0].contains("Route")
                && warnings[0].contains("self.hostnames.all(i, h,")
                && warnings[0].contains("calls all(), which kbundle does not evaluate")
                && warnings[0].contains("not checked"),
            "{err}"
        );
    }
}

#[test]
fn transition_rules_are_noted_not_passed() {
    let (_, _, err) = run(&["-v", DIR]);
    assert!(
        err.lines()
            .any(|l| l.contains("oldSelf") && l.contains("not checked offline")),
        "{err}"
    );
}
