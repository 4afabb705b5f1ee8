//! Keyless bundles, judged as `cosign verify --certificate-identity … --certificate-oidc-issuer
//! …` (v3) judges them: the leaf certificate's key made the DSSE signature, a Rekor `dsse`
//! entry for exactly this signature is proven by its SET and inclusion proof, the certificate
//! was valid at the entry's integrated time and chains then to a trusted Fulcio root, it is
//! for code signing, and it names the expected identity and issuer; then the statement.
//!
//! RFC 3161 timestamps a bundle may carry are not checked: kbundle's trust root holds no
//! timestamp authorities, and the Rekor integrated time alone dates the signature.

use std::collections::BTreeMap;

use super::{Bundle, Material, pae, rekor, verify::check_statement};
use crate::bundle::Digest;
use crate::signing::cosign::Payload;
use crate::signing::keyless::cert::Certificate;
use crate::signing::keyless::trust::TrustRoot;
use crate::signing::keyless::verify::{Policy, Signer, certificate_held_at};

/// The checks that do not depend on the image: who signed, and when. Returns the leaf
/// certificate and the integrated time.
pub fn evidence(bundle: &Bundle, trust: &TrustRoot) -> Result<(Certificate, i64), String> {
    let Material::Certificates(certs) = &bundle.material else {
        return Err("not a keyless bundle (it names a key); verify it with --key".to_owned());
    };
    let mut certs = certs.iter().map(|der| Certificate::from_der(der.clone()));
    let leaf = certs
        .next()
        .ok_or("bundle has no certificate")?
        .map_err(|e| format!("certificate: {e}"))?;
    let intermediates = certs
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("certificate chain: {e}"))?;
    let key = leaf
        .public_key()
        .map_err(|e| format!("certificate key: {e}"))?;
    key.verify(
        &pae(&bundle.payload_type, &bundle.payload),
        &bundle.signature,
    )
    .map_err(|_| {
        format!(
            "the DSSE signature does not verify with the key of certificate {}",
            leaf.subject_or_identity()
        )
    })?;
    if bundle.tlog_entries.is_empty() {
        return Err("no rekor entry: keyless signatures need a transparency log entry".to_owned());
    }
    let mut reasons = Vec::new();
    let mut at = None;
    for entry in &bundle.tlog_entries {
        match rekor::verify_entry(
            entry,
            &bundle.payload,
            &bundle.signature,
            &leaf,
            &trust.rekor_keys,
        ) {
            Ok(t) => {
                at = Some(t);
                break;
            }
            Err(why) => reasons.push(why),
        }
    }
    let at = at.ok_or_else(|| reasons.join("; "))?;
    certificate_held_at(trust, &leaf, &intermediates, at)?;
    Ok((leaf, at))
}

pub fn check(
    bundle: &Bundle,
    image: &Digest,
    policy: &Policy,
    required: &BTreeMap<String, String>,
) -> Result<(Payload, Signer), String> {
    let (leaf, _) = evidence(bundle, &policy.trust)?;
    let signer = policy.signer(&leaf)?;
    let payload = check_statement(bundle, image, required)?;
    Ok((payload, signer))
}
