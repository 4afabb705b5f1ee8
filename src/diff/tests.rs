use std::sync::Arc;

use super::*;
use crate::manifest::Source;

fn side(files: &[(&str, &str)]) -> Side {
    let sources: Vec<Source> = files
        .iter()
        .map(|(name, text)| Source {
            name: Arc::from(*name),
            text: (*text).to_owned(),
        })
        .collect();
    Side::read(&sources).unwrap()
}

const DEPLOY: &str = "\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web # the front end
  namespace: prod
spec:
  replicas: 2
  template:
    spec:
      containers:
      - name: web
        image: web:1
";

#[test]
fn moved_reordered_and_recommented_resources_are_not_changes() {
    let old = side(&[(
        "a.yaml",
        &format!(
            "{DEPLOY}---\napiVersion: v1\nkind: ConfigMap\nmetadata: {{name: c, namespace: prod}}\ndata: {{k: v}}\n"
        ),
    )]);
    let new = side(&[
        (
            "b.yaml",
            "kind: ConfigMap\napiVersion: v1\ndata:\n  k: v\nmetadata:\n  namespace: prod\n  name: c\n",
        ),
        ("c.yaml", &DEPLOY.replace(" # the front end", "")),
    ]);
    let diff = compare(old, new);
    assert!(diff.is_empty(), "{}", render(&diff, Format::Text));
    assert_eq!(diff.unchanged, 2);
}

#[test]
fn changed_fields_are_named_and_diffed() {
    let old = side(&[("a.yaml", DEPLOY)]);
    let new = side(&[(
        "a.yaml",
        &DEPLOY
            .replace("replicas: 2", "replicas: 3")
            .replace("web:1", "web:2"),
    )]);
    let diff = compare(old, new);
    assert_eq!(diff.changed.len(), 1);
    let c = &diff.changed[0];
    let paths: Vec<&str> = c.fields.iter().map(|f| f.path.as_str()).collect();
    assert_eq!(
        paths,
        ["spec.replicas", "spec.template.spec.containers[0].image"]
    );
    assert!(
        c.unified.contains("-  replicas: 2\n+  replicas: 3\n"),
        "{}",
        c.unified
    );
    assert_eq!(
        summary_line(&diff),
        "+0 ~1 -0 resources (namespaces: prod; kinds: Deployment.apps 1)"
    );
}

#[test]
fn list_items_are_resources_and_namespaces_are_taken_as_written() {
    let old = side(&[(
        "list.yaml",
        "apiVersion: v1\nkind: List\nitems:\n- {apiVersion: v1, kind: ConfigMap, metadata: {name: a}}\n- {apiVersion: v1, kind: ConfigMap, metadata: {name: b, namespace: default}}\n",
    )]);
    let new = side(&[(
        "x.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: b}\n",
    )]);
    let diff = compare(old, new);
    assert_eq!(diff.unchanged, 1);
    assert_eq!(diff.added[0].identity.qualified_name(), "b");
    assert_eq!(diff.removed[0].identity.qualified_name(), "default/b");
}

#[test]
fn secret_values_never_appear() {
    let secret = |pw: &str, extra: &str| {
        format!(
            "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\n  annotations:\n    kubectl.kubernetes.io/last-applied-configuration: '{{\"data\":{{\"password\":\"{pw}\"}}}}'\ndata:\n  password: {pw}\n{extra}"
        )
    };
    let old = side(&[("s.yaml", &secret("b2xkLXNlY3JldA==", ""))]);
    let new = side(&[(
        "s.yaml",
        &secret("bmV3LXNlY3JldA==", "stringData:\n  token: hunter2\n"),
    )]);
    let diff = compare(old, new);
    let c = &diff.changed[0];
    assert_eq!(
        c.secret_keys,
        ["data.password (changed)", "stringData.token (added)"]
    );
    for format in [Format::Text, Format::Json, Format::Markdown] {
        let out = render(&diff, format);
        for value in ["b2xkLXNlY3JldA==", "bmV3LXNlY3JldA==", "hunter2"] {
            assert!(!out.contains(value), "{format:?} shows {value}:\n{out}");
        }
        assert!(out.contains("data.password"), "{format:?}:\n{out}");
    }
}

#[test]
fn normal_yaml_reads_back_as_the_same_value() {
    let text = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, labels: {app.kubernetes.io/name: x}}\ndata:\n  script: |\n    #!/bin/sh\n    echo 'yes'\n\n    exit 0\n  yes: 'no'\n  num: '0755'\n  empty: ''\n  lead: '  x\\n'\n  list: [[1, 2], {a: b, c: []}]\n";
    let s = side(&[("c.yaml", text)]);
    let object = s.objects.values().next().unwrap();
    let back = crate::manifest::parse_stream(&object.yaml);
    assert!(back.errors.is_empty(), "{}", object.yaml);
    assert_eq!(back.documents[0].value, object.value, "{}", object.yaml);
    assert!(
        object.yaml.contains("  script: |\n    #!/bin/sh\n"),
        "{}",
        object.yaml
    );
}

#[test]
fn markdown_stays_inside_its_budget_and_counts_the_rest() {
    let mut old = String::new();
    let mut new = String::new();
    for i in 0..300 {
        let cm = |v: &str| {
            format!(
                "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {{name: c{i}, namespace: n}}\ndata: {{k: '{v}'}}\n"
            )
        };
        old.push_str(&cm(&"a".repeat(200)));
        new.push_str(&cm(&"b".repeat(200)));
    }
    let diff = compare(side(&[("o.yaml", &old)]), side(&[("n.yaml", &new)]));
    let full = markdown_section(&diff, usize::MAX);
    assert!(full.len() > 20_000);
    for budget in [20_000, 5_000, 300, 10] {
        let md = markdown_section(&diff, budget);
        assert!(md.len() <= budget, "{budget}: {}", md.len());
    }
    let md = markdown_section(&diff, 20_000);
    assert!(md.contains("**+0 ~300 -0 resources**"), "{md}");
    assert!(md.contains("Shortened to fit"), "{md}");
}

#[test]
fn names_cannot_break_out_of_the_markdown() {
    let evil = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: \"</summary></details>x\"}\ndata: {k: \"```\\n</details>\"}\n";
    let diff = compare(Side::default(), side(&[("e.yaml", evil)]));
    let md = markdown_section(&diff, usize::MAX);
    assert!(
        md.contains("<code>ConfigMap &lt;/summary&gt;&lt;/details&gt;x</code>"),
        "{md}"
    );
    assert!(
        md.contains("````yaml\n"),
        "a fence longer than the value's: {md}"
    );
}
