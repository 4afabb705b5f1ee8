//! The docker config (`auth::docker`): `config.json` as docker and crane read it, for a host
//! the input names on its first line.
//!
//! Invariants: no panic; no error message quotes a secret of the file (an `auth`, `password`
//! or `identitytoken` value, or the password inside a decoded `auth`; checked by reading
//! again with the secrets scrambled, `leak`); helpers are looked for in an empty folder, so
//! none runs.
#![no_main]

#[path = "../common/leak.rs"]
mod leak;
#[path = "../common/scratch.rs"]
mod scratch;

use base64::Engine as _;
use base64::engine::DecodePaddingMode;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig, STANDARD};
use kbundle::auth::docker::lookup_with;
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

fn message(host: &str, config: &[u8]) -> String {
    let dir = scratch::dir().join("docker");
    let helpers = scratch::dir().join("no-helpers");
    std::fs::create_dir_all(&dir).expect("scratch");
    std::fs::create_dir_all(&helpers).expect("scratch");
    std::fs::write(dir.join("config.json"), config).expect("scratch write");
    match lookup_with(&dir, host, Some(&helpers)) {
        Ok(_) => String::new(),
        Err(e) => e.to_string(),
    }
}

fuzz_target!(|data: &[u8]| {
    let (host, config) = match data.iter().position(|b| *b == b'\n') {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (&b"registry.example"[..], data),
    };
    let Ok(host) = std::str::from_utf8(host) else {
        return;
    };
    let first = message(host, config);
    if first.is_empty() {
        return;
    }
    let Ok(text) = std::str::from_utf8(config) else {
        return;
    };
    let Ok(Value::Object(root)) = serde_json::from_str::<Value>(text) else {
        return;
    };
    let Some(Value::Object(auths)) = root.get("auths") else {
        return;
    };
    // Each secret string, the text that replaces it in the file, and the pairs to look for.
    let mut replaced = text.to_owned();
    let mut pairs: Vec<(String, String)> = Vec::new();
    let lenient = GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
    );
    for entry in auths.values() {
        let Value::Object(entry) = entry else {
            continue;
        };
        for (field, value) in entry {
            let Value::String(value) = value else {
                continue;
            };
            if !matches!(field.as_str(), "auth" | "password" | "identitytoken") {
                continue;
            }
            let quoted = serde_json::to_string(value).expect("a string serialises");
            // Written more than once, it may also be a key or host messages rightly name.
            if text.matches(quoted.as_str()).count() != 1 || host.contains(value.as_str()) {
                continue;
            }
            let mut scrambled = leak::scramble(value);
            if field == "auth" {
                if let Ok(decoded) = lenient.decode(value.trim()) {
                    if let Some((user, pass)) = String::from_utf8_lossy(&decoded).split_once(':') {
                        scrambled = STANDARD.encode(format!("{user}:{}", leak::scramble(pass)));
                        pairs.push((pass.to_owned(), leak::scramble(pass)));
                    }
                }
            }
            pairs.push((value.clone(), scrambled.clone()));
            let with = serde_json::to_string(&scrambled).expect("a string serialises");
            replaced = replaced.replace(&quoted, &with);
        }
    }
    let second = message(host, replaced.as_bytes());
    for (secret, scrambled) in &pairs {
        assert!(
            !leak::quoted(&first, &second, secret, scrambled),
            "{first:?} quotes the secret {secret:?}"
        );
    }
});
