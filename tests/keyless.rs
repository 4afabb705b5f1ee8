//! Keyless signing and verification end to end, against the real local registry and a local
//! fake of the GitHub Actions OIDC endpoint, Fulcio v2 and Rekor (tests/support/
//! sigstore_fake.rs), which checks the requests and issues a real certificate chain and real
//! signed entry timestamps.

#[path = "support/keyless_cli.rs"]
mod keyless_cli;
#[path = "support/sigstore_fake.rs"]
mod sigstore_fake;
mod support;

use std::path::Path;

use kbundle::bundle::Digest;
use kbundle::oci::layout::Layout;
use keyless_cli::*;
use serde_json::Value;
use sigstore_fake::{Behaviour, IDENTITY, ISSUER, REQUEST_TOKEN, SigstoreFake, TOKEN_MARK};
use support::{Registry, examples, read_sig, write_sig};

#[test]
fn keyless_sign_in_actions_with_fake_sigstore_then_verify_on_the_registry() {
    let registry = Registry::start();
    let fake = SigstoreFake::start(Behaviour::default());
    let t = trust(&fake);
    let image = format!("{}/fleet/web:v1", registry.addr);
    let digest = push(&image);
    let flags = sign_flags(&fake);
    let mut args = vec!["sign", image.as_str(), "--keyless"];
    args.extend(flags.iter().map(String::as_str));
    let url = fake.oidc_request_url();
    let (code, out, err) = kbundle(
        &args,
        &[
            ("GITHUB_ACTIONS", "true"),
            ("ACTIONS_ID_TOKEN_REQUEST_URL", &url),
            ("ACTIONS_ID_TOKEN_REQUEST_TOKEN", REQUEST_TOKEN),
        ],
    );
    assert_eq!(code, 0, "{err}");
    assert!(err.contains(&format!("keylessly as {IDENTITY}")), "{err}");
    // The request token and the ID token are masked before anything else.
    let masks: Vec<&str> = out
        .lines()
        .filter(|l| l.starts_with("::add-mask::"))
        .collect();
    assert!(masks.iter().any(|l| l.contains(REQUEST_TOKEN)), "{out}");
    assert!(
        masks
            .iter()
            .any(|l| l.contains(TOKEN_MARK) || l.contains("eyJ")),
        "{out}"
    );
    assert_no_tokens(&out, &err);
    let seen = fake.seen.lock().expect("lock").clone();
    assert_eq!(
        seen,
        [
            "GET /oidc/token",
            "POST /api/v2/signingCert",
            "POST /api/v1/log/entries"
        ]
    );

    // The `.sig` layer carries what cosign writes, checked by an independent verifier.
    python_check(&registry, &digest, &t);
    let pinned = format!("{}/fleet/web@{digest}", registry.addr);
    let (code, out, err) = verify(&pinned, &t, &["-o", "json"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains(&format!(
            "signature 1: verified, signed by {IDENTITY} (issuer {ISSUER})"
        )),
        "{err}"
    );
    let printed: Value = serde_json::from_str(out.trim()).expect("json");
    let optional = &printed[0]["optional"];
    assert_eq!(optional["Subject"], IDENTITY);
    assert_eq!(optional["Issuer"], ISSUER);
    assert_eq!(optional["githubWorkflowRef"], "refs/heads/main");
    assert_eq!(optional["githubWorkflowRepository"], "example/fleet");
    assert_eq!(optional["githubWorkflowTrigger"], "push");
    assert!(
        optional["Bundle"]["SignedEntryTimestamp"].is_string(),
        "{out}"
    );
    assert!(optional["Bundle"]["Payload"]["logIndex"].is_i64(), "{out}");

    let (code, _, err) = verify(
        &pinned,
        &t,
        &[
            "--certificate-identity-regexp",
            "^https://github.com/example/",
        ],
    );
    assert_eq!(code, 0, "{err}");

    let (code, _, err) = verify(
        &pinned,
        &t,
        &["--certificate-identity", "someone@example.com"],
    );
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains(&format!("certificate identity {IDENTITY} does not match --certificate-identity someone@example.com")),
        "{err}"
    );
    let (code, _, err) = verify(
        &pinned,
        &t,
        &["--certificate-oidc-issuer", "https://accounts.google.com"],
    );
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains(&format!("certificate oidc issuer {ISSUER} does not match --certificate-oidc-issuer https://accounts.google.com")),
        "{err}"
    );

    // A chain to a CA we do not trust.
    let (code, _, err) = kbundle(
        &[
            "verify",
            &pinned,
            "--certificate-identity",
            IDENTITY,
            "--certificate-oidc-issuer",
            ISSUER,
            "--certificate-chain",
            &t.other_root,
            "--rekor-public-key",
            &t.rekor,
        ],
        &[],
    );
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("does not chain to a trusted fulcio root"),
        "{err}"
    );

    // With the embedded public-good trust root, neither the fake's log nor its CA is trusted.
    let (code, _, err) = kbundle(
        &[
            "verify",
            &pinned,
            "--certificate-identity",
            IDENTITY,
            "--certificate-oidc-issuer",
            ISSUER,
        ],
        &[],
    );
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("is not a trusted rekor log"), "{err}");

    // A key is not a certificate.
    let dir = tempfile::tempdir().expect("tempdir");
    let (code, _, err) = kbundle(
        &[
            "keygen",
            "--output-key-prefix",
            &dir.path().join("k").display().to_string(),
        ],
        &[("COSIGN_PASSWORD", "pw")],
    );
    assert_eq!(code, 0, "{err}");
    let (code, _, err) = kbundle(
        &[
            "verify",
            &pinned,
            "--key",
            &dir.path().join("k.pub").display().to_string(),
        ],
        &[],
    );
    assert_eq!(code, 1, "{err}");
}

