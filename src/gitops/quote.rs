//! Writing a new value as a YAML scalar that reads back as the same string.

/// Plain when that is unambiguous, double-quoted otherwise. `flow`: inside `{…}` or `[…]`,
/// where `,`, brackets and braces end a plain scalar.
pub(crate) fn plain_or_quoted(value: &str, flow: bool) -> String {
    if plain_safe(value, flow) {
        value.to_owned()
    } else {
        double_quoted(value)
    }
}

pub(super) fn single_quoted(value: &str) -> String {
    format!("'{}'", value.replace('\'', "''"))
}

pub(crate) fn double_quoted(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => out.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Whether `value` written plain reads back as the same string.
fn plain_safe(value: &str, flow: bool) -> bool {
    let Some(first) = value.chars().next() else {
        return false;
    };
    if value.trim() != value
        || "-?:,[]{}#&*!|>'\"%@`".contains(first)
        || value.contains(": ")
        || value.contains(" #")
        || value.ends_with(':')
        || value.chars().any(char::is_control)
        || (flow && value.contains([',', '[', ']', '{', '}']))
    {
        return false;
    }
    !resolves_to_non_string(value)
}

/// YAML 1.1 and 1.2 plain scalars that are not strings: null, booleans, numbers, dates.
/// Kubernetes tooling still speaks YAML 1.1 in places, so its wider set counts.
fn resolves_to_non_string(value: &str) -> bool {
    let lower = value.to_ascii_lowercase();
    if [
        "~", "null", "true", "false", "yes", "no", "on", "off", "y", "n", ".inf", "-.inf", "+.inf",
        ".nan",
    ]
    .contains(&lower.as_str())
    {
        return true;
    }
    let unsigned = value.strip_prefix(['+', '-']).unwrap_or(value);
    let number = |s: &str| s.chars().any(|c| c.is_ascii_digit()) && s.parse::<f64>().is_ok();
    let radix = |s: &str, prefix: &str, ok: fn(char) -> bool| {
        s.strip_prefix(prefix)
            .is_some_and(|rest| !rest.is_empty() && rest.chars().all(|c| ok(c) || c == '_'))
    };
    let sexagesimal = unsigned.contains(':')
        && unsigned
            .split(':')
            .all(|part| !part.is_empty() && part.chars().all(|c| c.is_ascii_digit() || c == '.'));
    let date = value.len() >= 8
        && value.as_bytes()[..4].iter().all(u8::is_ascii_digit)
        && value.as_bytes()[4] == b'-';
    number(unsigned)
        || number(&unsigned.replace('_', ""))
        || radix(unsigned, "0x", |c| c.is_ascii_hexdigit())
        || radix(unsigned, "0o", |c| c.is_digit(8))
        || radix(unsigned, "0b", |c| c == '0' || c == '1')
        || sexagesimal
        || date
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_only_when_it_reads_back_as_the_same_string() {
        for plain in [
            "v1",
            "1.2.3",
            "repo:v1@sha256:00",
            "localhost:5000/a",
            "v1.0-rc_1",
        ] {
            assert_eq!(plain_or_quoted(plain, false), plain);
        }
        for quoted in [
            "1.0",
            "42",
            "-1",
            "1e3",
            "0x1F",
            "1_000",
            "1:20",
            "true",
            "No",
            "~",
            "null",
            ".inf",
            "2024-01-01",
            "",
            " v",
            "#v",
            "a: b",
            "a #b",
            "*a",
            "!x",
        ] {
            assert!(
                plain_or_quoted(quoted, false).starts_with('"'),
                "{quoted:?}"
            );
        }
        assert_eq!(plain_or_quoted("a,b", false), "a,b");
        assert_eq!(plain_or_quoted("a,b", true), "\"a,b\"");
    }

    #[test]
    fn quoting_escapes() {
        assert_eq!(single_quoted("it's"), "'it''s'");
        assert_eq!(double_quoted("a\"b\\c\n"), "\"a\\\"b\\\\c\\n\"");
    }
}
