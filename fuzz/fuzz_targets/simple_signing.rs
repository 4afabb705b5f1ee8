//! The simple-signing payload (`signing::cosign::parse_payload`): the signed claims of every
//! cosign signature, and what `verify -o json` re-marshals the way Go does.
//!
//! Invariants: no panic; a payload that parses passes its own claims; `verify -o json`'s
//! re-marshalled payload (Go's encoding, `gojson`) parses back to the same payload; a payload
//! we write for the same claims parses back to them.
#![no_main]

use std::collections::BTreeMap;

use kbundle::bundle::Digest;
use kbundle::signing::cosign::{
    SignatureLayer, Verdict, check_claims, parse_payload, payload, verify_json,
};
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

fuzz_target!(|data: &[u8]| {
    let Ok(parsed) = parse_payload(data) else {
        return;
    };
    let layer = SignatureLayer {
        payload: data.to_vec(),
        annotations: BTreeMap::new(),
    };
    let strings: BTreeMap<String, String> = parsed
        .optional
        .iter()
        .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_owned())))
        .collect();
    if let Ok(digest) = parsed.digest.parse::<Digest>() {
        let claims = check_claims(&layer, &digest, &strings);
        assert_eq!(
            claims.as_ref(),
            Ok(&parsed),
            "a payload fails its own claims"
        );
        if strings.len() == parsed.optional.len() {
            let ours = payload(&parsed.docker_reference, &digest, &strings);
            assert_eq!(
                parse_payload(&ours).ok().as_ref(),
                Some(&parsed),
                "ours reads differently"
            );
        }
    }

    let verdict = Verdict {
        layer: 1,
        result: Ok(parsed.clone()),
        signer: None,
    };
    let json = verify_json(&[verdict], &[layer]);
    let printed: Value = serde_json::from_str(&json)
        .unwrap_or_else(|e| panic!("verify -o json is not JSON ({e}): {json}"));
    let element = printed
        .as_array()
        .and_then(|a| a.first())
        .unwrap_or_else(|| panic!("verify -o json printed no payload: {json}"));
    let bytes = serde_json::to_vec(element).expect("a Value serialises");
    let back = parse_payload(&bytes).unwrap_or_else(|e| panic!("{e}: {json}"));
    // Go holds every number as a float64 (cosign decodes `optional` into interface{}), so
    // numbers are compared as floats; everything else must be the same.
    assert_eq!(back.docker_reference, parsed.docker_reference, "{json}");
    assert_eq!(back.digest, parsed.digest, "{json}");
    assert!(
        back.optional.len() == parsed.optional.len()
            && back
                .optional
                .iter()
                .zip(&parsed.optional)
                .all(|((ka, a), (kb, b))| ka == kb && same(a, b)),
        "verify -o json changed the payload: {json}"
    );
});

fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same(a, b))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, a)| y.get(k).is_some_and(|b| same(a, b)))
        }
        _ => a == b,
    }
}
