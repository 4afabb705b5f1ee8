//! CRD rules themselves (`validate::cel`): the input is a rule's text, compiled as
//! `x-kubernetes-validations` compiles it (cel-go's size and nesting limits first, then the
//! `cel` crate's parser), bounded by the loop and string budget, and evaluated on a resource
//! with a string, a number, a list and a map, on a worker with `validate`'s stack. The same
//! text is the rule's `messageExpression`.
//!
//! Invariants: no panic, stack overflow, hang or blow-up whatever the rule; every problem a
//! failed rule gives is at a position inside the resource.
#![no_main]

use std::sync::OnceLock;

use kbundle::manifest::{parse_stream, resources_of};
use kbundle::validate::cel::{check, compile};
use libfuzzer_sys::fuzz_target;

const RESOURCE: &str = r#"{"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w", "labels": {"a": "b"}},
"s": "a,b", "n": 3, "f": 1.5, "l": [1, 2, 3], "m": {"k": "v"}, "q": "1Ki", "u": "https://x/y", "ok": true}"#;

fuzz_target!(|data: &[u8]| {
    let Ok(rule) = std::str::from_utf8(data) else {
        return;
    };
    static POOL: OnceLock<rayon::ThreadPool> = OnceLock::new();
    let pool = POOL.get_or_init(|| kbundle::validate::pool(1).expect("one worker"));
    let schema = serde_json::json!({
        "type": "object",
        "x-kubernetes-validations": [{"rule": rule, "messageExpression": rule}],
        "properties": {
            "s": {"type": "string"}, "n": {"type": "integer"}, "f": {"type": "number"},
            "l": {"type": "array", "items": {"type": "integer"}},
            "m": {"type": "object", "additionalProperties": {"type": "string"}},
            "q": {"type": "string"}, "u": {"type": "string"}, "ok": {"type": "boolean"},
        },
    });
    let lines = RESOURCE.lines().count() as u32;
    pool.install(|| {
        let rules = compile(&schema, "fuzz");
        for doc in parse_stream(RESOURCE).documents {
            for resource in resources_of(doc) {
                for p in check(&rules, &resource) {
                    assert!(p.line >= 1 && p.line <= lines, "{p:?}");
                }
            }
        }
    });
});