#[test]
fn keyless_without_an_oidc_token_in_actions_says_id_token_write() {
    let dir = tempfile::tempdir().expect("tempdir");
    let image = format!("oci-layout:{}:latest", dir.path().join("layout").display());
    push(&image);
    let (code, _, err) = kbundle(
        &[
            "sign",
            &image,
            "--keyless",
            "--fulcio-url",
            "http://127.0.0.1:9",
            "--rekor-url",
            "http://127.0.0.1:9",
        ],
        &[("GITHUB_ACTIONS", "true")],
    );
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("permissions: id-token: write"), "{err}");
    let (code, _, err) = kbundle(&["sign", &image, "--keyless"], &[]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--identity-token"), "{err}");
}

#[test]
fn fake_rekor_with_a_bad_set_fails_verification() {
    let fake = SigstoreFake::start(Behaviour {
        bad_set: true,
        ..Behaviour::default()
    });
    let t = trust(&fake);
    let dir = tempfile::tempdir().expect("tempdir");
    let image = format!("oci-layout:{}:latest", dir.path().join("layout").display());
    push(&image);
    sign_layout(&fake, &image);
    let (code, _, err) = verify(&image, &t, &[]);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("signed entry timestamp does not verify with the rekor public key"),
        "{err}"
    );
}

#[test]
fn fake_rekor_integrated_time_outside_the_certificate_validity_fails() {
    // Fulcio is briefly unavailable too: the certificate request is retried.
    let fake = SigstoreFake::start(Behaviour {
        fulcio_unavailable: 1,
        integrated_time_shift: 3600,
        ..Behaviour::default()
    });
    let t = trust(&fake);
    let dir = tempfile::tempdir().expect("tempdir");
    let image = format!("oci-layout:{}:latest", dir.path().join("layout").display());
    push(&image);
    sign_layout(&fake, &image);
    let (code, _, err) = verify(&image, &t, &[]);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("is outside the certificate's validity"),
        "{err}"
    );
}

#[test]
fn tampered_keyless_payload_with_fake_sigstore_fails() {
    let fake = SigstoreFake::start(Behaviour::default());
    let t = trust(&fake);
    let dir = tempfile::tempdir().expect("tempdir");
    let folder = dir.path().join("layout");
    let image = format!("oci-layout:{}:latest", folder.display());
    let digest: Digest = push(&image).parse().expect("digest");
    sign_layout(&fake, &image);
    let (code, _, err) = verify(&image, &t, &[]);
    assert_eq!(code, 0, "{err}");

    let layout = Layout::open(&folder).expect("layout");
    let mut layers = read_sig(&layout, &digest);
    let text = String::from_utf8(layers[0].payload.clone()).expect("utf8");
    layers[0].payload = text
        .replace("\"optional\":null", "\"optional\":{\"x\":\"y\"}")
        .into_bytes();
    assert_ne!(layers[0].payload, text.as_bytes());
    write_sig(&layout, &digest, &layers);
    let (code, _, err) = verify(&image, &t, &[]);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("signature does not match the key of certificate"),
        "{err}"
    );
}

