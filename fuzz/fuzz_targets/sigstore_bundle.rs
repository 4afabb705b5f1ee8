//! Sigstore bundles (`signing::bundle`), cosign v3's image signatures, and the OCI referrer
//! manifest they come in (`signing::bundle::referrer`): both read from a registry.
//!
//! Invariants: no panic; a parsed bundle is judged (keyed with a key that did not make it,
//! keyless against the public-good trust root, the statement against an image) without a
//! panic, and never verifies; writing its parts back with `encode` reads back the same.
#![no_main]

use std::collections::BTreeMap;
use std::sync::OnceLock;

use kbundle::bundle::Digest;
use kbundle::signing::bundle::{self, Material, keyless, referrer, statement, verify};
use kbundle::signing::keyless::trust::TrustRoot;
use kbundle::signing::keys::PublicKey;
use libfuzzer_sys::fuzz_target;
use sigstore_protobuf_specs::dev::sigstore::bundle::v1::verification_material::Content;
use sigstore_protobuf_specs::dev::sigstore::common::v1::{
    PublicKeyIdentifier, X509Certificate, X509CertificateChain,
};

const KEY: &str = include_str!("../../tests/fixtures/cosign/signed-images/cosign.pub");

fuzz_target!(|data: &[u8]| {
    if let Ok(r) = referrer::parse(data) {
        let _ = (r.bundle_layers().count(), r.blobs().count());
    }
    let Ok(parsed) = bundle::parse(data) else {
        return;
    };
    static FIXED: OnceLock<(PublicKey, Digest, Option<TrustRoot>)> = OnceLock::new();
    let (key, image, trust) = FIXED.get_or_init(|| {
        (
            PublicKey::from_pem(KEY).expect("the fixture key"),
            Digest::of(b"an image no fuzz input signed"),
            TrustRoot::public_good().ok(),
        )
    });
    let none = BTreeMap::new();
    if let Ok(s) = statement::parse(&parsed.payload) {
        let _ = (s.subject_for(image), s.digests());
    }
    let _ = verify::check_statement(&parsed, image, &none);
    assert!(
        verify::check_keyed(&parsed, image, key, &none).is_err(),
        "a fuzz input verified with a key it never saw"
    );
    if let Some(trust) = trust {
        let _ = keyless::evidence(&parsed, trust);
    }

    let material = match &parsed.material {
        Material::PublicKey { hint } => {
            Content::PublicKey(PublicKeyIdentifier { hint: hint.clone() })
        }
        Material::Certificates(certs) if certs.len() == 1 => {
            Content::Certificate(X509Certificate {
                raw_bytes: certs[0].clone(),
            })
        }
        Material::Certificates(certs) => Content::X509CertificateChain(X509CertificateChain {
            certificates: certs
                .iter()
                .map(|c| X509Certificate {
                    raw_bytes: c.clone(),
                })
                .collect(),
        }),
    };
    let written = bundle::encode(
        parsed.payload.clone(),
        parsed.signature.clone(),
        material,
        parsed.tlog_entries.clone(),
    );
    let back = bundle::parse(&written).unwrap_or_else(|e| {
        panic!(
            "encode wrote what parse refuses ({e}): {}",
            String::from_utf8_lossy(&written)
        )
    });
    assert_eq!(back.payload, parsed.payload);
    assert_eq!(back.signature, parsed.signature);
    assert_eq!(back.material, parsed.material);
    assert_eq!(back.tlog_entries, parsed.tlog_entries);
});
