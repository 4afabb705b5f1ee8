//! Normal form of a resource: YAML with keys sorted and one layout, Secret values redacted.
//!
//! Two manifests that mean the same object give the same text here, whatever their key
//! order, quoting, comments or flow style, so a line diff of this text shows only changes.

use serde_json::{Map, Value};

use super::Identity;
use super::paths::join;
use crate::gitops::quote::{double_quoted, plain_or_quoted};

/// What stands for a Secret's value in everything printed.
pub(super) const REDACTED: &str = "(redacted)";

/// The fields of a Secret whose values are never printed.
const SECRET_FIELDS: [&str; 2] = ["data", "stringData"];

/// kubectl's copy of the whole object, Secret values included.
const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";

/// `value` with a Secret's values replaced by [`REDACTED`] (its keys stay).
pub(super) fn redacted(identity: &Identity, value: &Value) -> Value {
    let mut value = value.clone();
    if !identity.is_secret() {
        return value;
    }
    for field in SECRET_FIELDS {
        if let Some(map) = value.get_mut(field).and_then(Value::as_object_mut) {
            for v in map.values_mut() {
                *v = Value::String(REDACTED.to_owned());
            }
        } else if let Some(v) = value.get_mut(field).filter(|v| !v.is_null()) {
            *v = Value::String(REDACTED.to_owned());
        }
    }
    if let Some(v) = value.pointer_mut(&format!(
        "/metadata/annotations/{}",
        LAST_APPLIED.replace('/', "~1")
    )) {
        *v = Value::String(REDACTED.to_owned());
    }
    value
}

/// The keys of a Secret's `data` and `stringData` whose values differ: `data.password
/// (changed)`, `stringData.token (added)`.
pub(super) fn secret_keys(old: &Value, new: &Value) -> Vec<String> {
    let empty = Map::new();
    let mut out = Vec::new();
    for field in SECRET_FIELDS {
        let o = old.get(field).and_then(Value::as_object).unwrap_or(&empty);
        let n = new.get(field).and_then(Value::as_object).unwrap_or(&empty);
        let mut keys: Vec<&String> = o.keys().chain(n.keys()).collect();
        keys.sort();
        keys.dedup();
        for key in keys {
            let what = match (o.get(key), n.get(key)) {
                (Some(a), Some(b)) if a == b => continue,
                (Some(_), Some(_)) => "changed",
                (None, _) => "added",
                (_, None) => "removed",
            };
            out.push(format!("{} ({what})", join(field, key)));
        }
    }
    out
}

/// The normal YAML text of a value (a mapping at the top).
pub(super) fn yaml(value: &Value) -> String {
    let mut out = String::new();
    match value {
        Value::Object(map) if !map.is_empty() => mapping(&mut out, map, 0),
        other => {
            node(&mut out, other, 0);
            out.push('\n');
        }
    }
    out
}

fn pad(out: &mut String, indent: usize) {
    out.extend(std::iter::repeat_n(' ', indent));
}

fn sorted(map: &Map<String, Value>) -> Vec<(&String, &Value)> {
    let mut entries: Vec<_> = map.iter().collect();
    entries.sort_by(|a, b| a.0.cmp(b.0));
    entries
}

/// Entries of a non-empty mapping, each on its own line at `indent`.
fn mapping(out: &mut String, map: &Map<String, Value>, indent: usize) {
    for (key, value) in sorted(map) {
        pad(out, indent);
        out.push_str(&plain_or_quoted(key, false));
        out.push(':');
        match value {
            Value::Object(m) if !m.is_empty() => {
                out.push('\n');
                mapping(out, m, indent + 2);
            }
            Value::Array(items) if !items.is_empty() => {
                out.push('\n');
                sequence(out, items, indent);
            }
            scalar => {
                out.push(' ');
                node(out, scalar, indent + 2);
                out.push('\n');
            }
        }
    }
}

/// Items of a non-empty sequence, `- ` at `indent` (kubectl's layout).
fn sequence(out: &mut String, items: &[Value], indent: usize) {
    for item in items {
        match item {
            Value::Object(m) if !m.is_empty() => {
                // The first entry goes on the dash's line.
                let mut inner = String::new();
                mapping(&mut inner, m, indent + 2);
                pad(out, indent);
                out.push_str("- ");
                out.push_str(&inner[indent + 2..]);
            }
            Value::Array(inner) if !inner.is_empty() => {
                pad(out, indent);
                out.push_str("-\n");
                sequence(out, inner, indent + 2);
            }
            scalar => {
                pad(out, indent);
                out.push_str("- ");
                node(out, scalar, indent + 2);
                out.push('\n');
            }
        }
    }
}

/// A scalar or an empty collection, on the current line; a multi-line string becomes a
/// literal block whose lines are at `indent`, one line each, so diffs show changed lines.
fn node(out: &mut String, value: &Value, indent: usize) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&n.to_string()),
        Value::Object(_) => out.push_str("{}"),
        Value::Array(_) => out.push_str("[]"),
        Value::String(s) => match literal_block(s) {
            Some(chomp) => {
                out.push('|');
                out.push_str(chomp);
                let body = s.trim_end_matches('\n');
                for line in body.split('\n') {
                    out.push('\n');
                    if !line.is_empty() {
                        pad(out, indent);
                        out.push_str(line);
                    }
                }
                if chomp == "+" {
                    for _ in 1..s.len() - body.len() {
                        out.push('\n');
                    }
                }
            }
            None if s.contains('\n') => out.push_str(&double_quoted(s)),
            None => out.push_str(&plain_or_quoted(s, false)),
        },
    }
}

/// The chomping indicator a literal block needs for `s`, or `None` when `s` is better
/// double-quoted (one line, control characters, leading blanks, which would need an
/// indentation indicator, or nothing but newlines).
fn literal_block(s: &str) -> Option<&'static str> {
    let body = s.trim_end_matches('\n');
    if !s.contains('\n')
        || body.is_empty()
        || body.starts_with(['\n', ' ', '\t'])
        || s.chars().any(|c| c.is_control() && c != '\n' && c != '\t')
        || body.split('\n').any(|l| l.ends_with([' ', '\t']))
    {
        return None;
    }
    Some(match s.len() - body.len() {
        0 => "-",
        1 => "",
        _ => "+",
    })
}
