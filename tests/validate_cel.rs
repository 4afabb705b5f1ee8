//! CEL rules of CRDs (`x-kubernetes-validations`): messages at the field's line and column,
//! `messageExpression`, `fieldPath`, `reason`; unsupported functions are warnings naming the
//! rule, transition rules are left out with a note.

mod support;

use std::process::Command;

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/validate/cel");

fn run(args: &[&str]) -> (i32, String, String) {
    support::Run::of(support::kbundle().arg("validate").args(args)).into()
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

/// A Widget CRD whose `spec` carries `rule`, and a Widget with `spec.s: a`, in `dir`.
fn widget_with_rule(dir: &std::path::Path, rule: &str) -> std::path::PathBuf {
    let file = dir.join("widget.yaml");
    std::fs::write(
        &file,
        format!(
            "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: widgets.example.com\nspec:\n  group: example.com\n  names: {{kind: Widget, plural: widgets, singular: widget, listKind: WidgetList}}\n  scope: Namespaced\n  versions:\n  - name: v1\n    served: true\n    storage: true\n    schema:\n      openAPIV3Schema:\n        type: object\n        properties:\n          spec:\n            type: object\n            x-kubernetes-validations:\n            - rule: '{rule}'\n---\napiVersion: example.com/v1\nkind: Widget\nmetadata: {{name: w}}\nspec: {{s: a}}\n"
        ),
    )
    .expect("write");
    file
}

/// Runs `validate --summary FILE` under `prlimit` (`limits` such as `--cpu=20`).
fn limited(limits: &[&str], file: &std::path::Path) -> (Option<i32>, String) {
    let out = Command::new("prlimit")
        .args(limits)
        .arg("--")
        .arg(env!("CARGO_BIN_EXE_kbundle"))
        // Two workers whatever the machine, so the address space a limit leaves does not
        // depend on how many stacks the cores ask for.
        .args(["validate", "--summary", "-n", "2"])
        .arg(file)
        .env_remove("RUST_LOG")
        .output()
        .expect("prlimit (util-linux) runs kbundle");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A 300-byte rule nesting comprehensions over a ten-item list eight deep: 10^8 iterations,
/// which ran for minutes (the API server refuses such a rule by its cost limit). Now it is a
/// warning naming the rule and the bound, and the run ends at once; `prlimit --cpu` makes a
/// return of the old behaviour a failure rather than a slow test.
#[test]
fn a_rule_that_would_loop_past_the_cost_limit_is_a_warning_not_a_hang() {
    let ten = "[0,1,2,3,4,5,6,7,8,9]";
    let mut rule = "true".to_owned();
    for v in ["a", "b", "c", "d", "e", "f", "g", "h"] {
        rule = format!("{ten}.all({v}, {rule})");
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let (code, err) = limited(&["--cpu=20"], &widget_with_rule(dir.path(), &rule));
    assert_eq!(code, Some(0), "{err}");
    assert!(
        err.contains("may loop 111111110 times on /spec, more than the API server's limit of 1000000 per call; it is not checked"),
        "{err}"
    );
    assert!(
        err.contains("CustomResourceDefinition for example.com/v1 Widget"),
        "{err}"
    );
}

/// Rules nested past cel-go's parser limits (250 levels, 100,000 code points) in the shapes
/// the `cel` crate's parser does not count: a 20,000-link chain of `+`, of selections and of
/// indexes overflowed the stack and aborted the run (140 KB of rule); a syntax error past
/// column 65,535 panicked drawing its caret. Each is now a warning in cel-go's words, and
/// rules just inside the limits still run (in a debug build too, where stack frames are
/// largest).
#[test]
fn rules_nested_past_cel_go_limits_are_warnings_not_crashes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let refused = [
        (
            vec!["self.s"; 20_000].join(" + "),
            "expression code point size exceeds limit: size: 179997, limit 100000",
        ),
        (
            vec!["self.s"; 300].join(" + "),
            "expression recursion limit exceeded: 250",
        ),
        (
            format!("has(self{})", ".a".repeat(300)),
            "expression recursion limit exceeded: 250",
        ),
        (
            format!("self{} == 1", "[\"a\"]".repeat(300)),
            "expression recursion limit exceeded: 250",
        ),
        (
            format!("{} && )", vec!["self.s == \"a\""; 5_000].join(" && ")),
            "Syntax error",
        ),
    ];
    for (rule, why) in &refused {
        let (code, err) = limited(&["--cpu=20"], &widget_with_rule(dir.path(), rule));
        assert_eq!(code, Some(0), "{}", &err[..err.len().min(2_000)]);
        assert!(
            err.contains("does not compile here") && err.contains(why),
            "{why}: {}",
            &err[..err.len().min(2_000)]
        );
        // The warning quotes the rule's start, not 100 KB of it.
        assert!(err.len() < 2_000, "{}", err.len());
    }
    // Just inside: 248 links, 94 parentheses each holding a link, 90 nested calls.
    let inside = [
        format!("{} == \"\"", vec!["self.s"; 124].join(" + ")),
        format!("has(self{})", ".a".repeat(247)),
        format!("{}self.s{} == \"b\"", "(".repeat(94), " + \"\")".repeat(94)),
        format!("{}self.s{} == 1", "size(".repeat(90), ")".repeat(90)),
    ];
    for rule in &inside {
        let (code, err) = limited(&["--cpu=20"], &widget_with_rule(dir.path(), rule));
        assert!(
            matches!(code, Some(0 | 1)) && !err.contains("does not compile"),
            "{code:?}: {}",
            &err[..err.len().min(2_000)]
        );
    }
}

/// A 30 KB object listing 2,000 patterns for a rule that compiles each (`find` on a pattern
/// from the object): every Unicode `\w{100}` compiled to 7 MB and was kept, 51 s and 7.8 GB.
/// Now a pattern from the object costs a compile in the budget, and the rule is a warning.
#[test]
fn a_rule_compiling_patterns_from_the_object_is_bounded() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = widget_with_rule(dir.path(), "self.l.all(p, \"a\".find(p) == \"\")");
    let patterns: Vec<String> = (0..2_000).map(|i| format!("\"\\\\w{{100}}{i}\"")).collect();
    let text = std::fs::read_to_string(&file).expect("read");
    let text = text.replace(
        "spec: {s: a}",
        &format!("spec: {{l: [{}]}}", patterns.join(", ")),
    );
    std::fs::write(&file, text).expect("write");
    let (code, err) = limited(&["--cpu=20", "--as=2147483648"], &file);
    assert_eq!(code, Some(0), "{err}");
    assert!(
        err.contains("may loop") && err.contains("it is not checked"),
        "{err}"
    );
}

/// `replace` nested 32 times doubles `a` into 4 GiB: under a 1 GiB address space the run
/// aborted. Now the rule is a warning with the bound, and nothing is built.
#[test]
fn a_rule_that_would_build_a_huge_string_is_a_warning_not_an_abort() {
    let mut rule = "self.s".to_owned();
    for _ in 0..32 {
        rule = format!("{rule}.replace(\"a\", \"aa\")");
    }
    let rule = format!("size({rule}) > 0");
    let dir = tempfile::tempdir().expect("tempdir");
    let (code, err) = limited(&["--as=1073741824"], &widget_with_rule(dir.path(), &rule));
    assert_eq!(code, Some(0), "{err}");
    assert!(err.contains("may build a string of"), "{err}");
    assert!(
        err.contains("on /spec, more than the 16777216 kbundle allows; it is not checked"),
        "{err}"
    );
}

/// Go's `\d` is ASCII: `^\d+$` refuses `٣` on the API server, and used to pass here (Rust's
/// `\d` is Unicode).
#[test]
fn patterns_are_read_as_go_reads_them() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = widget_with_rule(dir.path(), r#"self.s.matches("^\\d+$")"#);
    let text = std::fs::read_to_string(&file).expect("read");
    for (s, want) in [("3", 0), ("٣", 1)] {
        std::fs::write(
            &file,
            text.replace("spec: {s: a}", &format!("spec: {{s: \"{s}\"}}")),
        )
        .expect("write");
        let (code, out, err) = run(&[file.to_str().expect("utf-8 path")]);
        assert_eq!(code, want, "{s}: {out}{err}");
        if want == 1 {
            assert!(out.contains("failed rule: self.s.matches"), "{out}");
        }
    }
}

/// A pattern Go takes that compiles past the regex crate's size limit is not checked, with
/// a warning; it does not fail the object.
#[test]
fn a_pattern_past_the_regex_engines_limits_is_a_warning() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = widget_with_rule(dir.path(), r#"self.s.matches("(\\pL\\pL\\pL\\pL){900}")"#);
    let (code, out, err) = run(&[file.to_str().expect("utf-8 path")]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        err.contains("pattern past the limits of kbundle's regex engine")
            && err.contains("it is not checked"),
        "{err}"
    );
}
