//! The `external_account` file (`auth::google`) that google-github-actions/auth writes, read
//! up to its first request; the part after the first NUL byte is what the credential source
//! returns (text, or JSON with the token in a field).
//!
//! Invariants: no panic; the subject token, and the credential source's header values, never
//! appear in an error message (checked by reading again with them scrambled, `leak`); an
//! accepted token is never empty.
#![no_main]

#[path = "../common/leak.rs"]
mod leak;

use kbundle::auth::google::read_external_account;
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

fn message(file: &str, subject: &str) -> String {
    match read_external_account(file, subject) {
        Ok(token) => {
            assert!(
                !token.expose().is_empty(),
                "an empty subject token accepted"
            );
            String::new()
        }
        Err(e) => e.to_string(),
    }
}

fuzz_target!(|data: &[u8]| {
    let (file, subject) = match data.iter().position(|b| *b == 0) {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &b"eyJhbGciOiJSUzI1NiJ9.subject.token"[..]),
    };
    let (Ok(file), Ok(subject)) = (std::str::from_utf8(file), std::str::from_utf8(subject)) else {
        return;
    };
    let first = message(file, subject);
    if first.is_empty() {
        return;
    }
    // The same input with every secret scrambled: the token (as text, or each string field
    // of its JSON) and each header value.
    let mut pairs: Vec<(String, String)> = Vec::new();
    let subject2 = match serde_json::from_str::<Value>(subject) {
        Ok(Value::Object(mut map)) => {
            for v in map.values_mut() {
                if let Value::String(s) = v {
                    pairs.push((s.clone(), leak::scramble(s)));
                    *s = leak::scramble(s);
                }
            }
            serde_json::to_string(&Value::Object(map)).expect("a Value serialises")
        }
        _ => {
            pairs.push((subject.trim().to_owned(), leak::scramble(subject.trim())));
            leak::scramble(subject)
        }
    };
    let mut file2 = file.to_owned();
    if let Ok(v) = serde_json::from_str::<Value>(file) {
        if let Some(Value::Object(headers)) = v.pointer("/credential_source/headers") {
            for value in headers.values().filter_map(Value::as_str) {
                let quoted = serde_json::to_string(value).expect("a string serialises");
                // Written more than once, it may also be a field name messages rightly quote.
                if file.matches(quoted.as_str()).count() != 1 {
                    continue;
                }
                let scrambled = serde_json::to_string(&leak::scramble(value)).expect("serialises");
                file2 = file2.replace(&quoted, &scrambled);
                pairs.push((value.to_owned(), leak::scramble(value)));
            }
        }
    }
    let second = message(&file2, &subject2);
    for (secret, scrambled) in &pairs {
        assert!(
            !leak::quoted(&first, &second, secret, scrambled),
            "{first:?} quotes the secret {secret:?}"
        );
    }
});
