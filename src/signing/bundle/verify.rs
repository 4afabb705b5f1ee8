//! Judging a bundle the way `cosign verify` (v3) judges an image's bundles: the DSSE signature
//! over the PAE with a given key (or, keyless, a Fulcio certificate proven by a Rekor entry),
//! then the statement: in-toto, a subject naming the image, cosign's signature predicate type
//! (an attestation of another type is reported, not counted), and the required annotations on
//! that subject.

use std::collections::BTreeMap;

use serde_json::Value;

use super::{Bundle, INTOTO_PAYLOAD_TYPE, Material, SIGN_PREDICATE_TYPE, key_hint, pae, statement};
use crate::bundle::Digest;
use crate::signing::cosign::Payload;
use crate::signing::keyless::verify::{Policy, Signer};
use crate::signing::keys::PublicKey;

/// Checks a keyed bundle with `key`. The reason of a failure starts as cosign's key mismatch
/// does ("signature does not match key") when this key did not make it.
pub fn check_keyed(
    bundle: &Bundle,
    image: &Digest,
    key: &PublicKey,
    required: &BTreeMap<String, String>,
) -> Result<Payload, String> {
    if let Material::Certificates(_) = bundle.material {
        // A certificate's key is not one of ours; cosign verify --key refuses it too.
        return Err(format!(
            "signature does not match key {}: the bundle is signed with a certificate (keyless); verify it with --certificate-identity",
            key.fingerprint()
        ));
    }
    let pae = pae(&bundle.payload_type, &bundle.payload);
    if key.verify(&pae, &bundle.signature).is_err() {
        let names_this_key =
            matches!(&bundle.material, Material::PublicKey { hint } if *hint == key_hint(key));
        return Err(if names_this_key {
            // Made with this key, yet it does not verify: the bytes changed after signing.
            format!(
                "the DSSE signature does not verify with key {}, which the bundle names: the payload or signature was changed after signing",
                key.fingerprint()
            )
        } else {
            format!(
                "signature does not match key {} (the bundle was signed by another key)",
                key.fingerprint()
            )
        });
    }
    check_statement(bundle, image, required)
}

/// The checks after the signature: what the signed statement says.
pub fn check_statement(
    bundle: &Bundle,
    image: &Digest,
    required: &BTreeMap<String, String>,
) -> Result<Payload, String> {
    if bundle.payload_type != INTOTO_PAYLOAD_TYPE {
        return Err(format!(
            "the DSSE payload type is {:?}, not {INTOTO_PAYLOAD_TYPE}",
            bundle.payload_type
        ));
    }
    let statement = statement::parse(&bundle.payload)?;
    let Some(subject) = statement.subject_for(image) else {
        return Err(format!(
            "the statement is for {}, not {image}",
            statement.digests()
        ));
    };
    if statement.predicate_type != SIGN_PREDICATE_TYPE {
        return Err(format!(
            "an attestation of type {}, not a signature ({SIGN_PREDICATE_TYPE}): not counted",
            statement.predicate_type
        ));
    }
    let annotations = subject.annotations.clone().unwrap_or_default();
    let problems: Vec<String> = required
        .iter()
        .filter_map(|(name, want)| match annotations.get(name) {
            Some(Value::String(have)) if have == want => None,
            Some(Value::String(have)) => Some(format!(
                "annotation {name}={want} required but the statement has {name}={have}"
            )),
            Some(other) => Some(format!(
                "annotation {name}={want} required but the statement has {name}={other}"
            )),
            None => Some(format!("annotation {name}={want} required but missing")),
        })
        .collect();
    if !problems.is_empty() {
        return Err(problems.join("; "));
    }
    Ok(Payload {
        docker_reference: String::new(),
        digest: image.to_string(),
        optional: annotations,
    })
}

/// Checks a keyless bundle against `policy`.
pub fn check_keyless(
    bundle: &Bundle,
    image: &Digest,
    policy: &Policy,
    required: &BTreeMap<String, String>,
) -> Result<(Payload, Signer), String> {
    super::keyless::check(bundle, image, policy, required)
}
