//! Google credential files with long-lived secrets, `service_account` JSON keys and
//! `authorized_user` refresh tokens, against a local fake of Google's OAuth token endpoint
//! (`support/google_fake.rs`, which checks the JWT signature with the test key's public half)
//! and a real registry that accepts `oauth2accesstoken` with the token the fake issues.

#[path = "support/google_cli.rs"]
mod google_cli;
#[path = "support/google_fake.rs"]
mod google_fake;
mod support;

use google_cli::{
    assert_no_tokens, authorized_user_file, inspect_with_token, push_with_google_auth,
    service_account_file,
};
use google_fake::{
    ACCESS_TOKEN, Behaviour, CLIENT_ID, GoogleFake, REFRESH_TOKEN, SERVICE_ACCOUNT,
    SERVICE_ACCOUNT_KEY,
};
use support::Registry;

fn push_with_credentials_file(image: &str, path: &std::path::Path) -> (i32, String, String) {
    let path = path.to_str().expect("utf-8 path");
    let out = push_with_google_auth(
        image,
        &[
            ("GOOGLE_APPLICATION_CREDENTIALS", path),
            ("GITHUB_ACTIONS", "true"),
        ],
    );
    assert_no_tokens(&out.1, &out.2);
    out
}

#[test]
fn fake_oauth_service_account_key_file_signs_a_jwt_and_pushes() {
    let fake = GoogleFake::start(Behaviour::default());
    let registry = Registry::with_password("oauth2accesstoken", ACCESS_TOKEN);
    let image = format!("{}/kbundle/service-account:v1", registry.addr);
    let key = service_account_file(&fake, SERVICE_ACCOUNT, SERVICE_ACCOUNT_KEY);
    let (code, stdout, stderr) = push_with_credentials_file(&image, key.path());
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    // The fake answered only after checking the RS256 signature with the key's public half,
    // the issuer, scope, audience and lifetime.
    assert_eq!(*fake.seen.lock().unwrap(), ["POST /token"]);
    assert!(
        stdout.contains(&format!("::add-mask::{ACCESS_TOKEN}\n")),
        "{stdout}"
    );
    let out = inspect_with_token(&image, ACCESS_TOKEN);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn fake_oauth_service_account_unknown_to_google_shows_googles_message() {
    let fake = GoogleFake::start(Behaviour::default());
    let other = "deleted@example-project.iam.gserviceaccount.com";
    let key = service_account_file(&fake, other, SERVICE_ACCOUNT_KEY);
    let (code, stdout, stderr) =
        push_with_credentials_file("127.0.0.1:9/kbundle/refused:v1", key.path());
    assert_eq!(code, 2, "{stdout}\n{stderr}");
    assert!(stderr.contains("account not found"), "{stderr}");
    assert!(stderr.contains(other), "{stderr}");
    assert!(
        stderr.contains(&key.path().display().to_string()),
        "{stderr}"
    );
}

#[test]
fn fake_oauth_service_account_with_a_broken_key_names_the_file_not_the_key() {
    let fake = GoogleFake::start(Behaviour::default());
    // The right shape with the body cut short: a parser would choke on it.
    let broken: String = SERVICE_ACCOUNT_KEY
        .lines()
        .take(4)
        .collect::<Vec<_>>()
        .join("\n");
    let key = service_account_file(&fake, SERVICE_ACCOUNT, &broken);
    let (code, stdout, stderr) =
        push_with_credentials_file("127.0.0.1:9/kbundle/refused:v1", key.path());
    assert_eq!(code, 2, "{stdout}\n{stderr}");
    assert!(stderr.contains("not a PEM RSA private key"), "{stderr}");
    assert!(
        stderr.contains(&key.path().display().to_string()),
        "{stderr}"
    );
    for line in broken.lines().skip(1) {
        assert!(!stderr.contains(line), "key material leaked:\n{stderr}");
    }
    assert!(fake.seen.lock().unwrap().is_empty());
}

#[test]
fn fake_oauth_authorized_user_refresh_token_pushes() {
    let fake = GoogleFake::start(Behaviour::default());
    let registry = Registry::with_password("oauth2accesstoken", ACCESS_TOKEN);
    let image = format!("{}/kbundle/user:v1", registry.addr);
    let creds = authorized_user_file(&fake, REFRESH_TOKEN);
    let (code, stdout, stderr) = push_with_credentials_file(&image, creds.path());
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert_eq!(*fake.seen.lock().unwrap(), ["POST /token"]);
}

#[test]
fn fake_oauth_authorized_user_revoked_refresh_token_is_refused() {
    let fake = GoogleFake::start(Behaviour::default());
    let creds = authorized_user_file(&fake, "1//revoked");
    let (code, stdout, stderr) =
        push_with_credentials_file("127.0.0.1:9/kbundle/refused:v1", creds.path());
    assert_eq!(code, 2, "{stdout}\n{stderr}");
    assert!(stderr.contains("HTTP 400: Bad Request"), "{stderr}");
    assert!(stderr.contains(CLIENT_ID), "{stderr}");
    assert!(!stderr.contains("1//revoked"), "{stderr}");
}
