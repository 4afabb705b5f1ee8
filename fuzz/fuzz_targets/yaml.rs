//! The YAML reader with positions (`manifest::parse_stream`), which every manifest, CRD and
//! kbundle.yaml goes through.
//!
//! Invariants: no panic, hang or blow-up (libFuzzer's -timeout and -rss_limit_mb); nesting
//! never past `MAX_DEPTH`; every node has a position inside the text; a document written back
//! as JSON (which is YAML) reads back as the same value.
#![no_main]

use kbundle::manifest::{MAX_DEPTH, parse_stream, resources_of};
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

/// Nodes whose position is looked up per document: `locate` walks from the root, so checking
/// all of a large document would make one run quadratic.
const LOCATED: usize = 256;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let lines = line_breaks(text) + 2;
    let stream = parse_stream(text);
    for e in &stream.errors {
        assert!(
            e.pos.line <= lines,
            "error line {} past the text",
            e.pos.line
        );
        assert!(!e.message.is_empty());
    }
    for doc in stream.documents {
        assert!(depth(&doc.value) <= MAX_DEPTH + 1, "nesting past MAX_DEPTH");
        assert!(
            doc.positions.subtree(&doc.value, "").is_some(),
            "fewer positions than nodes"
        );
        let mut pointers = Vec::new();
        collect(&doc.value, String::new(), &mut pointers);
        for pointer in &pointers {
            let at = doc.positions.locate(&doc.value, pointer);
            let at = at.unwrap_or_else(|| panic!("no position for {pointer}"));
            assert!(
                at.value.line >= 1 && at.value.line <= lines,
                "{pointer} at {at:?}"
            );
        }
        for p in &doc.problems {
            assert!(p.pos.line <= lines);
        }
        if stream.errors.is_empty() && yaml_printable(&doc.value) {
            let json = serde_json::to_string(&doc.value).expect("a Value always serialises");
            let again = parse_stream(&json);
            assert!(
                again.errors.is_empty(),
                "JSON {json:?} does not read back: {:?}",
                again.errors
            );
            let back = again.documents.into_iter().next().map(|d| d.value);
            assert_eq!(
                back.as_ref(),
                Some(&doc.value),
                "JSON {json:?} read back differently"
            );
        }
        for r in resources_of(doc) {
            let _ = (r.gvk(), r.name(), r.namespace(), r.locate("/metadata/name"));
        }
    }
});

/// YAML's line breaks: LF, CR, and CRLF as one.
fn line_breaks(text: &str) -> u32 {
    let b = text.as_bytes();
    let crs = b
        .iter()
        .enumerate()
        .filter(|(i, c)| **c == b'\r' && b.get(i + 1) != Some(&b'\n'))
        .count();
    (b.iter().filter(|c| **c == b'\n').count() + crs) as u32
}

fn depth(v: &Value) -> usize {
    // Iterative: the value may be as deep as the reader allows, and this must not be what
    // overflows.
    let mut deepest = 0;
    let mut stack = vec![(v, 1)];
    while let Some((v, d)) = stack.pop() {
        deepest = deepest.max(d);
        match v {
            Value::Array(items) => stack.extend(items.iter().map(|i| (i, d + 1))),
            Value::Object(map) => stack.extend(map.values().map(|i| (i, d + 1))),
            _ => {}
        }
    }
    deepest
}

fn collect(v: &Value, pointer: String, out: &mut Vec<String>) {
    if out.len() >= LOCATED {
        return;
    }
    match v {
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                collect(item, format!("{pointer}/{i}"), out);
            }
        }
        Value::Object(map) => {
            for (k, item) in map {
                let key = kbundle::manifest::escape_pointer(k);
                collect(item, format!("{pointer}/{key}"), out);
            }
        }
        _ => {}
    }
    out.push(pointer);
}

/// Whether serde_json's output of `v` is a YAML stream: it writes DEL, C1 controls and the
/// noncharacters U+FFFE/U+FFFF raw, which YAML does not allow unescaped.
fn yaml_printable(v: &Value) -> bool {
    let ok = |s: &str| {
        !s.chars().any(|c| {
            matches!(c, '\u{7f}'..='\u{84}' | '\u{86}'..='\u{9f}' | '\u{fffe}' | '\u{ffff}')
                || c == '\u{feff}'
        })
    };
    match v {
        Value::String(s) => ok(s),
        Value::Array(items) => items.iter().all(yaml_printable),
        Value::Object(map) => map.iter().all(|(k, v)| ok(k) && yaml_printable(v)),
        _ => true,
    }
}
