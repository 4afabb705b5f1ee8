//! Keyless signing of a Sigstore bundle, as cosign v3 does it: an ephemeral key, a Fulcio
//! certificate for it, the DSSE signature over the statement's PAE, a Rekor `dsse` entry, and
//! a bundle carrying the leaf certificate and the entry with its SET and inclusion proof.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};
use sigstore_protobuf_specs::dev::sigstore::bundle::v1::verification_material;
use sigstore_protobuf_specs::dev::sigstore::common::v1::{LogId, X509Certificate};
use sigstore_protobuf_specs::dev::sigstore::rekor::v1::{
    Checkpoint, InclusionPromise, InclusionProof, KindVersion, TransparencyLogEntry,
};

use super::{Endpoints, cert, fulcio, rekor};
use crate::auth::secret::Secret;
use crate::signing::bundle::{self, INTOTO_PAYLOAD_TYPE};
use crate::signing::keys::PrivateKey;

/// A keyless bundle and what it was made as.
#[derive(Debug, Clone)]
pub struct SignedBundle {
    pub bundle: Vec<u8>,
    pub identity: String,
    pub issuer: String,
    pub log_index: i64,
}

pub fn sign(
    agent: &ureq::Agent,
    endpoints: &Endpoints,
    token: &Secret,
    statement: Vec<u8>,
) -> Result<SignedBundle, String> {
    let key = PrivateKey::generate();
    let chain = fulcio::signing_cert(agent, &endpoints.fulcio, token, &key)?;
    let fulcio_flag = format!("--fulcio-url {}", endpoints.fulcio);
    let leaf = cert::Certificate::from_pem(&chain.leaf)
        .map_err(|e| format!("{fulcio_flag}: the issued certificate: {e}"))?;
    if leaf.public_key_der() != key.public_key().to_spki_der() {
        return Err(format!(
            "{fulcio_flag}: the issued certificate is for another public key than the one sent"
        ));
    }
    let signature = key.sign(&bundle::pae(INTOTO_PAYLOAD_TYPE, &statement));
    // The envelope as cosign (Go's dsse package) marshals it for Rekor.
    let envelope = json!({
        "payloadType": INTOTO_PAYLOAD_TYPE,
        "payload": STANDARD.encode(&statement),
        "signatures": [{"keyid": "", "sig": STANDARD.encode(&signature)}],
    })
    .to_string();
    let entry = rekor::upload_dsse(agent, &endpoints.rekor, &envelope, &chain.leaf)?;
    let entry = log_entry(&entry).map_err(|e| format!("--rekor-url {}: {e}", endpoints.rekor))?;
    let log_index = entry.log_index;
    let material = verification_material::Content::Certificate(X509Certificate {
        raw_bytes: leaf.der().to_vec(),
    });
    Ok(SignedBundle {
        bundle: bundle::encode(statement, signature, material, vec![entry]),
        identity: leaf.identities().into_iter().next().unwrap_or_default(),
        issuer: leaf.issuer_claim().unwrap_or_default(),
        log_index,
    })
}

/// Rekor's answer for one entry as the bundle's `TransparencyLogEntry`.
fn log_entry(entry: &Value) -> Result<TransparencyLogEntry, String> {
    let text = |p: &str| {
        entry
            .pointer(p)
            .and_then(Value::as_str)
            .ok_or_else(|| format!("the log entry has no {}", &p[1..]))
    };
    let int = |p: &str| {
        entry
            .pointer(p)
            .and_then(Value::as_i64)
            .ok_or_else(|| format!("the log entry has no {}", &p[1..]))
    };
    let b64 = |p: &str| {
        STANDARD
            .decode(text(p)?)
            .map_err(|_| format!("the log entry's {} is not base64", &p[1..]))
    };
    let hex = |s: &str, what: &str| {
        hex::decode(s).map_err(|_| format!("the log entry's {what} is not hex"))
    };
    let hashes = entry
        .pointer("/verification/inclusionProof/hashes")
        .and_then(Value::as_array)
        .ok_or("the log entry has no inclusion proof")?
        .iter()
        .map(|h| hex(h.as_str().unwrap_or_default(), "inclusion proof hash"))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(TransparencyLogEntry {
        log_index: int("/logIndex")?,
        log_id: Some(LogId {
            key_id: hex(text("/logID")?, "logID")?,
        }),
        kind_version: Some(KindVersion {
            kind: "dsse".to_owned(),
            version: "0.0.1".to_owned(),
        }),
        integrated_time: int("/integratedTime")?,
        inclusion_promise: Some(InclusionPromise {
            signed_entry_timestamp: b64("/verification/signedEntryTimestamp")?,
        }),
        inclusion_proof: Some(InclusionProof {
            log_index: int("/verification/inclusionProof/logIndex")?,
            root_hash: hex(text("/verification/inclusionProof/rootHash")?, "root hash")?,
            tree_size: int("/verification/inclusionProof/treeSize")?,
            hashes,
            checkpoint: Some(Checkpoint {
                envelope: text("/verification/inclusionProof/checkpoint")?.to_owned(),
            }),
        }),
        canonicalized_body: b64("/body")?,
    })
}
