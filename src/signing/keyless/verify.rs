//! Judging a keyless signature layer the way `cosign verify --certificate-identity …
//! --certificate-oidc-issuer …` does: the certificate chains to a trusted Fulcio root, names
//! the expected identity and issuer, its key signed the payload, and the Rekor bundle proves
//! the signature was logged while the certificate was valid.

use std::collections::BTreeMap;

use regex::Regex;

use super::cert::Certificate;
use super::tlog::Bundle;
use super::trust::TrustRoot;
use super::{CERTIFICATE_ANNOTATION, CHAIN_ANNOTATION};
use crate::bundle::Digest;
use crate::signing::cosign::{self, BUNDLE_ANNOTATION, Payload, SignatureLayer};

/// An expected value: exact, or a regular expression (unanchored, as in cosign: write `^…$`
/// to pin it).
#[derive(Debug, Clone)]
pub enum Matcher {
    Exact(String),
    Regex(Regex),
}

impl Matcher {
    fn matches(&self, value: &str) -> bool {
        match self {
            Matcher::Exact(want) => want == value,
            Matcher::Regex(re) => re.is_match(value),
        }
    }

    fn describe(&self, flag: &str) -> String {
        match self {
            Matcher::Exact(want) => format!("{flag} {want}"),
            Matcher::Regex(re) => format!("{flag}-regexp {}", re.as_str()),
        }
    }
}

/// What a keyless signature must satisfy.
#[derive(Debug, Clone)]
pub struct Policy {
    pub identity: Matcher,
    pub issuer: Matcher,
    pub trust: TrustRoot,
}

/// What the certificate said, for `-o json` (cosign's `optional.Subject`/`Issuer`).
#[derive(Debug, Clone, PartialEq)]
pub struct Signer {
    pub subject: String,
    pub issuer: String,
    /// Fulcio's GitHub workflow extensions, by cosign's names (`githubWorkflowRef`, …).
    pub github_workflow: Vec<(&'static str, String)>,
}

/// Judges one layer; the reason names what failed and the flag that sets it.
pub fn check(
    layer: &SignatureLayer,
    image: &Digest,
    policy: &Policy,
    required: &BTreeMap<String, String>,
) -> Result<(Payload, Signer), String> {
    let signature = layer.signature().map_err(|e| e.to_string())?;
    let pem = layer.annotations.get(CERTIFICATE_ANNOTATION).ok_or_else(|| {
        format!("no certificate ({CERTIFICATE_ANNOTATION}): not a keyless signature; verify it with --key")
    })?;
    let leaf = Certificate::from_pem(pem).map_err(|e| format!("certificate: {e}"))?;
    let intermediates = match layer.annotations.get(CHAIN_ANNOTATION) {
        Some(chain) => Certificate::all_from_pem(chain).map_err(|e| format!("chain: {e}"))?,
        None => Vec::new(),
    };
    let key = leaf
        .public_key()
        .map_err(|e| format!("certificate key: {e}"))?;
    key.verify(&layer.payload, &signature).map_err(|_| {
        format!(
            "signature does not match the key of certificate {}",
            leaf.subject_or_identity()
        )
    })?;

    // The log entry dates the signature; without it an expired certificate proves nothing.
    let bundle_text = layer.annotations.get(BUNDLE_ANNOTATION).ok_or_else(|| {
        format!("no rekor bundle ({BUNDLE_ANNOTATION}): keyless signatures need a transparency log entry")
    })?;
    let bundle = Bundle::parse(bundle_text)?;
    bundle.verify_set(&policy.trust.rekor_keys)?;
    bundle.check_body(&layer.payload, &signature, leaf.der())?;
    certificate_held_at(
        &policy.trust,
        &leaf,
        &intermediates,
        bundle.payload.integrated_time,
    )?;

    let signer = policy.signer(&leaf)?;
    let payload = cosign::check_claims(layer, image, required)?;
    Ok((payload, signer))
}

impl Policy {
    /// Who `leaf` names, when it is whom the policy expects: identity, then issuer. Bundles
    /// (`signing::bundle`) share it.
    pub fn signer(&self, leaf: &Certificate) -> Result<Signer, String> {
        let identities = leaf.identities();
        let Some(subject) = identities
            .iter()
            .find(|i| self.identity.matches(i))
            .cloned()
        else {
            let want = self.identity.describe("--certificate-identity");
            return Err(super::mismatch::message(
                leaf,
                super::mismatch::Refused::Identity(&want),
            ));
        };
        let issuer = leaf.issuer_claim().ok_or(
            "certificate has no fulcio oidc issuer extension (1.3.6.1.4.1.57264.1.8 or .1.1)",
        )?;
        if !self.issuer.matches(&issuer) {
            let want = self.issuer.describe("--certificate-oidc-issuer");
            return Err(super::mismatch::message(
                leaf,
                super::mismatch::Refused::Issuer(&want),
            ));
        }
        Ok(Signer {
            subject,
            issuer,
            github_workflow: leaf.github_workflow(),
        })
    }
}

/// The certificate held when the log entry was made (`at`, Rekor's integrated time): valid
/// then, chained to a trusted Fulcio root then, and issued for code signing. `.sig` layers and
/// Sigstore bundles are judged by this one check.
pub(crate) fn certificate_held_at(
    trust: &TrustRoot,
    leaf: &Certificate,
    intermediates: &[Certificate],
    at: i64,
) -> Result<(), String> {
    let (from, until) = leaf.validity();
    if at < from || at > until {
        return Err(format!(
            "rekor integrated time {} is outside the certificate's validity ({} to {})",
            utc(at),
            utc(from),
            utc(until)
        ));
    }
    trust.verify_chain(leaf, intermediates, at)?;
    if !leaf.is_for_code_signing() {
        return Err("certificate is not for code signing (extended key usage)".to_owned());
    }
    Ok(())
}

fn utc(t: i64) -> String {
    chrono::DateTime::from_timestamp(t, 0)
        .map(|d| d.format("%Y-%m-%dT%H:%M:%SZ").to_string())
        .unwrap_or_else(|| t.to_string())
}
