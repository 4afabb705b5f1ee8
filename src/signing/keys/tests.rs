use std::path::PathBuf;

use super::*;

/// The public key of `cosign_generated_encrypted_empty_private.key`, as published beside it.
const COSIGN_GENERATED_PUB: &str = "-----BEGIN PUBLIC KEY-----
MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEGmsWpZNuu+SUX70n3lVK4JLsaoV7
T+rhea2rQUu29EQiatoLB06QdsmSd+GsQGlQzfcDtsKPzb+B2zLggrWZjg==
-----END PUBLIC KEY-----
";

/// (file, password, expected kind) for every key fixture made by cosign or sigstore-rs.
const FIXTURES: &[(&str, &str, &str)] = &[
    (
        "cosign_generated_encrypted_empty_private.key",
        "",
        "ecdsa-p256",
    ),
    ("ecdsa_encrypted_private.key", "123", "ecdsa-p256"),
    ("ed25519_encrypted_private.key", "123", "ed25519"),
    ("rsa_encrypted_private.key", "123", "rsa-4096"),
    (
        "ECDSA_P256_ASN1_ENCRYPTED_PRIVATE_PEM.key",
        "password",
        "ecdsa-p256",
    ),
];

fn fixture(rel: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/cosign")
        .join(rel);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn load(name: &str, password: &str) -> PrivateKey {
    PrivateKey::from_cosign_pem(&fixture(&format!("keys/{name}")), password.as_bytes())
        .unwrap_or_else(|e| panic!("{name}: {e}"))
}

#[test]
fn every_fixture_loads_with_its_password_and_refuses_a_wrong_one() {
    for &(name, password, kind) in FIXTURES {
        let key = load(name, password);
        assert!(
            key.public_key()
                .fingerprint()
                .starts_with(&format!("{kind} SHA256:")),
            "{name}: {}",
            key.public_key().fingerprint()
        );

        let text = fixture(&format!("keys/{name}"));
        let err = PrivateKey::from_cosign_pem(&text, b"not the password").unwrap_err();
        assert!(matches!(err, KeyError::WrongPassword), "{name}: {err}");
        assert!(err.to_string().starts_with("wrong password? "), "{err}");
    }
}

#[test]
fn cosign_generated_key_derives_the_published_public_key() {
    let key = load("cosign_generated_encrypted_empty_private.key", "");
    assert_eq!(key.public_key().to_pem(), COSIGN_GENERATED_PUB);
    assert_eq!(
        PublicKey::from_pem(COSIGN_GENERATED_PUB).unwrap(),
        key.public_key()
    );
}

#[test]
fn cosign_pub_verifies_a_signature_made_by_the_real_cosign() {
    let text = fixture("signed-images/cosign.pub");
    let public = PublicKey::from_pem(&text).unwrap();
    // Our PEM writer produces exactly what cosign wrote.
    assert_eq!(public.to_pem(), text);

    // containers/image's dir: layout: "\0sigstore-json\n" then the layer's JSON.
    let layer = fixture("signed-images/dir-img-cosign-valid/signature-1");
    let json = layer.strip_prefix("\0sigstore-json\n").unwrap();
    let v: serde_json::Value = serde_json::from_str(json).unwrap();
    let payload = STANDARD.decode(v["payload"].as_str().unwrap()).unwrap();
    let signature = STANDARD
        .decode(
            v["annotations"]["dev.cosignproject.cosign/signature"]
                .as_str()
                .unwrap(),
        )
        .unwrap();

    public.verify(&payload, &signature).unwrap();
    let mut altered = payload.clone();
    altered[10] ^= 1;
    let err = public.verify(&altered, &signature).unwrap_err();
    assert!(matches!(err, KeyError::BadSignature { .. }), "{err}");
    assert_eq!(
        err.to_string(),
        format!(
            "signature does not verify with public key {}",
            public.fingerprint()
        )
    );
}

#[test]
fn generated_key_round_trips_through_cosign_format() {
    let key = PrivateKey::generate();
    let pem = key.to_cosign_pem(b"s3cret").unwrap();

    assert!(pem.starts_with("-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\n"));
    assert!(pem.ends_with("-----END ENCRYPTED SIGSTORE PRIVATE KEY-----\n"));
    assert!(!pem.contains('\r'));
    let lines: Vec<&str> = pem.lines().collect();
    let body = &lines[1..lines.len() - 1];
    assert!(body[..body.len() - 1].iter().all(|l| l.len() == 64));
    assert!(body[body.len() - 1].len() <= 64);

    // The JSON is cosign's shape, with cosign's parameters and sizes.
    let json = STANDARD.decode(body.concat()).unwrap();
    let enc: EncryptedKey = serde_json::from_slice(&json).unwrap();
    assert_eq!(
        (enc.kdf.name.as_str(), enc.cipher.name.as_str()),
        ("scrypt", "nacl/secretbox")
    );
    assert_eq!(
        (enc.kdf.params.n, enc.kdf.params.r, enc.kdf.params.p),
        (65536, 8, 1)
    );
    assert_eq!(STANDARD.decode(&enc.kdf.salt).unwrap().len(), 32);
    assert_eq!(STANDARD.decode(&enc.cipher.nonce).unwrap().len(), 24);
    assert!(
        String::from_utf8(json)
            .unwrap()
            .starts_with(r#"{"kdf":{"name":"scrypt","params":{"N":65536,"r":8,"p":1},"salt":""#)
    );

    let back = PrivateKey::from_cosign_pem(&pem, b"s3cret").unwrap();
    assert_eq!(back.public_key(), key.public_key());
    assert!(matches!(back, PrivateKey::EcdsaP256(_)));
    assert!(matches!(
        PrivateKey::from_cosign_pem(&pem, b"s3cret!"),
        Err(KeyError::WrongPassword)
    ));
    // Two generations never give the same key.
    assert_ne!(PrivateKey::generate().public_key(), key.public_key());
}

#[test]
fn every_kind_round_trips_with_an_empty_password() {
    let ed = PrivateKey::Ed25519(ed25519_dalek::SigningKey::generate(&mut UnwrapErr(SysRng)));
    // RSA generation is slow in a debug build, so the RSA fixture is re-encrypted instead.
    let rsa = load("rsa_encrypted_private.key", "123");
    for key in [PrivateKey::generate(), ed, rsa] {
        let pem = key.to_cosign_pem(b"").unwrap();
        let back = PrivateKey::from_cosign_pem(&pem, b"").unwrap();
        assert_eq!(back.public_key(), key.public_key(), "{key:?}");
    }
}

#[test]
fn sign_and_verify_every_kind() {
    let message = b"{\"critical\":{\"type\":\"cosign container image signature\"}}";
    for &(name, password, _) in &FIXTURES[1..4] {
        let key = load(name, password);
        let public = key.public_key();
        let sig = key.sign(message);
        public
            .verify(message, &sig)
            .unwrap_or_else(|e| panic!("{name}: {e}"));

        let err = public.verify(b"another message", &sig).unwrap_err();
        assert!(
            matches!(err, KeyError::BadSignature { .. }),
            "{name}: {err}"
        );

        let mut bad = sig.clone();
        let last = bad.len() - 1;
        bad[last] ^= 1;
        assert!(public.verify(message, &bad).is_err(), "{name}");
        // A signature of the wrong shape is an error, never a panic.
        assert!(public.verify(message, b"short").is_err(), "{name}");
    }
}

#[test]
fn signature_shapes_match_cosign() {
    let message = b"payload";
    let ecdsa = load("ecdsa_encrypted_private.key", "123");
    let der = ecdsa.sign(message);
    assert_eq!(der[0], 0x30, "ECDSA signatures are DER sequences");
    // The fixed 64-byte r‖s form is accepted as well.
    let fixed = p256::ecdsa::Signature::from_der(&der).unwrap().to_bytes();
    assert_eq!(fixed.len(), 64);
    ecdsa.public_key().verify(message, &fixed).unwrap();

    assert_eq!(
        load("ed25519_encrypted_private.key", "123")
            .sign(message)
            .len(),
        64
    );
    assert_eq!(
        load("rsa_encrypted_private.key", "123").sign(message).len(),
        512
    );
}

#[test]
fn debug_never_shows_key_material() {
    for &(name, password, kind) in FIXTURES {
        let key = load(name, password);
        let debug = format!("{key:?} {key:#?}");
        let der = key.to_pkcs8_der().unwrap();
        let b64 = STANDARD.encode(&der);
        assert!(!debug.contains(&b64), "{name}: {debug}");
        // Nor any 16-byte stretch of the DER, in base64 or hex.
        for chunk in der.chunks(16).filter(|c| c.len() == 16) {
            assert!(!debug.contains(&STANDARD_NO_PAD.encode(chunk)), "{name}");
            let hex: String = chunk.iter().map(|b| format!("{b:02x}")).collect();
            assert!(!debug.to_lowercase().contains(&hex), "{name}");
        }
        let fp = key.public_key().fingerprint();
        let sha = fp.split(' ').nth(1).unwrap();
        assert!(
            debug.starts_with(&format!("PrivateKey({kind}, public {sha})")),
            "{debug}"
        );
    }
}

#[test]
fn larger_scrypt_work_factor_loads() {
    // sigstore-rs refuses N=131072; keys made with it must still open here.
    let key = PrivateKey::generate();
    let pem = encrypt(&key.to_pkcs8_der().unwrap(), b"pw", 17).unwrap();
    let enc: EncryptedKey =
        serde_json::from_slice(&pem_decode(&pem, SIGSTORE_LABEL).unwrap().1).unwrap();
    assert_eq!(enc.kdf.params.n, 131072);
    let back = PrivateKey::from_cosign_pem(&pem, b"pw").unwrap();
    assert_eq!(back.public_key(), key.public_key());
}

/// A cosign key PEM whose JSON has the given scrypt parameters (the ciphertext is junk).
fn with_params(n: u64, r: u32, p: u32) -> String {
    let json = format!(
        r#"{{"kdf":{{"name":"scrypt","params":{{"N":{n},"r":{r},"p":{p}}},"salt":"AAAA"}},"cipher":{{"name":"nacl/secretbox","nonce":"{}"}},"ciphertext":"AAAA"}}"#,
        STANDARD.encode([0u8; 24])
    );
    pem_encode(SIGSTORE_LABEL, json.as_bytes())
}

#[test]
fn unreasonable_scrypt_parameters_are_refused_before_any_work() {
    for (n, r, p, why) in [
        (1 << 21, 8, 1, "N above 2^20"),
        (1 << 40, 8, 1, "N above 2^20"),
        (100_000, 8, 1, "power of two"),
        (0, 8, 1, "power of two"),
        (1 << 20, 16, 1, "above 1 GiB"),
        (1 << 15, 0, 1, "between 1 and 16"),
        (1 << 15, 8, 1000, "between 1 and 16"),
    ] {
        let err = PrivateKey::from_cosign_pem(&with_params(n, r, p), b"").unwrap_err();
        assert!(matches!(err, KeyError::KdfParams { .. }), "{err}");
        let msg = err.to_string();
        assert!(msg.contains(why), "{msg}");
        assert!(
            msg.starts_with(&format!("unsupported scrypt parameters N={n}, ")),
            "{msg}"
        );
    }
}

#[test]
fn malformed_files_give_clear_errors() {
    let cases: Vec<(String, &str)> = vec![
        ("".to_owned(), "no PEM block found"),
        ("hello".to_owned(), "no PEM block found"),
        (
            COSIGN_GENERATED_PUB.to_owned(),
            "that is a public key; pass the private key",
        ),
        (
            pem_encode("PRIVATE KEY", b"x"),
            "an unencrypted key: `cosign import-key-pair`",
        ),
        (
            "-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\nAAAA\n".to_owned(),
            "no -----END ENCRYPTED SIGSTORE PRIVATE KEY----- line",
        ),
        (
            "-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\n!!\n-----END ENCRYPTED SIGSTORE PRIVATE KEY-----\n"
                .to_owned(),
            "bad base64",
        ),
        (pem_encode(SIGSTORE_LABEL, b"{}"), "not a cosign private key: bad JSON"),
        // Well-formed but with a ciphertext shorter than the secretbox tag.
        (with_params(1 << 10, 8, 1), "wrong password? "),
        (
            pem_encode(
                SIGSTORE_LABEL,
                br#"{"kdf":{"name":"argon2","params":{"N":2,"r":1,"p":1},"salt":""},"cipher":{"name":"nacl/secretbox","nonce":""},"ciphertext":""}"#,
            ),
            "key derivation \"argon2\"",
        ),
        (
            pem_encode(
                SIGSTORE_LABEL,
                br#"{"kdf":{"name":"scrypt","params":{"N":2,"r":1,"p":1},"salt":""},"cipher":{"name":"nacl/secretbox","nonce":"AAAA"},"ciphertext":""}"#,
            ),
            "cipher.nonce is 3 bytes, expected 24",
        ),
    ];
    for (text, want) in cases {
        match PrivateKey::from_cosign_pem(&text, b"") {
            Err(e) => assert!(e.to_string().contains(want), "{e} (wanted {want:?})"),
            Ok(k) => panic!("{text:?} loaded as {k:?}"),
        }
    }

    let private = fixture("keys/ecdsa_encrypted_private.key");
    let err = PublicKey::from_pem(&private).unwrap_err().to_string();
    assert!(
        err.contains("that is a private key; pass the public key"),
        "{err}"
    );
    assert!(
        PublicKey::from_pem(&pem_encode("PUBLIC KEY", b"junk"))
            .unwrap_err()
            .to_string()
            .starts_with("invalid public key: ")
    );
}

#[test]
fn valid_encryption_of_a_non_key_is_an_invalid_key_not_a_panic() {
    let pem = encrypt(b"not DER at all", b"", 10).unwrap();
    let err = PrivateKey::from_cosign_pem(&pem, b"")
        .unwrap_err()
        .to_string();
    assert!(err.starts_with("invalid PKCS#8 private key: "), "{err}");
}

#[test]
fn pem_reader_accepts_crlf_and_surrounding_text() {
    let crlf = format!(
        "comment line\r\n{}\r\ntrailer",
        COSIGN_GENERATED_PUB.replace('\n', "\r\n")
    );
    assert_eq!(
        PublicKey::from_pem(&crlf).unwrap().to_pem(),
        COSIGN_GENERATED_PUB
    );
}

#[test]
fn fingerprints_are_stable_and_short() {
    let public = PublicKey::from_pem(COSIGN_GENERATED_PUB).unwrap();
    let fp = public.fingerprint();
    let (kind, sha) = fp.split_once(' ').unwrap();
    assert_eq!(kind, "ecdsa-p256");
    let digest = sha.strip_prefix("SHA256:").unwrap();
    assert_eq!(digest.len(), 43, "sha256 in unpadded base64");
    let der = pem_decode(COSIGN_GENERATED_PUB, PUBLIC_LABEL).unwrap().1;
    assert_eq!(digest, STANDARD_NO_PAD.encode(Sha256::digest(&der)));
    assert_eq!(public.fingerprint(), fp);
}

#[test]
fn password_comes_from_the_environment_even_when_empty() {
    assert_eq!(
        read_password(Some(OsString::from("")), "cosign.key")
            .unwrap()
            .expose(),
        ""
    );
    assert_eq!(
        read_password(Some(OsString::from("pw")), "cosign.key")
            .unwrap()
            .expose(),
        "pw"
    );
    // Under `cargo test` in CI stdin is not a terminal; run by hand on one, a prompt would
    // appear, so the check is skipped there.
    if !std::io::stdin().is_terminal() {
        let err = read_password(None, "cosign.key").unwrap_err();
        assert_eq!(
            err.to_string(),
            "no password: set COSIGN_PASSWORD (it may be empty) or run on a terminal to be asked"
        );
    }
}

#[cfg(unix)]
#[test]
fn non_utf8_password_is_an_error() {
    use std::os::unix::ffi::OsStringExt as _;
    let err = read_password(Some(OsString::from_vec(vec![0xff])), "k").unwrap_err();
    assert!(matches!(err, KeyError::PasswordNotUtf8));
}
