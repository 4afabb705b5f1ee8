//! Kubernetes' url library: `url()`, `isURL()` and the getters of `kubernetes.URL`, with
//! Go's `net/url` rules (`ParseRequestURI` to accept, `Parse` for the parts).
//!
//! Not the `url` crate: it follows the WHATWG URL standard, which normalises what Go keeps
//! (it lower-cases hosts, drops default ports, turns an empty path into `/`) and accepts
//! what Go refuses (`https://example.com#frag` passes `isURL` there; Go reads `#frag` as part
//! of the host under ParseRequestURI and refuses it). These splitters follow Go's.

use std::collections::HashMap;

use cel::common::types::{CelBool, CelList, CelMap, CelMapKey, CelString};
use cel::common::value::Val;
use cel::{DeclarationError, Env, ExecutionError};

use super::env::{fail, opaque};

#[derive(Clone, Debug, PartialEq)]
pub(super) struct Url {
    scheme: String,
    host: String,
    path: String,
    raw_path: String,
    raw_query: String,
}

opaque!(Url, URL_TYPE, "kubernetes.URL");

pub(super) fn register(env: &mut Env) -> Result<(), DeclarationError> {
    cel::add_overload!(env, fn url: (CelString) -> Result<Url>)?;
    cel::add_overload!(env, fn is_url: (CelString) -> CelBool, name = "isURL")?;
    cel::add_member_overload!(env, fn get_scheme: (Url) -> CelString)?;
    cel::add_member_overload!(env, fn get_host: (Url) -> CelString)?;
    cel::add_member_overload!(env, fn get_hostname: (Url) -> CelString)?;
    cel::add_member_overload!(env, fn get_port: (Url) -> CelString)?;
    cel::add_member_overload!(env, fn get_escaped_path: (Url) -> CelString)?;
    cel::add_member_overload!(env, fn get_query: (Url) -> CelMap)?;
    Ok(())
}

fn url(s: &CelString<'_>) -> Result<Url, ExecutionError> {
    let s = s.inner();
    parse(s, true).and_then(|_| parse(s, false)).map_err(|e| {
        fail(
            "url",
            format!("URL parse error during conversion from string: parse {s:?}: {e}"),
        )
    })
}

/// The error Go's `url.ParseRequestURI` gives, if any (format `uri`).
pub(super) fn request_uri_error(s: &str) -> Option<String> {
    parse(s, true).err().map(|e| format!("parse {s:?}: {e}"))
}

fn is_url(s: &CelString<'_>) -> CelBool {
    parse(s.inner(), true).is_ok().into()
}

fn get_scheme(u: &Url) -> CelString<'static> {
    u.scheme.clone().into()
}

fn get_host(u: &Url) -> CelString<'static> {
    u.host.clone().into()
}

/// Go's `splitHostPort` halves: the host without brackets, and the port.
fn host_port(host: &str) -> (&str, &str) {
    let (h, p) = match host.rfind(':') {
        Some(i) if valid_optional_port(&host[i..]) => (&host[..i], &host[i + 1..]),
        _ => (host, ""),
    };
    let h = h
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(h);
    (h, p)
}

fn get_hostname(u: &Url) -> CelString<'static> {
    host_port(&u.host).0.to_owned().into()
}

fn get_port(u: &Url) -> CelString<'static> {
    host_port(&u.host).1.to_owned().into()
}

fn get_escaped_path(u: &Url) -> CelString<'static> {
    if !u.raw_path.is_empty()
        && valid_encoded(&u.raw_path)
        && unescape(&u.raw_path, Mode::Path).as_deref() == Ok(u.path.as_str())
    {
        return u.raw_path.clone().into();
    }
    if u.path == "*" {
        return "*".to_owned().into();
    }
    escape(&u.path, Mode::Path).into()
}

