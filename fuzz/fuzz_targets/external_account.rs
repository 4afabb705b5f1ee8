//! The `external_account` file (`auth::google`) that google-github-actions/auth writes, read
//! up to its first request; the part after the first NUL byte is what the credential source
//! returns (text, or JSON with the token in a field).
//!
//! Invariants: no panic; the subject token, and the credential source's header values, never
//! appear in an error message; an accepted token is never empty.
#![no_main]

use kbundle::auth::google::read_external_account;
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

/// Secrets shorter than this are too likely to appear in a message by chance.
const SECRET_MIN: usize = 6;

fuzz_target!(|data: &[u8]| {
    let (file, subject) = match data.iter().position(|b| *b == 0) {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &b"eyJhbGciOiJSUzI1NiJ9.subject.token"[..]),
    };
    let (Ok(file), Ok(subject)) = (std::str::from_utf8(file), std::str::from_utf8(subject)) else {
        return;
    };
    match read_external_account(file, subject) {
        Ok(token) => assert!(!token.expose().is_empty(), "an empty subject token accepted"),
        Err(e) => {
            let message = e.to_string();
            for secret in secrets(file, subject) {
                if secret.len() >= SECRET_MIN && !file_names(file).iter().any(|n| n.contains(&secret)) {
                    assert!(!message.contains(&secret), "{message:?} quotes the secret {secret:?}");
                }
            }
        }
    }
});

/// The subject token as text and as any string field of its JSON, and the header values.
/// A subject token that also stands in the file is no secret of the source (the file's own
/// values may be quoted: none of them is secret but the headers).
fn secrets(file: &str, subject: &str) -> Vec<String> {
    let mut out = vec![subject.trim().to_owned()];
    if let Ok(Value::Object(map)) = serde_json::from_str::<Value>(subject) {
        out.extend(map.values().filter_map(Value::as_str).map(str::to_owned));
    }
    out.retain(|s| !file.contains(s.as_str()));
    if let Ok(v) = serde_json::from_str::<Value>(file) {
        if let Some(Value::Object(headers)) = v.pointer("/credential_source/headers") {
            out.extend(headers.values().filter_map(Value::as_str).map(str::to_owned));
        }
    }
    out
}

/// Every key and non-secret string of the file: messages may name them.
fn file_names(file: &str) -> Vec<String> {
    let mut out = Vec::new();
    let Ok(v) = serde_json::from_str::<Value>(file) else {
        return out;
    };
    let mut stack = vec![(&v, false)];
    while let Some((v, in_headers)) = stack.pop() {
        match v {
            Value::Object(map) => {
                for (k, v) in map {
                    out.push(k.clone());
                    stack.push((v, in_headers || k == "headers"));
                }
            }
            Value::Array(items) => stack.extend(items.iter().map(|i| (i, false))),
            Value::String(s) if !in_headers => out.push(s.clone()),
            _ => {}
        }
    }
    out
}
