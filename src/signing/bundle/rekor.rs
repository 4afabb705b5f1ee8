//! A bundle's Rekor entry as evidence for a DSSE signature: the `dsse` v0.0.1 body names this
//! payload, signature and certificate; the inclusion promise (SET) verifies with the log's
//! key; the inclusion proof leads from the entry to a root hash that a checkpoint signed by the
//! log's key vouches for (RFC 6962 Merkle audit path, signed note).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::Value;
use sha2::{Digest as _, Sha256};
use sigstore_protobuf_specs::dev::sigstore::rekor::v1::{InclusionProof, TransparencyLogEntry};

use crate::signing::keyless::cert::Certificate;
use crate::signing::keyless::tlog;
use crate::signing::keys::PublicKey;

/// What a verified entry proves: when the log integrated it.
pub fn verify_entry(
    entry: &TransparencyLogEntry,
    payload: &[u8],
    signature: &[u8],
    leaf: &Certificate,
    keys: &[PublicKey],
) -> Result<i64, String> {
    let kind = entry
        .kind_version
        .as_ref()
        .map(|k| format!("{} {}", k.kind, k.version))
        .unwrap_or_default();
    if kind != "dsse 0.0.1" {
        return Err(format!(
            "rekor entry kind {kind:?} is not dsse 0.0.1, which cosign logs for an image signature"
        ));
    }
    check_body(&entry.canonicalized_body, payload, signature, leaf)?;
    let log_id = entry
        .log_id
        .as_ref()
        .map(|l| hex::encode(&l.key_id))
        .unwrap_or_default();
    let promise = entry
        .inclusion_promise
        .as_ref()
        .ok_or("rekor entry has no inclusion promise (signed entry timestamp)")?;
    let set = tlog::Bundle {
        signed_entry_timestamp: STANDARD.encode(&promise.signed_entry_timestamp),
        payload: tlog::BundlePayload {
            body: STANDARD.encode(&entry.canonicalized_body),
            integrated_time: entry.integrated_time,
            log_index: entry.log_index,
            log_id,
        },
    };
    set.verify_set(keys)?;
    let proof = entry
        .inclusion_proof
        .as_ref()
        .ok_or("rekor entry has no inclusion proof")?;
    verify_inclusion(proof, &entry.canonicalized_body, keys)?;
    Ok(entry.integrated_time)
}

/// The logged `dsse` body must be this signature by this certificate over this payload.
fn check_body(
    body: &[u8],
    payload: &[u8],
    signature: &[u8],
    leaf: &Certificate,
) -> Result<(), String> {
    let body: Value =
        serde_json::from_slice(body).map_err(|_| "rekor entry body is not JSON".to_owned())?;
    let text = |p: &str| body.pointer(p).and_then(Value::as_str).unwrap_or_default();
    if text("/kind") != "dsse" || text("/apiVersion") != "0.0.1" {
        return Err("rekor entry body is not a dsse 0.0.1 entry".to_owned());
    }
    if text("/spec/payloadHash/algorithm") != "sha256"
        || text("/spec/payloadHash/value") != hex::encode(Sha256::digest(payload))
    {
        return Err("rekor entry: the logged payload hash is not the bundle payload's".to_owned());
    }
    let signatures = body
        .pointer("/spec/signatures")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let ours = signatures.iter().any(|s| {
        let field = |k: &str| s.get(k).and_then(Value::as_str).unwrap_or_default();
        let same_sig = STANDARD.decode(field("signature")).ok().as_deref() == Some(signature);
        let verifier = STANDARD
            .decode(field("verifier"))
            .ok()
            .and_then(|pem| String::from_utf8(pem).ok())
            .and_then(|pem| Certificate::from_pem(&pem).ok());
        same_sig && verifier.as_ref().map(Certificate::der) == Some(leaf.der())
    });
    if !ours {
        return Err(
            "rekor entry: the logged signature and certificate are not this bundle's".to_owned(),
        );
    }
    Ok(())
}

fn node(left: &[u8], right: &[u8]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update([1u8]);
    h.update(left);
    h.update(right);
    h.finalize().into()
}

/// RFC 6962 leaf hash of an entry body.
pub fn leaf_hash(body: &[u8]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update([0u8]);
    h.update(body);
    h.finalize().into()
}

