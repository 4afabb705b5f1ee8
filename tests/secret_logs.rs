//! No credential reaches the output at the most verbose logging (issue 18, bug 6): every
//! source of a registry credential, run at `-vvv` and at `RUST_LOG=trace`, against the local
//! Google fake and a real registry with a password. The check (`support::assert_no_secrets`)
//! looks for any 8 characters of a secret, its hex (as a dependency's hex dump prints it,
//! split over lines) and its base64.

#[path = "support/google_cli.rs"]
mod google_cli;
#[path = "support/google_fake.rs"]
mod google_fake;
mod support;

use google_cli::{
    authorized_user_file, examples_path, external_account_file, kbundle, service_account_file,
};
use google_fake::{
    ACCESS_TOKEN, Behaviour, CLIENT_SECRET, FEDERATED_TOKEN, GoogleFake, PROVIDER, REFRESH_TOKEN,
    REQUEST_TOKEN, SERVICE_ACCOUNT, SERVICE_ACCOUNT_KEY,
};
use support::{Registry, assert_no_secrets};

/// The two ways to ask for everything: the flag, and the environment (which wins over it).
const LOUDEST: [(&str, Option<&str>); 2] = [("-vvv", None), ("-v", Some("trace"))];

/// Pushes with `--auth google` (or `auth` args) at each loudest setting; checks the push
/// worked and that none of `secrets` shows.
fn push_quietly(image: &str, auth: &[&str], env: &[(&str, &str)], secrets: &[&str]) {
    for (flag, rust_log) in LOUDEST {
        let path = examples_path();
        let mut args = vec![flag, "push", &path, "--image", image];
        args.extend_from_slice(auth);
        let mut env = env.to_vec();
        if let Some(level) = rust_log {
            env.push(("RUST_LOG", level));
        }
        let (code, stdout, stderr) = kbundle(&args, &env);
        assert_eq!(code, 0, "{flag} RUST_LOG={rust_log:?}:\n{stdout}\n{stderr}");
        assert!(
            stderr.lines().count() > 20,
            "{flag} RUST_LOG={rust_log:?} logged almost nothing, so proves nothing:\n{stderr}"
        );
        assert_no_secrets(&stdout, &stderr, secrets);
    }
}

fn key_body() -> &'static str {
    SERVICE_ACCOUNT_KEY.lines().nth(1).unwrap_or("-----")
}

#[test]
fn fake_metadata_server_token_is_not_logged_at_trace() {
    let fake = GoogleFake::start(Behaviour::default());
    let registry = Registry::with_password("oauth2accesstoken", ACCESS_TOKEN);
    let image = format!("{}/kbundle/metadata:v1", registry.addr);
    let host = fake.metadata_host();
    push_quietly(
        &image,
        &["--auth", "google"],
        &[("GCE_METADATA_HOST", &host)],
        &[ACCESS_TOKEN],
    );
}

#[test]
fn fake_sts_and_iam_tokens_and_the_actions_request_token_are_not_logged_at_trace() {
    let fake = GoogleFake::start(Behaviour::default());
    let registry = Registry::with_password("oauth2accesstoken", ACCESS_TOKEN);
    let image = format!("{}/kbundle/wif:v1", registry.addr);
    let file = external_account_file(&fake, PROVIDER, SERVICE_ACCOUNT);
    let creds = file.path().to_str().expect("utf-8 path");
    push_quietly(
        &image,
        &["--auth", "google"],
        &[("GOOGLE_APPLICATION_CREDENTIALS", creds)],
        &[
            REQUEST_TOKEN,
            "NiJ9.fake-id-tok",
            FEDERATED_TOKEN,
            ACCESS_TOKEN,
        ],
    );
}

#[test]
fn fake_oauth_service_account_key_and_its_token_are_not_logged_at_trace() {
    let fake = GoogleFake::start(Behaviour::default());
    let registry = Registry::with_password("oauth2accesstoken", ACCESS_TOKEN);
    let image = format!("{}/kbundle/service-account:v1", registry.addr);
    let key = service_account_file(&fake, SERVICE_ACCOUNT, SERVICE_ACCOUNT_KEY);
    let path = key.path().to_str().expect("utf-8 path");
    push_quietly(
        &image,
        &["--auth", "google"],
        &[("GOOGLE_APPLICATION_CREDENTIALS", path)],
        &[key_body(), ACCESS_TOKEN],
    );
}

#[test]
fn fake_oauth_refresh_token_and_client_secret_are_not_logged_at_trace() {
    let fake = GoogleFake::start(Behaviour::default());
    let registry = Registry::with_password("oauth2accesstoken", ACCESS_TOKEN);
    let image = format!("{}/kbundle/user:v1", registry.addr);
    let file = authorized_user_file(&fake, REFRESH_TOKEN);
    let path = file.path().to_str().expect("utf-8 path");
    push_quietly(
        &image,
        &["--auth", "google"],
        &[("GOOGLE_APPLICATION_CREDENTIALS", path)],
        &[CLIENT_SECRET, REFRESH_TOKEN, ACCESS_TOKEN],
    );
}

#[test]
fn a_docker_config_password_is_not_logged_at_trace() {
    let password = "Zq8-docker-Pw-41xv";
    let registry = Registry::with_password("ci", password);
    let image = format!("{}/kbundle/private:v1", registry.addr);
    let config = tempfile::tempdir().expect("tempdir");
    let auth = {
        use base64::Engine as _;
        base64::engine::general_purpose::STANDARD.encode(format!("ci:{password}"))
    };
    std::fs::write(
        config.path().join("config.json"),
        format!(r#"{{"auths":{{"{}":{{"auth":"{auth}"}}}}}}"#, registry.addr),
    )
    .expect("write config");
    let dir = config.path().to_str().expect("utf-8");
    push_quietly(&image, &[], &[("DOCKER_CONFIG", dir)], &[password]);
}