fn get_query(u: &Url) -> CelMap<'static> {
    let mut values: Vec<(String, Vec<String>)> = Vec::new();
    for pair in u.raw_query.split('&') {
        if pair.is_empty() || pair.contains(';') {
            continue;
        }
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let (Ok(k), Ok(v)) = (unescape(k, Mode::Query), unescape(v, Mode::Query)) else {
            continue;
        };
        match values.iter_mut().find(|(key, _)| *key == k) {
            Some((_, list)) => list.push(v),
            None => values.push((k, vec![v])),
        }
    }
    let map: HashMap<CelMapKey<'static>, Box<dyn Val + 'static>> = values
        .into_iter()
        .map(|(k, vs)| {
            let list: Vec<Box<dyn Val>> = vs
                .into_iter()
                .map(|v| Box::new(CelString::from(v)) as Box<dyn Val>)
                .collect();
            (
                CelMapKey::from(k),
                Box::new(CelList::from(list)) as Box<dyn Val>,
            )
        })
        .collect();
    CelMap::from(map)
}

#[derive(Clone, Copy, PartialEq)]
enum Mode {
    Path,
    Host,
    Query,
    Fragment,
}

/// Go's `shouldEscape`.
fn should_escape(c: u8, mode: Mode) -> bool {
    if c.is_ascii_alphanumeric() {
        return false;
    }
    if mode == Mode::Host && b"!$&'()*+,;=:[]<>\"".contains(&c) {
        return false;
    }
    match c {
        b'-' | b'_' | b'.' | b'~' => return false,
        b'$' | b'&' | b'+' | b',' | b'/' | b':' | b';' | b'=' | b'?' | b'@' => {
            return match mode {
                Mode::Path => c == b'?',
                Mode::Query => true,
                Mode::Fragment => false,
                Mode::Host => true,
            };
        }
        _ => {}
    }
    if mode == Mode::Fragment && b"!()*".contains(&c) {
        return false;
    }
    true
}

/// Go's `unescape`: `%XX` decoded (and checked), `+` a space in a query.
fn unescape(s: &str, mode: Mode) -> Result<String, String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' => {
                let hex = b
                    .get(i + 1..i + 3)
                    .filter(|h| h.iter().all(u8::is_ascii_hexdigit));
                let Some(hex) = hex else {
                    // Bytes, as Go quotes them: the escape may end inside a character.
                    return Err(format!(
                        "invalid URL escape {}",
                        go_quote(&b[i..(i + 3).min(b.len())])
                    ));
                };
                let v =
                    u8::from_str_radix(std::str::from_utf8(hex).unwrap_or("00"), 16).unwrap_or(0);
                // In a host only %25 (a zone's `%`) and escapes of bytes >= 0x80 are allowed.
                if mode == Mode::Host && v < 0x80 && &s[i..i + 3] != "%25" {
                    return Err(format!("invalid URL escape {:?}", &s[i..i + 3]));
                }
                out.push(v);
                i += 3;
            }
            b'+' if mode == Mode::Query => {
                out.push(b' ');
                i += 1;
            }
            c => {
                if mode == Mode::Host && c < 0x80 && should_escape(c, mode) {
                    return Err(format!(
                        "invalid character {:?} in host name",
                        (c as char).to_string()
                    ));
                }
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8(out).map_err(|_| "invalid UTF-8".to_owned())
}

/// Go's `%q` of bytes: invalid UTF-8 as `\xNN`.
fn go_quote(bytes: &[u8]) -> String {
    let mut out = String::from("\"");
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            match c {
                '"' | '\\' => {
                    out.push('\\');
                    out.push(c);
                }
                _ => out.push(c),
            }
        }
        for b in chunk.invalid() {
            out.push_str(&format!("\\x{b:02x}"));
        }
    }
    out.push('"');
    out
}

fn escape(s: &str, mode: Mode) -> String {
    let mut out = String::with_capacity(s.len());
    for &c in s.as_bytes() {
        if should_escape(c, mode) {
            out.push_str(&format!("%{c:02X}"));
        } else {
            out.push(c as char);
        }
    }
    out
}

/// Go's `validEncoded` for paths.
fn valid_encoded(s: &str) -> bool {
    s.bytes()
        .all(|c| b"!$&'()*+,;=:@[]%".contains(&c) || !should_escape(c, Mode::Path))
}

