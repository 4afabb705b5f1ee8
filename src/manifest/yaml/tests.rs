use super::*;
use serde_json::json;

fn one(text: &str) -> Document {
    let mut s = parse_stream(text);
    assert!(s.errors.is_empty(), "{:?}", s.errors);
    s.documents.remove(0)
}

#[test]
fn resolves_scalars_like_go_yaml_v2() {
    let d = one(
        "a: 1\nb: \"1\"\nc: yes\nd: ~\ne: 0755\nf: 1.5e3\ng: 0x1F\nh: hello\ni: ''\nj: -3\nk: 1_000\nl: .5\nm: 1.2.3\nn: !!str 12\n",
    );
    assert_eq!(
        d.value,
        json!({"a":1,"b":"1","c":true,"d":null,"e":493,"f":1500.0,"g":31,"h":"hello","i":"","j":-3,"k":1000,"l":0.5,"m":"1.2.3","n":"12"})
    );
}

#[test]
fn positions_follow_the_source() {
    let d = one("kind: Deployment\nspec:\n  replicas: \"two\"\n  template:\n    x: [1, 2]\n");
    let loc = d.positions.locate(&d.value, "/spec/replicas").unwrap();
    assert_eq!(loc.value, Pos::new(3, 13));
    assert_eq!(loc.key, Some(Pos::new(3, 3)));
    let loc = d.positions.locate(&d.value, "/spec/template/x/1").unwrap();
    assert_eq!(loc.value, Pos::new(5, 12));
}

#[test]
fn duplicate_keys_are_reported_with_both_lines() {
    let d = one("metadata:\n  name: a\n  name: b\nspec: {}\n");
    assert_eq!(d.value, json!({"metadata":{"name":"a"},"spec":{}}));
    assert_eq!(d.problems.len(), 1);
    assert_eq!(d.problems[0].pos, Pos::new(3, 3));
    assert_eq!(d.problems[0].pointer.as_deref(), Some("/metadata/name"));
    assert!(d.problems[0].message.contains("line 2"));
    // positions stay aligned after the dropped entry
    assert_eq!(
        d.positions.locate(&d.value, "/spec").unwrap().key,
        Some(Pos::new(4, 1))
    );
}

#[test]
fn anchors_aliases_and_merges() {
    let d = one("base: &b\n  x: 1\n  y: 2\nuse:\n  <<: *b\n  y: 3\nafter: z\n");
    assert_eq!(
        d.value,
        json!({"base":{"x":1,"y":2},"use":{"y":3,"x":1},"after":"z"})
    );
    assert_eq!(
        d.positions.locate(&d.value, "/after").unwrap().key,
        Some(Pos::new(7, 1))
    );
    assert_eq!(
        d.positions.locate(&d.value, "/use/x").unwrap().key,
        Some(Pos::new(2, 3))
    );
}

#[test]
fn multi_document_streams_and_syntax_errors() {
    let s = parse_stream("a: 1\n---\n# only a comment\n---\nb: [\n");
    assert_eq!(s.documents.len(), 2);
    assert_eq!(s.documents[1].value, Value::Null);
    let err = s.errors[0].clone();
    assert_eq!(err.pos.line, 6);
}

fn error_of(text: &str) -> YamlProblem {
    parse_stream(text)
        .errors
        .into_iter()
        .next()
        .expect("an error")
}

#[test]
fn alias_expansion_is_bounded_like_go_yaml() {
    let mut text = String::from("a: &a [x, x, x, x, x, x, x, x, x]\n");
    let mut previous = 'a';
    for level in 'b'..='j' {
        let aliases = vec![format!("*{previous}"); 9].join(", ");
        text.push_str(&format!("{level}: &{level} [{aliases}]\n"));
        previous = level;
    }
    let e = error_of(&text);
    // At the second alias of level d, more than 99% of the nodes would be copies.
    assert_eq!(e.pos, Pos::new(4, 12));
    assert!(
        e.message.starts_with("excessive aliasing: "),
        "{}",
        e.message
    );
    // Three levels expand.
    let three: String = text.lines().take(3).map(|l| format!("{l}\n")).collect();
    let d = one(&three);
    assert_eq!(d.value["c"][8][8].as_array().map(Vec::len), Some(9));
}

