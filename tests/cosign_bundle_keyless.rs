//! Keyless Sigstore bundles end to end: `sign --keyless --signature-format bundle|both`
//! through the local fake of the Actions OIDC endpoint, Fulcio v2 and Rekor
//! (tests/support/sigstore_fake.rs: a real certificate chain, `dsse` entries with a real SET,
//! inclusion proof and signed checkpoint), stored on the real registry, verified by kbundle.

#[path = "support/keyless_cli.rs"]
mod keyless_cli;
#[path = "support/sigstore_fake.rs"]
mod sigstore_fake;
mod support;

use keyless_cli::*;
use sigstore_fake::{Behaviour, IDENTITY, ISSUER, SigstoreFake};
use support::Registry;

fn sign(fake: &SigstoreFake, image: &str, format: &str) -> (i32, String, String) {
    let token = fake.id_token("sigstore");
    let flags = sign_flags(fake);
    let mut args = vec!["sign", image, "--keyless", "--signature-format", format];
    args.extend(flags.iter().map(String::as_str));
    let result = kbundle(&args, &[("SIGSTORE_ID_TOKEN", &token)]);
    assert_no_tokens(&result.1, &result.2);
    result
}

#[test]
fn keyless_bundles_through_fake_sigstore_verify_and_every_broken_part_is_refused() {
    let registry = Registry::start();
    let fake = SigstoreFake::start(Behaviour::default());
    let t = trust(&fake);
    let r = &registry.addr;

    let image = format!("{r}/fleet/web:v1");
    let digest = push(&image);
    let (code, out, err) = sign(&fake, &image, "bundle");
    assert_eq!(code, 0, "{err}");
    assert!(
        out.trim().starts_with(&format!("{r}/fleet/web@sha256:")),
        "{out}"
    );
    assert!(!out.contains(".sig"), "bundle only: {out}");
    assert!(err.contains(&format!("keylessly as {IDENTITY}")), "{err}");

    let (code, _, err) = verify(&image, &t, &[]);
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains(&format!("verified, signed by {IDENTITY} (issuer {ISSUER})")),
        "{err}"
    );
    let (code, out, err) = verify(&image, &t, &["-o", "json"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains(&digest) && out.contains("https://sigstore.dev/cosign/sign/v1"),
        "{out}"
    );

    // The policy: another identity, another issuer, another root, another log key.
    let (code, _, err) = verify(
        &image,
        &t,
        &["--certificate-identity", "someone@example.com"],
    );
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("does not match --certificate-identity someone@example.com"),
        "{err}"
    );
    let (code, _, err) = verify(
        &image,
        &t,
        &["--certificate-oidc-issuer", "https://accounts.google.com"],
    );
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("does not match --certificate-oidc-issuer"),
        "{err}"
    );
    let (code, _, err) = kbundle(
        &[
            "verify",
            &image,
            "--certificate-chain",
            &t.other_root,
            "--rekor-public-key",
            &t.rekor,
            "--certificate-identity",
            IDENTITY,
            "--certificate-oidc-issuer",
            ISSUER,
        ],
        &[],
    );
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("does not chain to a trusted fulcio root"),
        "{err}"
    );
    let stranger = SigstoreFake::start(Behaviour::default());
    let (code, _, err) = verify(&image, &trust(&stranger), &[]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("is not a trusted rekor log"), "{err}");

    // A key instead of a certificate policy: the bundle says it is keyless.
    let dir = tempfile::tempdir().expect("tempdir");
    let (code, _, err) = kbundle(
        &[
            "keygen",
            "--output-key-prefix",
            &dir.path().join("k").display().to_string(),
        ],
        &[("COSIGN_PASSWORD", "")],
    );
    assert_eq!(code, 0, "{err}");
    let key = dir.path().join("k.pub").display().to_string();
    let (code, _, err) = kbundle(&["verify", &image, "--key", &key], &[]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("signed with a certificate (keyless)"), "{err}");

    // both: a .sig layer and a bundle, each with its own certificate and log entry.
    let image = format!("{r}/fleet/both:v1");
    push(&image);
    let (code, out, err) = sign(&fake, &image, "both");
    assert_eq!(code, 0, "{err}");
    assert!(out.contains(".sig") && out.contains("@sha256:"), "{out}");
    let (code, _, err) = verify(&image, &t, &[]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("2 of 2 signature(s) verified"), "{err}");
}

