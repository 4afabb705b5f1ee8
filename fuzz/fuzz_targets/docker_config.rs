//! The docker config (`auth::docker`): `config.json` as docker and crane read it, for a host
//! the input names on its first line.
//!
//! Invariants: no panic; no error message quotes a secret of the file (an `auth`, `password`
//! or `identitytoken` value, or the password inside a decoded `auth`); helpers are looked for
//! in an empty folder, so none runs.
#![no_main]

#[path = "../common/scratch.rs"]
mod scratch;

use base64::Engine as _;
use kbundle::auth::docker::lookup_with;
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

/// Secrets shorter than this are too likely to appear in a message by chance (a host, a key).
const SECRET_MIN: usize = 6;

fuzz_target!(|data: &[u8]| {
    let (host, config) = match data.iter().position(|b| *b == b'\n') {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (&b"registry.example"[..], data),
    };
    let Ok(host) = std::str::from_utf8(host) else {
        return;
    };
    let dir = scratch::dir().join("docker");
    let helpers = scratch::dir().join("no-helpers");
    std::fs::create_dir_all(&dir).expect("scratch");
    std::fs::create_dir_all(&helpers).expect("scratch");
    std::fs::write(dir.join("config.json"), config).expect("scratch write");
    let Err(e) = lookup_with(&dir, host, Some(&helpers)) else {
        return;
    };
    let message = e.to_string();
    for secret in secrets(config) {
        let innocent = host.contains(&secret) || dir.to_string_lossy().contains(&secret);
        if secret.len() >= SECRET_MIN && !innocent && !keys(config).iter().any(|k| k.contains(&secret)) {
            assert!(!message.contains(&secret), "{message:?} quotes the secret {secret:?}");
        }
    }
});

/// Every string value of the config's `auths` entries, and the password part of `auth`.
fn secrets(config: &[u8]) -> Vec<String> {
    let Ok(Value::Object(root)) = serde_json::from_slice::<Value>(config) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let Some(Value::Object(auths)) = root.get("auths") else {
        return out;
    };
    for entry in auths.values() {
        let Value::Object(entry) = entry else { continue };
        for (field, value) in entry {
            let Value::String(value) = value else { continue };
            if field == "auth" {
                let engine = base64::engine::general_purpose::GeneralPurpose::new(
                    &base64::alphabet::STANDARD,
                    base64::engine::general_purpose::GeneralPurposeConfig::new()
                        .with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent),
                );
                if let Ok(decoded) = engine.decode(value.trim()) {
                    if let Some((_, pass)) = String::from_utf8_lossy(&decoded).split_once(':') {
                        out.push(pass.to_owned());
                    }
                }
            }
            if matches!(field.as_str(), "auth" | "password" | "identitytoken") {
                out.push(value.clone());
            }
        }
    }
    out
}

/// Keys (registry names) and helper names: messages name them, as they should.
fn keys(config: &[u8]) -> Vec<String> {
    let Ok(Value::Object(root)) = serde_json::from_slice::<Value>(config) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for section in ["auths", "credHelpers"] {
        if let Some(Value::Object(map)) = root.get(section) {
            out.extend(map.keys().cloned());
            out.extend(map.values().filter_map(Value::as_str).map(str::to_owned));
        }
    }
    if let Some(Value::String(s)) = root.get("credsStore") {
        out.push(s.clone());
    }
    out
}
