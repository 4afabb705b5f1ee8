//! Google access tokens are refreshed before they expire and the registry is logged in to
//! again, so that a long push does not fail at the one-hour mark. The local fake of Google's
//! metadata server and OAuth token endpoint issues tokens that live less than kbundle's
//! five-minute refresh margin, so every registry operation needs a new one, and a real
//! `docker-registry` accepts only the newest token (its htpasswd file is rewritten at each
//! issue). No clock is faked and nothing sleeps: the margin does the work.

#[path = "support/google_cli.rs"]
mod google_cli;
#[path = "support/google_fake.rs"]
mod google_fake;
mod support;

use google_cli::{inspect_with_token, push_with_google_auth};
use google_fake::{Behaviour, GoogleFake, Rotate};
use support::Registry;

/// A registry whose only password is the newest token the fake issued.
fn rotating(expires_in: u64) -> (Registry, GoogleFake) {
    let registry = Registry::with_password("oauth2accesstoken", "no-token-issued-yet");
    let fake = GoogleFake::start(Behaviour {
        rotate: Some(Rotate {
            htpasswd: registry.htpasswd.clone().expect("password file"),
            expires_in,
        }),
        ..Behaviour::default()
    });
    (registry, fake)
}

fn inspect(image: &str, token: &str) -> bool {
    inspect_with_token(image, token).status.success()
}

#[test]
fn fake_metadata_short_lived_tokens_are_refreshed_and_the_registry_logged_in_again() {
    // 60 s left is under the five-minute margin: every operation must fetch a new token.
    let (registry, fake) = rotating(60);
    let image = format!("{}/kbundle/refresh:v1", registry.addr);
    let host = fake.metadata_host();
    let (code, stdout, stderr) = push_with_google_auth(
        &image,
        &[("GCE_METADATA_HOST", &host), ("GITHUB_ACTIONS", "true")],
    );
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    let issued = fake.issued.lock().unwrap().clone();
    // connect, login, then at least a blob check, a blob upload and the manifest.
    assert!(issued.len() >= 5, "only {} tokens issued", issued.len());
    for token in &issued {
        assert!(
            stdout.contains(&format!("::add-mask::{token}\n")),
            "{token} not masked:\n{stdout}"
        );
        assert!(
            !stderr.contains(token.as_str()),
            "{token} leaked:\n{stderr}"
        );
    }
    let newest = issued.last().expect("a token");
    assert!(inspect(&image, newest), "the pushed image is not there");
    // The registry really refuses the older tokens, so the push above used fresh ones.
    assert!(
        !inspect(&image, &issued[0]),
        "the registry accepted a stale token"
    );
}

#[test]
fn fake_metadata_long_lived_token_is_fetched_once() {
    // An hour left: one token for the whole push, no extra requests.
    let (registry, fake) = rotating(3599);
    let image = format!("{}/kbundle/refresh:v2", registry.addr);
    let host = fake.metadata_host();
    let (code, stdout, stderr) = push_with_google_auth(
        &image,
        &[("GCE_METADATA_HOST", &host), ("GITHUB_ACTIONS", "true")],
    );
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert_eq!(fake.issued.lock().unwrap().len(), 1);
}