#[test]
fn keyless_bundles_logged_outside_the_certificate_or_with_a_bad_set_are_refused() {
    let registry = Registry::start();
    for (n, (behaviour, why)) in [
        (
            Behaviour {
                integrated_time_shift: 3600,
                ..Behaviour::default()
            },
            "outside the certificate's validity",
        ),
        (
            Behaviour {
                bad_set: true,
                ..Behaviour::default()
            },
            "signed entry timestamp does not verify",
        ),
    ]
    .into_iter()
    .enumerate()
    {
        let fake = SigstoreFake::start(behaviour);
        let image = format!("{}/fleet/broken{n}:v1", registry.addr);
        push(&image);
        let (code, _, err) = sign(&fake, &image, "bundle");
        assert_eq!(code, 0, "{err}");
        let (code, _, err) = verify(&image, &trust(&fake), &[]);
        assert_eq!(code, 1, "{err}");
        assert!(err.contains(why), "expected {why:?}: {err}");
    }
}

/// The real cosign v3 checks kbundle's keyless bundle too, trusting the fakes through a
/// trusted_root.json (the fake Fulcio CA and Rekor key; the fake logs no SCTs).
#[test]
fn cosign3_verifies_a_keyless_bundle_kbundle_made_through_the_fakes() {
    use base64::Engine as _;
    use base64::engine::general_purpose::STANDARD;
    use sha2::Digest as _;
    let registry = Registry::start();
    let fake = SigstoreFake::start(Behaviour::default());
    let image = format!("{}/fleet/cosign:v1", registry.addr);
    push(&image);
    let (code, _, err) = sign(&fake, &image, "bundle");
    assert_eq!(code, 0, "{err}");

    let certs =
        kbundle::signing::keyless::cert::Certificate::all_from_pem(&fake.ca_pem).expect("fake CA");
    let rekor = kbundle::signing::keys::PublicKey::from_pem(&fake.rekor_pem)
        .expect("fake rekor key")
        .to_spki_der();
    let since = serde_json::json!({"start": "2000-01-01T00:00:00Z"});
    let root = serde_json::json!({
        "mediaType": "application/vnd.dev.sigstore.trustedroot+json;version=0.1",
        "tlogs": [{
            "baseUrl": fake.url, "hashAlgorithm": "SHA2_256",
            "publicKey": {"rawBytes": STANDARD.encode(&rekor), "keyDetails": "PKIX_ECDSA_P256_SHA_256", "validFor": since},
            "logId": {"keyId": STANDARD.encode(sha2::Sha256::digest(&rekor))},
        }],
        "certificateAuthorities": [{
            "subject": {"organization": "fake", "commonName": "fake"}, "uri": fake.url,
            "certChain": {"certificates": certs.iter().map(|c| serde_json::json!({"rawBytes": STANDARD.encode(c.der())})).collect::<Vec<_>>()},
            "validFor": since,
        }],
        "ctlogs": [], "timestampAuthorities": [],
    });
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("trusted_root.json");
    std::fs::write(&path, root.to_string()).expect("write trusted root");
    let out = std::process::Command::new(support::peers::peer("cosign3"))
        .current_dir(dir.path())
        .env_clear()
        .env("HOME", dir.path())
        .env("TUF_ROOT", dir.path().join(".sigstore"))
        .args([
            "verify",
            "--trusted-root",
            path.to_str().expect("utf-8"),
            "--certificate-identity",
            IDENTITY,
            "--certificate-oidc-issuer",
            ISSUER,
            "--insecure-ignore-sct",
            "-o",
            "json",
            &image,
        ])
        .output()
        .expect("run cosign3");
    assert!(
        out.status.success(),
        "cosign3 verify: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
