//! Just enough of Go's `encoding/json` output rules to write bytes identical to cosign's.
//!
//! Signatures cover the exact payload bytes and registries address blobs by their digest, so
//! "equivalent JSON" is not good enough: strings are escaped the way Go escapes them (HTML
//! characters and U+2028/U+2029 as `\u` escapes), values that Go holds as `interface{}` have
//! their object keys sorted and their numbers printed as float64, as `json.Marshal` does.

use serde_json::Value;

/// How Go held the value when it marshalled it.
#[derive(Clone, Copy, PartialEq)]
pub(super) enum Held {
    /// Decoded into `interface{}`: objects are maps (keys sorted), numbers are float64.
    Interface,
    /// Decoded into a Go struct: field order and integer fields survive, so keep them as read.
    Struct,
}

/// Appends `s` as a JSON string literal, escaped as Go's `json.Marshal` does.
pub(super) fn write_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            // Go 1.22 and later write these two short forms too.
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            // Other control characters, plus the characters Go escapes so that JSON can be
            // embedded in HTML and JavaScript.
            c if (c as u32) < 0x20 || matches!(c, '<' | '>' | '&' | '\u{2028}' | '\u{2029}') => {
                out.push_str(&format!("\\u{:04x}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Appends `value` compactly, as Go would marshal it when it was held as `held`.
pub(super) fn write_value(out: &mut String, value: &Value, held: Held) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => match (held, n.as_f64()) {
            (Held::Interface, Some(f)) => out.push_str(&go_float(f)),
            _ => out.push_str(&n.to_string()),
        },
        Value::String(s) => write_string(out, s),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_value(out, item, held);
            }
            out.push(']');
        }
        Value::Object(map) => {
            let mut entries: Vec<_> = map.iter().collect();
            if held == Held::Interface {
                // Go sorts map keys by their bytes; `str`'s ordering is the same.
                entries.sort_by(|a, b| a.0.cmp(b.0));
            }
            out.push('{');
            for (i, (key, item)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_string(out, key);
                out.push(':');
                write_value(out, item, held);
            }
            out.push('}');
        }
    }
}

/// A float64 as Go's encoder prints it: shortest round-trip digits, plain notation unless the
/// magnitude is below 1e-6 or at least 1e21, where it switches to `1e+21` / `1e-7` style.
fn go_float(f: f64) -> String {
    let abs = f.abs();
    if abs != 0.0 && !(1e-6..1e21).contains(&abs) {
        let text = format!("{f:e}");
        match text.split_once('e') {
            // Rust omits the `+` Go writes on positive exponents; the digits already match
            // (Go trims `e-07` to `e-7`, Rust never pads).
            Some((mantissa, exp)) if !exp.starts_with('-') => format!("{mantissa}e+{exp}"),
            _ => text,
        }
    } else {
        format!("{f}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn string(s: &str) -> String {
        let mut out = String::new();
        write_string(&mut out, s);
        out
    }

    fn value(json: &str, held: Held) -> String {
        let mut out = String::new();
        write_value(&mut out, &serde_json::from_str(json).unwrap(), held);
        out
    }

    #[test]
    fn strings_are_escaped_like_go() {
        assert_eq!(string("plain/é"), "\"plain/é\"");
        assert_eq!(string("a\"b\\c"), r#""a\"b\\c""#);
        assert_eq!(string("\n\r\t\u{8}\u{c}\u{1}"), r#""\n\r\t\b\f\u0001""#);
        assert_eq!(string("<a&b>"), r#""\u003ca\u0026b\u003e""#);
        assert_eq!(string("\u{2028}\u{2029}"), r#""\u2028\u2029""#);
        assert_eq!(string("\u{1f}"), r#""\u001f""#);
    }

    #[test]
    fn interface_values_sort_keys_and_use_float64() {
        assert_eq!(
            value(r#"{"b":1,"a":{"d":1.0,"c":[true,null]}}"#, Held::Interface),
            r#"{"a":{"c":[true,null],"d":1},"b":1}"#
        );
        assert_eq!(
            value(
                "[1e21,1.5e-7,0.000001,-0.0,12345678901234567890]",
                Held::Interface
            ),
            "[1e+21,1.5e-7,0.000001,-0,12345678901234567000]"
        );
    }

    #[test]
    fn struct_values_keep_order_and_integers() {
        assert_eq!(
            value(r#"{"b":12345678901234567890,"a":1}"#, Held::Struct),
            r#"{"b":12345678901234567890,"a":1}"#
        );
    }
}
