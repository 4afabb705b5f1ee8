//! Kubernetes' format library: `format.named(name)` and `format.<name>()` give a
//! `kubernetes.NamedFormat` whose `validate(s)` is `optional.none()` for a valid string and
//! the list of apimachinery's messages otherwise.

use std::sync::OnceLock;

use cel::common::types::{CelList, CelOptional, CelString, STRING_TYPE};
use cel::common::value::{CowVal, Val};
use cel::{DeclarationError, Env};
use regex::Regex;

use super::env::{Args, Out, opaque, string, take};

#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) struct Format(&'static str);

opaque!(Format, FORMAT_TYPE, "kubernetes.NamedFormat");

/// The named formats: `NAMES` for `format.named()`, and `format.<name>()` for each.
macro_rules! formats {
    ($($name:literal),*) => {
        const NAMES: &[&str] = &[$($name),*];

        fn register_constants(env: &mut Env) -> Result<(), DeclarationError> {
            $(env.add_overload(concat!("format.", $name), concat!("format.", $name), vec![], |_| {
                Ok(CowVal::owned(Format($name)))
            })?;)*
            Ok(())
        }
    };
}

formats!(
    "dns1123Label",
    "dns1123Subdomain",
    "dns1035Label",
    "qualifiedName",
    "dns1123LabelPrefix",
    "dns1123SubdomainPrefix",
    "dns1035LabelPrefix",
    "labelValue",
    "uri",
    "uuid",
    "byte",
    "date",
    "datetime"
);

pub(super) fn register(env: &mut Env) -> Result<(), DeclarationError> {
    env.add_overload("format.named", "format-named", vec![STRING_TYPE], named)?;
    env.add_member_overload(
        "validate",
        "format-validate",
        FORMAT_TYPE.to_owned(),
        vec![STRING_TYPE],
        validate,
    )?;
    register_constants(env)?;
    Ok(())
}

fn named<'b, 'v>(args: Args<'b, 'v>) -> Out<'b, 'v> {
    let [name] = take(args)?;
    let name = string(name.as_ref(), "format.named")?;
    Ok(CowVal::owned(match NAMES.iter().find(|n| **n == name) {
        Some(n) => CelOptional::of(Box::new(Format(n))),
        None => CelOptional::none(),
    }))
}

fn validate<'b, 'v>(args: Args<'b, 'v>) -> Out<'b, 'v> {
    let [format, s] = take(args)?;
    let Some(format) = format.downcast_ref::<Format>() else {
        return Err(super::env::no_overload("validate", format.as_ref()));
    };
    let errors = check(format.0, string(s.as_ref(), "validate")?);
    Ok(CowVal::owned(if errors.is_empty() {
        CelOptional::none()
    } else {
        let list: Vec<Box<dyn Val + 'v>> = errors
            .into_iter()
            .map(|e| Box::new(CelString::from(e)) as Box<dyn Val + 'v>)
            .collect();
        CelOptional::of(Box::new(CelList::from(list)))
    }))
}

const DNS1123_LABEL: &str = "[a-z0-9]([-a-z0-9]*[a-z0-9])?";
const DNS1035_LABEL: &str = "[a-z]([-a-z0-9]*[a-z0-9])?";
const LABEL_KEY: &str = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]";

fn full(pattern: &str) -> Regex {
    Regex::new(&format!("^(?:{pattern})$")).unwrap_or_else(|_| Regex::new("$^").expect("empty"))
}

fn regexes() -> &'static [Regex; 5] {
    static RE: OnceLock<[Regex; 5]> = OnceLock::new();
    RE.get_or_init(|| {
        [
            full(DNS1123_LABEL),
            full(&subdomain()),
            full(DNS1035_LABEL),
            full(LABEL_KEY),
            full("[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}"),
        ]
    })
}

fn subdomain() -> String {
    format!("{DNS1123_LABEL}(\\.{DNS1123_LABEL})*")
}

/// apimachinery's `RegexError`.
fn regex_error(msg: &str, fmt: &str, examples: &[&str]) -> String {
    if examples.is_empty() {
        return format!("{msg} (regex used for validation is '{fmt}')");
    }
    let e: Vec<String> = examples.iter().map(|e| format!("'{e}', ")).collect();
    format!(
        "{msg} (e.g. {}regex used for validation is '{fmt}')",
        e.join(" or ")
    )
}

fn max_len(n: usize) -> String {
    format!("must be no more than {n} characters")
}

fn dns1123_label(s: &str) -> Vec<String> {
    let re = regexes();
    let mut errs = Vec::new();
    if s.len() > 63 {
        errs.push(max_len(63));
    }
    if !re[0].is_match(s) {
        if re[1].is_match(s) {
            errs.push("must not contain dots".to_owned());
        } else {
            errs.push(regex_error(
                "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character",
                DNS1123_LABEL,
                &["my-name", "123-abc"],
            ));
        }
    }
    errs
}

