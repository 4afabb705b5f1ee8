//! Keyless bundles: a Fulcio certificate, and a Rekor `dsse` entry proving when it signed.

use std::collections::BTreeMap;

use super::Bundle;
use crate::bundle::Digest;
use crate::signing::cosign::Payload;
use crate::signing::keyless::verify::{Policy, Signer};

pub fn check(
    _bundle: &Bundle,
    _image: &Digest,
    _policy: &Policy,
    _required: &BTreeMap<String, String>,
) -> Result<(Payload, Signer), String> {
    Err("keyless bundle verification is not supported yet; verify with --key".to_owned())
}