#[test]
fn the_alias_budget_is_per_document() {
    let mut doc = String::from("a: &a [x, x, x, x, x, x, x, x, x]\n");
    doc.push_str("b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n");
    doc.push_str("c: [*b, *b, *b, *b, *b, *b, *b, *b, *b]\n");
    let stream = vec![doc; 20].join("---\n");
    let s = parse_stream(&stream);
    assert!(s.errors.is_empty(), "{:?}", s.errors);
    assert_eq!(s.documents.len(), 20);
}

#[test]
fn anchors_nested_in_anchors_are_bounded() {
    // Each level anchors the whole of the level below: copies grow with the square of depth.
    let depth = 100;
    let mut text = String::new();
    for i in 0..depth {
        text.push_str(&format!("{}k{i}: &n{i}\n", "  ".repeat(i)));
    }
    let wide: String = (0..5_000).map(|i| format!("{i}, ")).collect();
    text.push_str(&format!("{}leaf: [{wide}]\n", "  ".repeat(depth)));
    let e = error_of(&text);
    assert!(
        e.message.starts_with("anchors nested too deeply"),
        "{}",
        e.message
    );
    // The innermost anchors are copied; the refusal comes on the way out.
    assert!(e.pos.line < depth as u32, "{:?}", e.pos);
}

#[test]
fn nesting_is_bounded_for_block_and_flow() {
    let ok = "- ".repeat(MAX_DEPTH) + "x\n";
    assert!(parse_stream(&ok).errors.is_empty());
    let e = error_of(&("- ".repeat(MAX_DEPTH + 1) + "x\n"));
    assert_eq!(e.pos, Pos::new(1, 2 * MAX_DEPTH + 1));
    assert!(
        e.message.starts_with("nesting deeper than 128 levels"),
        "{}",
        e.message
    );
    let e = error_of(&("{a: ".repeat(MAX_DEPTH + 1) + "x"));
    assert_eq!(e.pos, Pos::new(1, 4 * MAX_DEPTH + 1));
    // 50,000 levels: refused at the limit, and nothing built is deep enough to hurt.
    let e = error_of(&"- ".repeat(50_000));
    assert!(e.message.starts_with("nesting deeper"), "{}", e.message);
}

#[test]
fn flow_sequence_closed_at_the_key_column_like_go_yaml() {
    // Accepted by go-yaml v3 (kubectl, kustomize); refused by the YAML 1.2 rules saphyr follows.
    let text = "spec:\n  args: [\n    \"a\",\n    \"b\"\n  ]\n  x: [1,\n2]\nafter: z\n";
    let d = one(text);
    assert_eq!(
        d.value,
        json!({"spec":{"args":["a","b"],"x":[1,2]},"after":"z"})
    );
    // Columns still point into the file as written.
    assert_eq!(
        d.positions.locate(&d.value, "/spec/x/1").unwrap().value,
        Pos::new(7, 1)
    );
    assert_eq!(
        d.positions.locate(&d.value, "/after").unwrap().key,
        Some(Pos::new(8, 1))
    );
}

#[test]
fn quoted_scalar_continued_at_column_one_like_go_yaml() {
    let text = "metadata:\n  annotations:\n    d: \"foo\nbar \\\"q\\\"\n  baz\"\n    s: 'it''s\nok'\n  name: nm\n";
    let d = one(text);
    assert_eq!(
        d.value,
        json!({"metadata":{"annotations":{"d":"foo bar \"q\" baz","s":"it's ok"},"name":"nm"}})
    );
    assert_eq!(
        d.positions.locate(&d.value, "/metadata/name").unwrap().key,
        Some(Pos::new(8, 3))
    );
}

#[test]
fn mis_indented_block_keys_stay_errors() {
    // Not a flow collection: go-yaml refuses this too, so no repair may hide it.
    let s = parse_stream("a:\n    b: 1\n  c: 2\n");
    assert_eq!(s.errors.len(), 1, "{:?}", s.documents);
}

#[test]
fn documents_after_a_broken_one_are_still_read() {
    let text = "a: 1\n---\nb: [\n---\nc: 3\n---\nd: : :\n---\ne: 5\n";
    let s = parse_stream(text);
    let values: Vec<_> = s.documents.iter().map(|d| d.value.clone()).collect();
    assert_eq!(values, vec![json!({"a":1}), json!({"c":3}), json!({"e":5})]);
    assert_eq!(s.errors.len(), 2);
    assert!(s.errors[0].message.contains("document 2"), "{:?}", s.errors);
    assert!(s.errors[1].message.contains("document 4"), "{:?}", s.errors);
    assert_eq!(s.errors[1].pos.line, 7);
    assert_eq!(s.documents[2].start, Pos::new(9, 1));
}
