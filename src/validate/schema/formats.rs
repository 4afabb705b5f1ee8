//! OpenAPI's integer formats as JSON schema bounds.
//!
//! Kubernetes schemas say `format: int32` or `int64`, which JSON schema treats as an
//! annotation, so `replicas: 4294967296` would pass; the API server refuses it (a Go `int32`
//! field cannot hold it, and a CRD's structural schema checks the format). Each such schema
//! gets the range as `minimum`/`maximum`, keeping a tighter bound the schema already has.

use serde_json::{Map, Value};

/// An integer format and its range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IntFormat {
    pub name: &'static str,
    pub min: i64,
    pub max: i64,
}

const FORMATS: [IntFormat; 2] = [
    IntFormat {
        name: "int32",
        min: i32::MIN as i64,
        max: i32::MAX as i64,
    },
    IntFormat {
        name: "int64",
        min: i64::MIN,
        max: i64::MAX,
    },
];

/// Keywords whose values are data, not subschemas: a `{format: int32}` there is left alone.
const DATA: [&str; 5] = ["enum", "const", "default", "example", "examples"];

/// Adds the range of every `format: int32`/`int64` integer schema in `schema`.
pub fn bound_integer_formats(schema: &mut Value) {
    match schema {
        Value::Object(map) => {
            if let Some(format) = int_format(map) {
                tighten(map, "minimum", format.min, |have, bound| have >= bound);
                tighten(map, "maximum", format.max, |have, bound| have <= bound);
            }
            for (key, value) in map.iter_mut() {
                if !DATA.contains(&key.as_str()) {
                    bound_integer_formats(value);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(bound_integer_formats),
        _ => {}
    }
}

/// The range a `minimum`/`maximum` limit stands for, when it is exactly one of the formats'
/// bounds: the message then names the format instead of a bare number.
pub fn format_of_limit(limit: &Value) -> Option<IntFormat> {
    let limit = limit.as_i64()?;
    FORMATS
        .into_iter()
        .find(|f| limit == f.min || limit == f.max)
}

fn int_format(map: &Map<String, Value>) -> Option<IntFormat> {
    let name = map.get("format")?.as_str()?;
    let format = FORMATS.into_iter().find(|f| f.name == name)?;
    let integer = match map.get("type") {
        None => true,
        Some(Value::String(t)) => t == "integer",
        Some(Value::Array(types)) => types.iter().any(|t| t == "integer"),
        Some(_) => false,
    };
    integer.then_some(format)
}

/// Sets `key` to `bound` unless the schema's own limit is at least as tight.
fn tighten(map: &mut Map<String, Value>, key: &str, bound: i64, tighter: fn(f64, f64) -> bool) {
    let keep = map
        .get(key)
        .and_then(Value::as_f64)
        .is_some_and(|have| tighter(have, bound as f64));
    if !keep {
        map.insert(key.to_owned(), Value::from(bound));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn integer_formats_get_their_range() {
        let mut schema = json!({
            "properties": {
                "replicas": {"type": "integer", "format": "int32"},
                "size": {"type": ["integer", "null"], "format": "int64", "minimum": 1},
                "port": {"type": "integer", "format": "int32", "maximum": 1e12},
                "name": {"type": "string", "format": "int32"},
                "quantity": {"format": "int-or-string"}
            },
            "default": {"format": "int32"}
        });
        bound_integer_formats(&mut schema);
        let p = &schema["properties"];
        assert_eq!(p["replicas"]["minimum"], i64::from(i32::MIN));
        assert_eq!(p["replicas"]["maximum"], i64::from(i32::MAX));
        assert_eq!(p["size"]["minimum"], 1, "a tighter bound stays");
        assert_eq!(p["size"]["maximum"], i64::MAX);
        assert_eq!(
            p["port"]["maximum"],
            i64::from(i32::MAX),
            "a looser bound goes"
        );
        assert!(p["name"].get("maximum").is_none());
        assert!(p["quantity"].get("maximum").is_none());
        assert_eq!(schema["default"], json!({"format": "int32"}));
    }

    #[test]
    fn limits_name_their_format() {
        assert_eq!(format_of_limit(&json!(2147483647)).unwrap().name, "int32");
        assert_eq!(format_of_limit(&json!(i64::MIN)).unwrap().name, "int64");
        assert!(format_of_limit(&json!(100)).is_none());
    }
}
