//! The webhook with a keyless policy: images signed through (fake) Fulcio and Rekor in the real
//! registry are allowed when the certificate names the expected identity, denied otherwise.

#[path = "support/keyless_cli.rs"]
mod keyless_cli;
#[path = "support/sigstore_fake.rs"]
mod sigstore_fake;
mod support;
mod webhook_support;

use keyless_cli::{sign_flags, trust};
use sigstore_fake::{Behaviour, IDENTITY, ISSUER, SigstoreFake};
use support::Registry;
use webhook_support::{Certs, Webhook, message, push, response, review};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keyless_signed_images_pass_the_webhook_only_for_the_expected_identity_with_fake_sigstore()
{
    let registry = Registry::start();
    let fake = SigstoreFake::start(Behaviour::default());
    let t = trust(&fake);
    let dir = tempfile::tempdir().expect("tempdir");
    let image = format!("{}/kb/keyless:v1", registry.addr);
    let digest = push(&image, dir.path());
    let token = fake.id_token("sigstore");
    let mut args = vec!["sign".to_owned(), image.clone(), "--keyless".to_owned()];
    args.extend(sign_flags(&fake));
    let (code, _, err) = keyless_cli::kbundle(
        &args.iter().map(String::as_str).collect::<Vec<_>>(),
        &[("SIGSTORE_ID_TOKEN", &token)],
    );
    assert_eq!(code, 0, "{err}");

    let certs = Certs::new("kbundle");
    certs.install(dir.path());
    let policy = |identity: &str| -> Vec<String> {
        [
            "--certificate-identity",
            identity,
            "--certificate-oidc-issuer",
            ISSUER,
            "--certificate-chain",
            &t.chain,
            "--rekor-public-key",
            &t.rekor,
        ]
        .map(str::to_owned)
        .to_vec()
    };
    let body = review(
        &image,
        &format!("{image}@{digest}"),
        &format!("{image}@sha256:{}", "0".repeat(64)),
        "v1",
        "uid-keyless",
    );

    let right = policy(IDENTITY);
    let webhook = Webhook::start(
        dir.path(),
        &certs,
        &right.iter().map(String::as_str).collect::<Vec<_>>(),
    );
    let (status, answer) = webhook.post("/validate", body.clone()).await;
    assert_eq!(status, 200);
    let allowed = response(&answer, "v1", "uid-keyless");
    assert_eq!(allowed["allowed"], true, "{answer}");
    drop(webhook);

    let wrong =
        policy("https://github.com/someone-else/repo/.github/workflows/x.yml@refs/heads/main");
    let webhook = Webhook::start(
        dir.path(),
        &certs,
        &wrong.iter().map(String::as_str).collect::<Vec<_>>(),
    );
    let (status, answer) = webhook.post("/validate", body).await;
    assert_eq!(status, 200);
    let denied = response(&answer, "v1", "uid-keyless");
    assert_eq!(denied["allowed"], false, "{answer}");
    let why = message(denied);
    assert!(why.contains(&digest) && why.contains("identity"), "{why}");
    // Who did sign, and the flags that would admit them.
    assert!(
        why.contains(&format!(
            "to accept this signer: --certificate-identity {} --certificate-oidc-issuer {}",
            IDENTITY, ISSUER
        )),
        "{why}"
    );
}
