//! Plain scalars resolved the way go-yaml v2 (`sigs.k8s.io/yaml`, YAML 1.1) resolves them.

use saphyr_parser::{ScalarStyle, Tag};
use serde_json::{Number, Value};

/// Resolves a scalar the way go-yaml v2 does for an untyped target.
pub(super) fn resolve_scalar(text: &str, style: ScalarStyle, tag: Option<&Tag>) -> Value {
    if let Some(tag) = tag.filter(|t| t.is_yaml_core_schema()) {
        return match tag.suffix.as_str() {
            "str" | "binary" | "timestamp" => Value::String(text.to_owned()),
            "null" => Value::Null,
            "bool" => resolve_plain(text)
                .filter(Value::is_boolean)
                .unwrap_or_else(|| Value::String(text.to_owned())),
            "int" | "float" => resolve_plain(text)
                .filter(Value::is_number)
                .unwrap_or_else(|| Value::String(text.to_owned())),
            _ => resolve_plain(text).unwrap_or_else(|| Value::String(text.to_owned())),
        };
    }
    if style != ScalarStyle::Plain {
        return Value::String(text.to_owned());
    }
    if text.is_empty() {
        return Value::Null;
    }
    resolve_plain(text).unwrap_or_else(|| Value::String(text.to_owned()))
}

/// Returns the non-string value a plain scalar stands for, if any.
pub(super) fn resolve_plain(text: &str) -> Option<Value> {
    let first = *text.as_bytes().first()?;
    // Most scalars are words; skip the number and keyword checks for them quickly.
    let may_resolve = first.is_ascii_digit()
        || matches!(
            first,
            b'-' | b'+'
                | b'.'
                | b'~'
                | b'y'
                | b'Y'
                | b'n'
                | b'N'
                | b't'
                | b'T'
                | b'f'
                | b'F'
                | b'o'
                | b'O'
        );
    if !may_resolve {
        return None;
    }
    match text {
        "~" | "null" | "Null" | "NULL" => return Some(Value::Null),
        "y" | "Y" | "yes" | "Yes" | "YES" | "true" | "True" | "TRUE" | "on" | "On" | "ON" => {
            return Some(Value::Bool(true));
        }
        "n" | "N" | "no" | "No" | "NO" | "false" | "False" | "FALSE" | "off" | "Off" | "OFF" => {
            return Some(Value::Bool(false));
        }
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" | "-.inf" | "-.Inf" | "-.INF"
        | ".nan" | ".NaN" | ".NAN" => {
            // JSON has no infinities; keep the text, as sigs.k8s.io/yaml fails on them anyway.
            return None;
        }
        _ => {}
    }
    resolve_int(text).or_else(|| resolve_float(text))
}

fn resolve_int(text: &str) -> Option<Value> {
    let (negative, digits) = match text.as_bytes().first()? {
        b'-' => (true, &text[1..]),
        b'+' => (false, &text[1..]),
        _ => (false, text),
    };
    if digits.is_empty() {
        return None;
    }
    let cleaned: String;
    let digits = if digits.contains('_') {
        cleaned = digits.replace('_', "");
        cleaned.as_str()
    } else {
        digits
    };
    let (radix, body) = if let Some(rest) = digits.strip_prefix("0x") {
        (16, rest)
    } else if let Some(rest) = digits.strip_prefix("0b") {
        (2, rest)
    } else if let Some(rest) = digits.strip_prefix("0o") {
        (8, rest)
    } else if digits.len() > 1 && digits.starts_with('0') {
        (8, &digits[1..])
    } else {
        (10, digits)
    };
    if body.is_empty() || !body.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    let magnitude = u128::from_str_radix(body, radix).ok()?;
    if negative {
        let n = i64::try_from(magnitude)
            .ok()
            .map(|m| -m)
            .or_else(|| (magnitude == 1u128 << 63).then_some(i64::MIN))?;
        Some(Value::Number(Number::from(n)))
    } else if let Ok(n) = u64::try_from(magnitude) {
        Some(Value::Number(Number::from(n)))
    } else {
        Number::from_f64(magnitude as f64).map(Value::Number)
    }
}

fn resolve_float(text: &str) -> Option<Value> {
    let bytes = text.as_bytes();
    let mut i = usize::from(matches!(bytes.first(), Some(b'-' | b'+')));
    let mut mantissa_digits = 0;
    while i < bytes.len() && (bytes[i].is_ascii_digit() || bytes[i] == b'_') {
        mantissa_digits += 1;
        i += 1;
    }
    if i < bytes.len() && bytes[i] == b'.' {
        i += 1;
        while i < bytes.len() && (bytes[i].is_ascii_digit() || bytes[i] == b'_') {
            mantissa_digits += 1;
            i += 1;
        }
    }
    if mantissa_digits == 0 {
        return None;
    }
    if i < bytes.len() && matches!(bytes[i], b'e' | b'E') {
        i += 1;
        if i < bytes.len() && matches!(bytes[i], b'-' | b'+') {
            i += 1;
        }
        let exp_start = i;
        while i < bytes.len() && bytes[i].is_ascii_digit() {
            i += 1;
        }
        if i == exp_start {
            return None;
        }
    }
    if i != bytes.len() {
        return None;
    }
    text.replace('_', "")
        .parse::<f64>()
        .ok()
        .and_then(Number::from_f64)
        .map(Value::Number)
}
