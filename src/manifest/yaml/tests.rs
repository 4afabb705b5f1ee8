use super::*;
use serde_json::json;

fn one(text: &str) -> Document {
    let mut s = parse_stream(text);
    assert!(s.error.is_none(), "{:?}", s.error);
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
    let err = s.error.unwrap();
    assert_eq!(err.pos.line, 6);
}