#[test]
fn publish_sign_keyless_with_fake_sigstore_verifies() {
    let fake = SigstoreFake::start(Behaviour::default());
    let t = trust(&fake);
    let dir = tempfile::tempdir().expect("tempdir");
    let image = format!("oci-layout:{}:latest", dir.path().join("layout").display());
    let token = fake.id_token("sigstore");
    let (code, out, err) = kbundle(
        &[
            "publish",
            examples().to_str().unwrap_or("."),
            "--image",
            &image,
            "--sign",
            "keyless",
            "--fulcio-url",
            &fake.url,
            "--rekor-url",
            &fake.url,
            "--identity-token",
            &token,
        ],
        &[],
    );
    assert_eq!(code, 0, "{err}");
    assert!(err.contains(&format!("keyless as {IDENTITY}")), "{err}");
    assert!(!out.contains(&token) && !err.contains(&token));
    let (code, _, err) = verify(&image, &t, &[]);
    assert_eq!(code, 0, "{err}");

    // promote takes the same keyless policy: it verifies, copies, and verifies again.
    let prod = format!("oci-layout:{}:prod", dir.path().join("prod").display());
    let args = [
        "promote",
        &image,
        &prod,
        "--certificate-identity",
        IDENTITY,
        "--certificate-oidc-issuer",
        ISSUER,
        "--certificate-chain",
        &t.chain,
        "--rekor-public-key",
        &t.rekor,
    ];
    let (code, _, err) = kbundle(&args, &[]);
    assert_eq!(code, 0, "{err}");
    let (code, _, err) = verify(&prod, &t, &[]);
    assert_eq!(code, 0, "{err}");
}

/// Real public-good data (tests/fixtures/sigstore/README.md): a Fulcio certificate and a Rekor
/// SET made by the real services verify with the embedded trust root, and fail once altered.
#[test]
fn real_public_good_certificate_and_rekor_set_verify_with_the_embedded_root() {
    use base64::Engine as _;
    use base64::engine::general_purpose::STANDARD;
    use kbundle::signing::keyless::cert::Certificate;
    use kbundle::signing::keyless::tlog::{Bundle, BundlePayload};
    use kbundle::signing::keyless::trust::TrustRoot;

    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/sigstore/out.sigstore.json"),
    )
    .expect("fixture");
    let v: Value = serde_json::from_str(&text).expect("json");
    let entry = &v["verificationMaterial"]["tlogEntries"][0];
    let s = |p: &str| {
        entry
            .pointer(p)
            .and_then(Value::as_str)
            .expect(p)
            .to_owned()
    };
    let int = |p: &str| s(p).parse::<i64>().expect("int");
    let der = STANDARD
        .decode(
            v["verificationMaterial"]["certificate"]["rawBytes"]
                .as_str()
                .expect("cert"),
        )
        .expect("b64");
    let leaf = Certificate::from_der(der).expect("leaf");
    assert_eq!(leaf.identities(), ["w.vollprecht@gmail.com"]);
    assert_eq!(
        leaf.issuer_claim().as_deref(),
        Some("https://github.com/login/oauth")
    );
    assert!(leaf.is_for_code_signing());

    let root = TrustRoot::public_good().expect("root");
    let at = int("/integratedTime");
    let (from, until) = leaf.validity();
    assert!(
        from <= at && at <= until,
        "integrated while the certificate was valid"
    );
    root.verify_chain(&leaf, &[], at)
        .expect("chains to the public-good root");
    let other = Certificate::all_from_pem(&sigstore_fake::other_root_pem()).expect("pem");
    let untrusted = TrustRoot {
        cas: other,
        rekor_keys: root.rekor_keys.clone(),
    };
    assert!(untrusted.verify_chain(&leaf, &[], at).is_err());

    let bundle = Bundle {
        signed_entry_timestamp: s("/inclusionPromise/signedEntryTimestamp"),
        payload: BundlePayload {
            body: s("/canonicalizedBody"),
            integrated_time: at,
            log_index: int("/logIndex"),
            log_id: hex::encode(STANDARD.decode(s("/logId/keyId")).expect("b64")),
        },
    };
    bundle
        .verify_set(&root.rekor_keys)
        .expect("real SET verifies");
    let mut moved = bundle.clone();
    moved.payload.log_index += 1;
    let err = moved
        .verify_set(&root.rekor_keys)
        .expect_err("altered entry");
    assert!(err.contains("does not verify"), "{err}");
}

