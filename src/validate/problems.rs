//! Schema errors as problems at a line and column.

use jsonschema::error::{TypeKind, ValidationErrorKind};
use jsonschema::{JsonType, ValidationError, Validator};
use serde_json::Value;

use crate::manifest::{Resource, escape_pointer};
use crate::report::Problem;

/// Runs the schema and places every error: a bad value at the value, an unexpected
/// property at its key, a missing property at the mapping that lacks it.
pub fn schema_problems(validator: &Validator, resource: &Resource) -> Vec<Problem> {
    if validator.is_valid(&resource.value) {
        return Vec::new();
    }
    let mut out = Vec::new();
    for error in validator.iter_errors(&resource.value) {
        let path = error.instance_path().as_str().to_owned();
        match error.kind() {
            ValidationErrorKind::AdditionalProperties { unexpected }
            | ValidationErrorKind::UnevaluatedProperties { unexpected } => {
                for key in unexpected {
                    let pointer = format!("{path}/{}", escape_pointer(key));
                    let loc = resource.locate(&pointer);
                    let at = loc.key.unwrap_or(loc.value);
                    out.push(problem(
                        pointer,
                        format!("additional property {key:?} is not allowed"),
                        at,
                    ));
                }
            }
            ValidationErrorKind::Required { .. } => {
                let loc = resource.locate(&path);
                out.push(problem(path, message(&error), loc.key.unwrap_or(loc.value)));
            }
            _ => {
                let loc = resource.locate(&path);
                out.push(problem(path, message(&error), loc.value));
            }
        }
    }
    out
}

fn problem(path: String, msg: String, at: crate::manifest::Pos) -> Problem {
    Problem {
        path,
        msg,
        line: at.line,
        column: at.column,
        code: None,
    }
}

/// The validator's message, minus noise: Kubernetes schemas allow `null` almost everywhere,
/// so "is not of types "integer", "null"" reads better as "is not of type "integer"".
fn message(error: &ValidationError<'_>) -> String {
    if let ValidationErrorKind::Maximum { limit } | ValidationErrorKind::Minimum { limit } =
        error.kind()
    {
        if let Some(format) = super::schema::formats::format_of_limit(limit) {
            return format!(
                "{} is out of range for format {} ({} to {})",
                short(error.instance()),
                format.name,
                format.min,
                format.max
            );
        }
    }
    if let ValidationErrorKind::Type { kind } = error.kind() {
        let types: Vec<JsonType> = match kind {
            TypeKind::Single(t) => vec![*t],
            TypeKind::Multiple(set) => set.iter().filter(|t| *t != JsonType::Null).collect(),
        };
        let names: Vec<String> = types
            .iter()
            .map(|t| format!("{:?}", t.to_string()))
            .collect();
        let instance = short(error.instance());
        return match names.as_slice() {
            [one] => format!("{instance} is not of type {one}"),
            _ => format!("{instance} is not of types {}", names.join(", ")),
        };
    }
    error.to_string()
}

/// A value as shown in a message, cut short when large.
fn short(value: &Value) -> String {
    let text = match value {
        Value::Object(_) => return "an object".into(),
        Value::Array(_) => return "an array".into(),
        other => other.to_string(),
    };
    if text.chars().count() > 60 {
        format!("{}…", text.chars().take(60).collect::<String>())
    } else {
        text
    }
}