/// The root an audit path leads to (RFC 9162 2.1.3.2), or None when the path's length does not
/// fit the index and size.
pub fn root_from_path(index: u64, size: u64, leaf: [u8; 32], path: &[Vec<u8>]) -> Option<[u8; 32]> {
    if index >= size {
        return None;
    }
    let (mut f_n, mut s_n) = (index, size - 1);
    let mut r = leaf;
    for p in path {
        if p.len() != 32 || s_n == 0 {
            return None;
        }
        if f_n & 1 == 1 || f_n == s_n {
            r = node(p, &r);
            while f_n & 1 == 0 && f_n != 0 {
                f_n >>= 1;
                s_n >>= 1;
            }
        } else {
            r = node(&r, p);
        }
        f_n >>= 1;
        s_n >>= 1;
    }
    (s_n == 0).then_some(r)
}

fn verify_inclusion(proof: &InclusionProof, body: &[u8], keys: &[PublicKey]) -> Result<(), String> {
    let (Ok(index), Ok(size)) = (
        u64::try_from(proof.log_index),
        u64::try_from(proof.tree_size),
    ) else {
        return Err("rekor inclusion proof: negative index or tree size".to_owned());
    };
    let root = root_from_path(index, size, leaf_hash(body), &proof.hashes)
        .ok_or("rekor inclusion proof: the audit path does not fit the index and tree size")?;
    if root.as_slice() != proof.root_hash.as_slice() {
        return Err(
            "rekor inclusion proof: the entry does not lead to the proof's root hash".to_owned(),
        );
    }
    let envelope = proof
        .checkpoint
        .as_ref()
        .map(|c| c.envelope.as_str())
        .ok_or("rekor inclusion proof has no checkpoint")?;
    verify_checkpoint(envelope, size, &root, keys)
}

/// A checkpoint is a signed note: `origin\nsize\nbase64(root)\n[…]\n\n— name base64(id||sig)\n`.
fn verify_checkpoint(
    envelope: &str,
    size: u64,
    root: &[u8; 32],
    keys: &[PublicKey],
) -> Result<(), String> {
    let (text, signatures) = envelope
        .split_once("\n\n")
        .ok_or("rekor checkpoint is not a signed note")?;
    let text = format!("{text}\n");
    let mut lines = text.lines();
    let _origin = lines.next();
    let signed_size = lines.next().and_then(|l| l.parse::<u64>().ok());
    let signed_root = lines.next().and_then(|l| STANDARD.decode(l).ok());
    if signed_size != Some(size) || signed_root.as_deref() != Some(root.as_slice()) {
        return Err(
            "rekor checkpoint: its tree size and root hash are not the inclusion proof's"
                .to_owned(),
        );
    }
    let verified = signatures
        .lines()
        .filter_map(|l| l.strip_prefix("\u{2014} "))
        .filter_map(|l| l.rsplit_once(' '))
        .filter_map(|(_, b64)| STANDARD.decode(b64).ok())
        .filter(|raw| raw.len() > 4)
        .any(|raw| {
            // The line names its key by the first 4 bytes of SHA-256 of its DER, as Rekor checks.
            keys.iter().any(|k| {
                Sha256::digest(k.to_spki_der())[..4] == raw[..4]
                    && k.verify(text.as_bytes(), &raw[4..]).is_ok()
            })
        });
    if !verified {
        return Err(
            "rekor checkpoint: no signature verifies with the rekor public key (--rekor-public-key)"
                .to_owned(),
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A reference tree: the root of leaves[lo..hi] by RFC 6962's definition.
    fn mth(leaves: &[[u8; 32]]) -> [u8; 32] {
        if leaves.len() == 1 {
            return leaves[0];
        }
        let k = leaves.len().next_power_of_two() / 2;
        node(&mth(&leaves[..k]), &mth(&leaves[k..]))
    }

    fn path(leaves: &[[u8; 32]], m: usize) -> Vec<Vec<u8>> {
        if leaves.len() == 1 {
            return Vec::new();
        }
        let k = leaves.len().next_power_of_two() / 2;
        if m < k {
            let mut p = path(&leaves[..k], m);
            p.push(mth(&leaves[k..]).to_vec());
            p
        } else {
            let mut p = path(&leaves[k..], m - k);
            p.push(mth(&leaves[..k]).to_vec());
            p
        }
    }

    #[test]
    fn every_audit_path_of_small_trees_leads_to_the_root_and_no_other() {
        for size in 1..=17usize {
            let leaves: Vec<[u8; 32]> = (0..size).map(|i| leaf_hash(&[i as u8])).collect();
            let root = mth(&leaves);
            for m in 0..size {
                let p = path(&leaves, m);
                let got = root_from_path(m as u64, size as u64, leaves[m], &p);
                assert_eq!(got, Some(root), "size {size} index {m}");
                let other = root_from_path(m as u64, size as u64, leaf_hash(b"x"), &p);
                assert_ne!(other, Some(root));
            }
            assert_eq!(
                root_from_path(size as u64, size as u64, leaves[0], &[]),
                None
            );
        }
    }
}
