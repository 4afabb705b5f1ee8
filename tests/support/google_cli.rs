//! How the Google login tests run kbundle: a clean environment, and a check that no token or
//! key reaches the output.

#![allow(dead_code)]

use crate::google_fake::{
    ACCESS_TOKEN, CLIENT_ID, CLIENT_SECRET, FEDERATED_TOKEN, GoogleFake, PROVIDER, REFRESH_TOKEN,
    REQUEST_TOKEN, SERVICE_ACCOUNT_KEY, SERVICE_ACCOUNT_KEY_ID,
};
use crate::support::examples;

pub const ENV_CLEARED: [&str; 8] = [
    "GOOGLE_APPLICATION_CREDENTIALS",
    "ACTIONS_ID_TOKEN_REQUEST_URL",
    "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
    "GITHUB_ACTIONS",
    "GCE_METADATA_HOST",
    "GITHUB_SHA",
    "GITHUB_REPOSITORY",
    "GITHUB_OUTPUT",
];

pub fn kbundle(args: &[&str], env: &[(&str, &str)]) -> (i32, String, String) {
    crate::support::run_clean(args, &ENV_CLEARED, env)
}

/// No token appears anywhere except in the runner's `::add-mask::` commands.
pub fn assert_no_tokens(stdout: &str, stderr: &str) {
    let key_body = SERVICE_ACCOUNT_KEY.lines().nth(1).unwrap_or("-----");
    crate::support::assert_no_secrets(
        stdout,
        stderr,
        &[
            REQUEST_TOKEN,
            FEDERATED_TOKEN,
            ACCESS_TOKEN,
            "fake-id-token",
            CLIENT_SECRET,
            REFRESH_TOKEN,
            key_body,
        ],
    );
}

pub fn examples_path() -> String {
    examples().to_str().unwrap_or(".").to_owned()
}

/// `push` of the examples to `image` with `--auth google`.
pub fn push_with_google_auth(image: &str, env: &[(&str, &str)]) -> (i32, String, String) {
    kbundle(
        &[
            "push",
            &examples_path(),
            "--image",
            image,
            "--auth",
            "google",
        ],
        env,
    )
}

/// `skopeo inspect` of `image` logged in as Artifact Registry takes a Google access token.
pub fn inspect_with_token(image: &str, token: &str) -> std::process::Output {
    crate::support::skopeo(&[
        "inspect",
        "--creds",
        &format!("oauth2accesstoken:{token}"),
        &format!("docker://{image}"),
    ])
}

/// A JSON key file as the Cloud console downloads it, with `token_uri` pointed at the fake.
pub fn service_account_file(fake: &GoogleFake, email: &str, key: &str) -> tempfile::NamedTempFile {
    let file = tempfile::NamedTempFile::new().expect("temp file");
    let json = serde_json::json!({
        "type": "service_account",
        "project_id": "example-project",
        "private_key_id": SERVICE_ACCOUNT_KEY_ID,
        "private_key": key,
        "client_email": email,
        "client_id": "104857600000000000000",
        "auth_uri": "https://accounts.google.com/o/oauth2/auth",
        "token_uri": format!("{}/token", fake.url),
    });
    std::fs::write(file.path(), json.to_string()).expect("write key file");
    file
}

/// The external_account file google-github-actions/auth writes, pointed at the fake.
pub fn external_account_file(
    fake: &GoogleFake,
    provider: &str,
    sa: &str,
) -> tempfile::NamedTempFile {
    let file = tempfile::NamedTempFile::new().expect("temp file");
    let json = serde_json::json!({
        "type": "external_account",
        "audience": format!("//iam.googleapis.com/{PROVIDER}"),
        "subject_token_type": "urn:ietf:params:oauth:token-type:jwt",
        "token_url": format!("{}/v1/token", fake.url),
        "service_account_impersonation_url": format!(
            "{}/v1/projects/-/serviceAccounts/{sa}:generateAccessToken", fake.url
        ),
        "credential_source": {
            "url": format!("{}&audience=https://iam.googleapis.com/{provider}", fake.oidc_request_url()),
            "headers": {"Authorization": format!("Bearer {REQUEST_TOKEN}")},
            "format": {"type": "json", "subject_token_field_name": "value"}
        }
    });
    std::fs::write(file.path(), json.to_string()).expect("write credentials");
    file
}

/// The `authorized_user` file `gcloud auth application-default login` writes, pointed at the
/// fake.
pub fn authorized_user_file(fake: &GoogleFake, refresh_token: &str) -> tempfile::NamedTempFile {
    let file = tempfile::NamedTempFile::new().expect("temp file");
    let json = serde_json::json!({
        "type": "authorized_user",
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "refresh_token": refresh_token,
        "token_uri": format!("{}/token", fake.url),
    });
    std::fs::write(file.path(), json.to_string()).expect("write credentials");
    file
}
