//! The field paths where two objects differ: `spec.replicas`,
//! `spec.template.spec.containers[0].image`, `metadata.labels["app.kubernetes.io/name"]`.

use serde_json::Value;

/// What happened at a path.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FieldOp {
    Added,
    Removed,
    Changed,
}

/// One field that differs.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FieldChange {
    pub path: String,
    #[serde(rename = "change")]
    pub op: FieldOp,
}

/// `parent.key`, or `parent["key"]` when the key is not a plain word.
pub(super) fn join(parent: &str, key: &str) -> String {
    let plain = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    match (plain, parent.is_empty()) {
        (true, true) => key.to_owned(),
        (true, false) => format!("{parent}.{key}"),
        (false, _) => format!(
            "{parent}[{}]",
            serde_json::to_string(key).unwrap_or_default()
        ),
    }
}

/// The leaves where `old` and `new` differ, keys in sorted order, items by index.
pub(super) fn changes(old: &Value, new: &Value) -> Vec<FieldChange> {
    let mut out = Vec::new();
    walk("", old, new, &mut out);
    out
}

fn walk(path: &str, old: &Value, new: &Value, out: &mut Vec<FieldChange>) {
    match (old, new) {
        (Value::Object(o), Value::Object(n)) => {
            let mut keys: Vec<&String> = o.keys().chain(n.keys()).collect();
            keys.sort();
            keys.dedup();
            for key in keys {
                let at = join(path, key);
                match (o.get(key), n.get(key)) {
                    (Some(a), Some(b)) => walk(&at, a, b, out),
                    (None, Some(_)) => out.push(FieldChange {
                        path: at,
                        op: FieldOp::Added,
                    }),
                    (Some(_), None) => out.push(FieldChange {
                        path: at,
                        op: FieldOp::Removed,
                    }),
                    (None, None) => {}
                }
            }
        }
        (Value::Array(o), Value::Array(n)) => {
            for i in 0..o.len().max(n.len()) {
                let at = format!("{path}[{i}]");
                match (o.get(i), n.get(i)) {
                    (Some(a), Some(b)) => walk(&at, a, b, out),
                    (None, Some(_)) => out.push(FieldChange {
                        path: at,
                        op: FieldOp::Added,
                    }),
                    (Some(_), None) => out.push(FieldChange {
                        path: at,
                        op: FieldOp::Removed,
                    }),
                    (None, None) => {}
                }
            }
        }
        (a, b) if a == b => {}
        _ => out.push(FieldChange {
            path: if path.is_empty() {
                ".".into()
            } else {
                path.into()
            },
            op: FieldOp::Changed,
        }),
    }
}
