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