/// The Action as the runner starts it: `sign: keyless` publishes with the job's token, and
/// `command: verify` with `certificate-identity`/`certificate-oidc-issuer` checks it (the fake's
/// trust root given the way cosign takes it, SIGSTORE_ROOT_FILE and SIGSTORE_REKOR_PUBLIC_KEY).
#[test]
fn action_inputs_sign_keyless_and_verify_keyless_with_fake_sigstore() {
    let fake = SigstoreFake::start(Behaviour::default());
    let t = trust(&fake);
    let work = tempfile::tempdir().expect("tempdir");
    let run = |inputs: &[(&str, &str)], extra: &[(&str, &str)]| {
        let mut cmd = support::runner_env(work.path());
        for (name, value) in inputs {
            cmd.env(format!("INPUT_{}", name.to_uppercase()), value);
        }
        let run = support::Run::of(cmd.envs(extra.iter().copied()));
        (run.code, run.out, run.err)
    };
    let url = fake.oidc_request_url();
    let paths = examples().display().to_string();
    let image = "oci-layout:.kbundle/oci:latest";
    let (code, out, err) = run(
        &[
            ("paths", &paths),
            ("image", image),
            ("sign", "keyless"),
            ("comment", "false"),
        ],
        &[
            ("ACTIONS_ID_TOKEN_REQUEST_URL", &url),
            ("ACTIONS_ID_TOKEN_REQUEST_TOKEN", REQUEST_TOKEN),
            ("KBUNDLE_FULCIO_URL", &fake.url),
            ("KBUNDLE_REKOR_URL", &fake.url),
        ],
    );
    assert_eq!(code, 0, "{out}\n{err}");
    assert_no_tokens(&out, &err);
    let (code, out, err) = run(
        &[
            ("command", "verify"),
            ("image", image),
            ("certificate-identity", IDENTITY),
            ("certificate-oidc-issuer", ISSUER),
        ],
        &[
            ("SIGSTORE_ROOT_FILE", &t.chain),
            ("SIGSTORE_REKOR_PUBLIC_KEY", &t.rekor),
        ],
    );
    assert_eq!(code, 0, "{out}\n{err}");
    // Without the id-token permission the step fails saying what to add.
    // Run as the action, the log is one stream (stdout) and the error an annotation.
    let (code, out, _) = run(
        &[
            ("paths", &paths),
            ("image", image),
            ("sign", "keyless"),
            ("comment", "false"),
        ],
        &[],
    );
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("::error title=kbundle publish::"), "{out}");
    assert!(out.contains("permissions: id-token: write"), "{out}");
}

/// A person's token (`--identity-token`, e-mail principal): the proof of possession signs the
/// address, the SAN is an e-mail, and verify matches it with the e-mail issuer.
#[test]
fn email_identity_with_fake_sigstore_signs_and_verifies() {
    let fake = SigstoreFake::start(Behaviour {
        email: Some("release@example.com".into()),
        ..Behaviour::default()
    });
    let t = trust(&fake);
    let dir = tempfile::tempdir().expect("tempdir");
    let image = format!("oci-layout:{}:latest", dir.path().join("layout").display());
    push(&image);
    sign_layout(&fake, &image);
    let (code, out, err) = verify(
        &image,
        &t,
        &[
            "--certificate-identity",
            "release@example.com",
            "--certificate-oidc-issuer-regexp",
            "^https://accounts\\.google\\.com$",
            "-o",
            "json",
        ],
    );
    assert_eq!(code, 0, "{err}");
    assert!(out.contains(r#""Subject":"release@example.com""#), "{out}");
    assert!(
        out.contains(r#""Issuer":"https://accounts.google.com""#),
        "{out}"
    );
}

/// A refused signer: the message names what the certificate holds (SAN, issuer, the
/// workflow from Fulcio's extensions) and the exact flags that accept it, and those flags do.
#[test]
fn a_keyless_identity_or_issuer_mismatch_names_the_signer_and_the_flags_with_fake_sigstore() {
    let fake = SigstoreFake::start(Behaviour::default());
    let t = trust(&fake);
    let dir = tempfile::tempdir().expect("tempdir");
    let image = format!("oci-layout:{}:latest", dir.path().join("layout").display());
    push(&image);
    sign_layout(&fake, &image);
    let accept = format!(
        "to accept this signer: --certificate-identity {IDENTITY} --certificate-oidc-issuer {ISSUER}"
    );
    let holds = format!(
        "the certificate holds SAN {IDENTITY}, issuer {ISSUER}, workflow ref refs/heads/main \
         (repository example/fleet, trigger push"
    );
    for wrong in [
        vec![
            "--certificate-identity",
            "https://github.com/example/fleet/.github/workflows/release.yml@refs/heads/main",
        ],
        vec![
            "--certificate-identity-regexp",
            "^https://github\\.com/other/",
        ],
        vec!["--certificate-oidc-issuer", "https://accounts.google.com"],
    ] {
        let (code, _, err) = verify(&image, &t, &wrong);
        assert_eq!(code, 1, "{wrong:?}: {err}");
        assert!(err.contains(&holds), "{wrong:?}: {err}");
        assert!(err.contains(&accept), "{wrong:?}: {err}");
    }
    // The flags the message gives are the ones that verify it.
    let (code, _, err) = kbundle(
        &[
            "verify",
            &image,
            "--certificate-chain",
            &t.chain,
            "--rekor-public-key",
            &t.rekor,
            "--certificate-identity",
            IDENTITY,
            "--certificate-oidc-issuer",
            ISSUER,
        ],
        &[],
    );
    assert_eq!(code, 0, "{err}");
}