fn dns1123_subdomain(s: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if s.len() > 253 {
        errs.push(max_len(253));
    }
    if !regexes()[1].is_match(s) {
        errs.push(regex_error(
            "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character",
            &subdomain(),
            &["example.com"],
        ));
    }
    errs
}

fn dns1035_label(s: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if s.len() > 63 {
        errs.push(max_len(63));
    }
    if !regexes()[2].is_match(s) {
        errs.push(regex_error(
            "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character",
            DNS1035_LABEL,
            &["my-name", "abc-123"],
        ));
    }
    errs
}

const LABEL_KEY_MSG: &str = "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";

fn qualified_name(s: &str) -> Vec<String> {
    let mut errs = Vec::new();
    let parts: Vec<&str> = s.split('/').collect();
    let name = match parts.as_slice() {
        [name] => *name,
        [prefix, name] => {
            if prefix.is_empty() {
                errs.push("prefix part must be non-empty".to_owned());
            } else {
                errs.extend(
                    dns1123_subdomain(prefix)
                        .into_iter()
                        .map(|e| format!("prefix part {e}")),
                );
            }
            *name
        }
        _ => {
            errs.push(format!(
                "a valid label key {} with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')",
                regex_error(LABEL_KEY_MSG, LABEL_KEY, &["MyName", "my.name", "123-abc"])
            ));
            return errs;
        }
    };
    if name.is_empty() {
        errs.push("name part must be non-empty".to_owned());
    } else if name.len() > 63 {
        errs.push(format!("name part {}", max_len(63)));
    }
    if !regexes()[3].is_match(name) {
        errs.push(format!(
            "name part {}",
            regex_error(LABEL_KEY_MSG, LABEL_KEY, &["MyName", "my.name", "123-abc"])
        ));
    }
    errs
}

fn label_value(s: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if s.len() > 63 {
        errs.push(max_len(63));
    }
    if !s.is_empty() && !regexes()[3].is_match(s) {
        errs.push(regex_error(
            "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character",
            &format!("({LABEL_KEY})?"),
            &["MyValue", "my_value", "12345"],
        ));
    }
    errs
}

/// apimachinery's `maskTrailingDash`, as written: it replaces the last two characters.
fn mask_trailing_dash(s: &str) -> String {
    if s.len() > 1 && s.ends_with('-') {
        // On bytes, as Go: the cut may split a character, which then fails the format.
        let mut b = s.as_bytes()[..s.len() - 2].to_vec();
        b.push(b'a');
        String::from_utf8_lossy(&b).into_owned()
    } else {
        s.to_owned()
    }
}

fn check(format: &str, s: &str) -> Vec<String> {
    let one = |ok: bool, msg: &str| if ok { vec![] } else { vec![msg.to_owned()] };
    match format {
        "dns1123Label" => dns1123_label(s),
        "dns1123Subdomain" => dns1123_subdomain(s),
        "dns1035Label" => dns1035_label(s),
        "qualifiedName" => qualified_name(s),
        "dns1123LabelPrefix" => dns1123_label(&mask_trailing_dash(s)),
        "dns1123SubdomainPrefix" => dns1123_subdomain(&mask_trailing_dash(s)),
        "dns1035LabelPrefix" => dns1035_label(&mask_trailing_dash(s)),
        "labelValue" => label_value(s),
        "uri" => match super::url::request_uri_error(s) {
            Some(e) => vec![e],
            None => vec![],
        },
        "uuid" => one(regexes()[4].is_match(s), "does not match the UUID format"),
        "byte" => one(is_base64(s), "invalid base64"),
        "date" => one(is_date(s), "invalid date"),
        "datetime" => one(is_datetime(s), "invalid datetime"),
        _ => vec![],
    }
}

/// strfmt's `byte`: standard base64, padded.
fn is_base64(s: &str) -> bool {
    use base64::Engine;
    !s.is_empty() && base64::engine::general_purpose::STANDARD.decode(s).is_ok()
}

/// strfmt's `date`: RFC 3339 full-date.
fn is_date(s: &str) -> bool {
    chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").is_ok() && s.len() == 10
}

/// strfmt's `date-time`: RFC 3339 with seconds and a zone; `t` and `z` may be lower-case,
/// a space may not stand for `T` (chrono would take one).
fn is_datetime(s: &str) -> bool {
    matches!(s.as_bytes().get(10), Some(b'T' | b't'))
        && chrono::DateTime::parse_from_rfc3339(s).is_ok()
}