fn valid_optional_port(port: &str) -> bool {
    match port.strip_prefix(':') {
        None => port.is_empty(),
        Some(digits) => digits.bytes().all(|c| c.is_ascii_digit()),
    }
}

/// Go's `parseHost`: brackets for IPv6, a port of digits, no stray characters.
fn parse_host(host: &str) -> Result<String, String> {
    if host.starts_with('[') {
        let Some(i) = host.rfind(']') else {
            return Err("missing ']' in host".to_owned());
        };
        let colon_port = &host[i + 1..];
        if !valid_optional_port(colon_port) {
            return Err(format!("invalid port {colon_port:?} after host"));
        }
        // A zone (`%25eth0`) may follow; everything else inside the brackets as written.
        return Ok(host.to_owned());
    }
    if let Some(i) = host.find(':') {
        let colon_port = &host[i..];
        if !valid_optional_port(colon_port) {
            return Err(format!("invalid port {colon_port:?} after host"));
        }
    }
    unescape(host, Mode::Host)
}

/// Go's `url.parse`: `via_request` is ParseRequestURI (no fragment; a path must be absolute
/// or the URL must have a scheme); otherwise Parse, which cuts the fragment first.
fn parse(raw: &str, via_request: bool) -> Result<Url, String> {
    let mut rest = raw;
    if !via_request {
        if let Some((before, fragment)) = rest.split_once('#') {
            unescape(fragment, Mode::Fragment)?;
            rest = before;
        }
    }
    if rest.bytes().any(|c| c < 0x20 || c == 0x7f) {
        return Err("net/url: invalid control character in URL".to_owned());
    }
    if rest.is_empty() && via_request {
        return Err("empty url".to_owned());
    }
    let mut u = Url {
        scheme: String::new(),
        host: String::new(),
        path: String::new(),
        raw_path: String::new(),
        raw_query: String::new(),
    };
    if rest == "*" {
        u.path = "*".to_owned();
        return Ok(u);
    }
    // The scheme: a letter, then letters, digits, `+`, `-`, `.`, up to the first `:`.
    for (i, c) in rest.bytes().enumerate() {
        if c.is_ascii_alphabetic() {
            continue;
        }
        if c.is_ascii_digit() || c == b'+' || c == b'-' || c == b'.' {
            if i == 0 {
                break;
            }
            continue;
        }
        if c == b':' {
            if i == 0 {
                return Err("missing protocol scheme".to_owned());
            }
            u.scheme = rest[..i].to_ascii_lowercase();
            rest = &rest[i + 1..];
        }
        break;
    }
    if rest.ends_with('?') && rest.matches('?').count() == 1 {
        rest = &rest[..rest.len() - 1];
    } else if let Some((before, query)) = rest.split_once('?') {
        u.raw_query = query.to_owned();
        rest = before;
    }
    if !rest.starts_with('/') {
        if !u.scheme.is_empty() {
            // Opaque (`mailto:x@y`): no host, no path.
            return Ok(u);
        }
        if via_request {
            return Err("invalid URI for request".to_owned());
        }
        let segment = rest.split('/').next().unwrap_or("");
        if segment.contains(':') {
            return Err("first path segment in URL cannot contain colon".to_owned());
        }
    }
    if (!u.scheme.is_empty() || !via_request && !rest.starts_with("///")) && rest.starts_with("//")
    {
        let after = &rest[2..];
        let (authority, path) = match after.find('/') {
            Some(i) => (&after[..i], &after[i..]),
            None => (after, ""),
        };
        let host = match authority.rfind('@') {
            Some(i) => {
                let user = &authority[..i];
                if !user
                    .bytes()
                    .all(|c| c.is_ascii_alphanumeric() || b"-._:~!$&'()*+,;=%@".contains(&c))
                {
                    return Err("net/url: invalid userinfo".to_owned());
                }
                &authority[i + 1..]
            }
            None => authority,
        };
        u.host = parse_host(host)?;
        rest = path;
    }
    u.path = unescape(rest, Mode::Path)?;
    if escape(&u.path, Mode::Path) != rest {
        u.raw_path = rest.to_owned();
    }
    Ok(u)
}
