//! Google Artifact Registry login without keys, against a local fake of the Google and GitHub
//! endpoints (`support/google_fake.rs`) and a real registry that accepts `oauth2accesstoken`
//! with the token the fake issues.

#[path = "support/google_cli.rs"]
mod google_cli;
#[path = "support/google_fake.rs"]
mod google_fake;
mod support;

use google_cli::{
    assert_no_tokens, examples_path, external_account_file, inspect_with_token, kbundle,
    push_with_google_auth, service_account_file,
};
use google_fake::{
    ACCESS_TOKEN, Behaviour, FEDERATED_TOKEN, GoogleFake, PROVIDER, REQUEST_TOKEN, SERVICE_ACCOUNT,
    SERVICE_ACCOUNT_KEY,
};
use support::Registry;

#[test]
fn fake_external_account_file_pushes_to_a_registry_with_the_impersonated_token() {
    let fake = GoogleFake::start(Behaviour::default());
    let registry = Registry::with_password("oauth2accesstoken", ACCESS_TOKEN);
    let image = format!("{}/kbundle/google:v1", registry.addr);
    let creds = external_account_file(&fake, PROVIDER, SERVICE_ACCOUNT);
    let creds_path = creds.path().to_str().expect("utf-8 path");
    let (code, stdout, stderr) =
        push_with_google_auth(&image, &[("GOOGLE_APPLICATION_CREDENTIALS", creds_path)]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert_no_tokens(&stdout, &stderr);
    let seen = fake.seen.lock().unwrap().clone();
    assert_eq!(
        seen,
        [
            "GET /oidc/token".to_owned(),
            "POST /v1/token".to_owned(),
            format!("POST /v1/projects/-/serviceAccounts/{SERVICE_ACCOUNT}:generateAccessToken"),
        ]
    );
    let out = inspect_with_token(&image, ACCESS_TOKEN);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn direct_args<'a>(fake: &'a GoogleFake, image: &'a str, sa: &'a str) -> Vec<&'a str> {
    vec![
        "push",
        "--image",
        image,
        "--workload-identity-provider",
        PROVIDER,
        "--service-account",
        sa,
        "--sts-endpoint",
        &fake.url,
        "--iamcredentials-endpoint",
        &fake.url,
    ]
}

#[test]
fn fake_actions_oidc_workload_identity_masks_tokens_and_pushes() {
    let fake = GoogleFake::start(Behaviour::default());
    let registry = Registry::with_password("oauth2accesstoken", ACCESS_TOKEN);
    let image = format!("{}/kbundle/direct:v1", registry.addr);
    let path = examples_path();
    let mut args = direct_args(&fake, &image, SERVICE_ACCOUNT);
    args.insert(1, &path);
    let request_url = fake.oidc_request_url();
    let (code, stdout, stderr) = kbundle(
        &args,
        &[
            ("GITHUB_ACTIONS", "true"),
            ("ACTIONS_ID_TOKEN_REQUEST_URL", &request_url),
            ("ACTIONS_ID_TOKEN_REQUEST_TOKEN", REQUEST_TOKEN),
        ],
    );
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    for token in [REQUEST_TOKEN, FEDERATED_TOKEN, ACCESS_TOKEN] {
        assert!(
            stdout.contains(&format!("::add-mask::{token}\n")),
            "{token} not masked:\n{stdout}"
        );
    }
    assert!(stdout.contains("::add-mask::eyJhbGciOiJSUzI1NiJ9.fake-id-token-0.sig"));
    // Each mask comes before the line that reports the push.
    let last_mask = stdout.rfind("::add-mask::").expect("masks");
    let pushed = stdout.find(&image).expect("pushed reference");
    assert!(last_mask < pushed, "{stdout}");
    assert_no_tokens(&stdout, &stderr);
}

fn refused(behaviour: Behaviour, provider: &str, sa: &str) -> (i32, String, String) {
    let fake = GoogleFake::start(behaviour);
    // Nothing listens here: the login must fail before any registry request.
    let image = "127.0.0.1:9/kbundle/refused:v1".to_owned();
    let path = examples_path();
    let args = [
        "push",
        path.as_str(),
        "--image",
        &image,
        "--workload-identity-provider",
        provider,
        "--service-account",
        sa,
        "--sts-endpoint",
        &fake.url,
        "--iamcredentials-endpoint",
        &fake.url,
    ];
    let request_url = fake.oidc_request_url();
    let out = kbundle(
        &args,
        &[
            ("ACTIONS_ID_TOKEN_REQUEST_URL", &request_url),
            ("ACTIONS_ID_TOKEN_REQUEST_TOKEN", REQUEST_TOKEN),
        ],
    );
    assert_no_tokens(&out.1, &out.2);
    out
}

#[test]
fn fake_sts_wrong_audience_shows_googles_message_and_the_audience() {
    // The ID token is requested for another provider than the one the STS audience names.
    let fake = GoogleFake::start(Behaviour::default());
    let other = "projects/123456789/locations/global/workloadIdentityPools/github/providers/other";
    let creds = external_account_file(&fake, other, SERVICE_ACCOUNT);
    let creds_path = creds.path().to_str().expect("utf-8 path");
    let (code, stdout, stderr) = push_with_google_auth(
        "127.0.0.1:9/kbundle/refused:v1",
        &[("GOOGLE_APPLICATION_CREDENTIALS", creds_path)],
    );
    assert_eq!(code, 2, "{stdout}\n{stderr}");
    assert!(
        stderr.contains(&format!(
            "The audience in ID Token [https://iam.googleapis.com/{other}] does not match the expected audience"
        )),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!("audience //iam.googleapis.com/{PROVIDER}")),
        "{stderr}"
    );
    assert!(
        stderr.contains("the OIDC token was requested for another provider"),
        "{stderr}"
    );
    assert_no_tokens(&stdout, &stderr);
}

#[test]
fn fake_sts_unknown_provider_is_refused() {
    let other = "projects/123456789/locations/global/workloadIdentityPools/github/providers/other";
    let (code, stdout, stderr) = refused(
        Behaviour {
            provider: other.to_owned(),
            ..Behaviour::default()
        },
        PROVIDER,
        SERVICE_ACCOUNT,
    );
    assert_eq!(code, 2, "{stdout}\n{stderr}");
    assert!(
        stderr.contains("The target service indicated by the \"audience\" parameters is invalid"),
        "{stderr}"
    );
    assert!(stderr.contains(PROVIDER), "{stderr}");
}

#[test]
fn fake_sts_expired_id_token_fails_with_googles_message() {
    let (code, stdout, stderr) = refused(
        Behaviour {
            expired: true,
            ..Behaviour::default()
        },
        PROVIDER,
        SERVICE_ACCOUNT,
    );
    assert_eq!(code, 2, "{stdout}\n{stderr}");
    assert!(stderr.contains("ID Token expired"), "{stderr}");
    assert!(
        stderr.contains("invalid_grant") || stderr.contains("HTTP 400"),
        "{stderr}"
    );
    assert!(stderr.contains(PROVIDER), "{stderr}");
}

#[test]
fn fake_iam_missing_permission_names_the_service_account() {
    let (code, stdout, stderr) = refused(
        Behaviour {
            deny: true,
            ..Behaviour::default()
        },
        PROVIDER,
        SERVICE_ACCOUNT,
    );
    assert_eq!(code, 2, "{stdout}\n{stderr}");
    assert!(
        stderr.contains("Permission 'iam.serviceAccounts.getAccessToken' denied"),
        "{stderr}"
    );
    assert!(stderr.contains(SERVICE_ACCOUNT), "{stderr}");
    assert!(
        stderr.contains("roles/iam.workloadIdentityUser"),
        "{stderr}"
    );
}

#[test]
fn fake_actions_without_id_token_permission_says_so() {
    let path = examples_path();
    let (code, stdout, stderr) = kbundle(
        &[
            "push",
            &path,
            "--image",
            "us-docker.pkg.dev/p/config/root:v1",
            "--workload-identity-provider",
            PROVIDER,
        ],
        &[("GITHUB_ACTIONS", "true")],
    );
    assert_eq!(code, 2, "{stdout}\n{stderr}");
    assert!(stderr.contains("id-token: write"), "{stderr}");
}

#[test]
fn fake_metadata_server_token_is_used_for_google_auth() {
    let fake = GoogleFake::start(Behaviour::default());
    let registry = Registry::with_password("oauth2accesstoken", ACCESS_TOKEN);
    let image = format!("{}/kbundle/metadata:v1", registry.addr);
    let host = fake.metadata_host();
    let (code, stdout, stderr) = push_with_google_auth(&image, &[("GCE_METADATA_HOST", &host)]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert_eq!(
        *fake.seen.lock().unwrap(),
        ["GET /computeMetadata/v1/instance/service-accounts/default/token"]
    );
}

#[test]
fn fake_auth_google_without_any_source_is_a_usage_error() {
    // A metadata host that refuses connections: no source at all.
    let (code, stdout, stderr) = push_with_google_auth(
        "127.0.0.1:9/kbundle/none:v1",
        &[("GCE_METADATA_HOST", "127.0.0.1:9")],
    );
    assert_eq!(code, 2, "{stdout}\n{stderr}");
    assert!(stderr.contains("no Google credentials found"), "{stderr}");
}

#[test]
fn fake_explicit_workload_identity_provider_wins_over_google_application_credentials() {
    let fake = GoogleFake::start(Behaviour::default());
    let registry = Registry::with_password("oauth2accesstoken", ACCESS_TOKEN);
    let image = format!("{}/kbundle/precedence:v1", registry.addr);
    // A working key file is in the environment too; the flag must still decide.
    let key = service_account_file(&fake, SERVICE_ACCOUNT, SERVICE_ACCOUNT_KEY);
    let path = examples_path();
    let mut args = direct_args(&fake, &image, SERVICE_ACCOUNT);
    args.insert(1, &path);
    let request_url = fake.oidc_request_url();
    let (code, stdout, stderr) = kbundle(
        &args,
        &[
            ("ACTIONS_ID_TOKEN_REQUEST_URL", &request_url),
            ("ACTIONS_ID_TOKEN_REQUEST_TOKEN", REQUEST_TOKEN),
            (
                "GOOGLE_APPLICATION_CREDENTIALS",
                key.path().to_str().expect("utf-8 path"),
            ),
        ],
    );
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert_eq!(
        *fake.seen.lock().unwrap(),
        [
            "GET /oidc/token".to_owned(),
            "POST /v1/token".to_owned(),
            format!("POST /v1/projects/-/serviceAccounts/{SERVICE_ACCOUNT}:generateAccessToken"),
        ]
    );
    assert_no_tokens(&stdout, &stderr);
}

#[test]
fn fake_google_application_credentials_win_over_the_metadata_server() {
    let fake = GoogleFake::start(Behaviour::default());
    let registry = Registry::with_password("oauth2accesstoken", ACCESS_TOKEN);
    let image = format!("{}/kbundle/precedence:v2", registry.addr);
    let key = service_account_file(&fake, SERVICE_ACCOUNT, SERVICE_ACCOUNT_KEY);
    let host = fake.metadata_host();
    let (code, stdout, stderr) = push_with_google_auth(
        &image,
        &[
            ("GCE_METADATA_HOST", &host),
            (
                "GOOGLE_APPLICATION_CREDENTIALS",
                key.path().to_str().expect("utf-8 path"),
            ),
        ],
    );
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert_eq!(*fake.seen.lock().unwrap(), ["POST /token"]);
}

#[test]
fn help_documents_the_google_credential_order() {
    let (code, stdout, _) = kbundle(&["push", "--help"], &[]);
    assert_eq!(code, 0);
    let text = stdout.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        text.contains(
            "Google credentials are taken from the first of: --workload-identity-provider, the \
             file GOOGLE_APPLICATION_CREDENTIALS names"
        ),
        "{stdout}"
    );
}

#[test]
fn fake_sts_attribute_condition_rejection_says_what_to_check() {
    let (code, stdout, stderr) = refused(
        Behaviour {
            condition_rejects: true,
            ..Behaviour::default()
        },
        PROVIDER,
        SERVICE_ACCOUNT,
    );
    assert_eq!(code, 2, "{stdout}\n{stderr}");
    assert!(
        stderr.contains("The given credential is rejected by the attribute condition."),
        "{stderr}"
    );
    assert!(
        stderr.contains("attribute condition does not accept"),
        "{stderr}"
    );
    assert!(stderr.contains(PROVIDER), "{stderr}");
}

fn sts_requests(fake: &GoogleFake) -> usize {
    let seen = fake.seen.lock().unwrap();
    seen.iter().filter(|r| *r == "POST /v1/token").count()
}

#[test]
fn fake_sts_503_is_retried_with_backoff_and_the_push_succeeds() {
    let fake = GoogleFake::start(Behaviour {
        unavailable: 2,
        ..Behaviour::default()
    });
    let registry = Registry::with_password("oauth2accesstoken", ACCESS_TOKEN);
    let image = format!("{}/kbundle/retry:v1", registry.addr);
    let path = examples_path();
    let mut args = direct_args(&fake, &image, SERVICE_ACCOUNT);
    args.insert(1, &path);
    let request_url = fake.oidc_request_url();
    let (code, stdout, stderr) = kbundle(
        &args,
        &[
            ("ACTIONS_ID_TOKEN_REQUEST_URL", &request_url),
            ("ACTIONS_ID_TOKEN_REQUEST_TOKEN", REQUEST_TOKEN),
        ],
    );
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert_eq!(sts_requests(&fake), 3);
}

#[test]
fn fake_sts_still_unavailable_after_retries_fails_with_googles_message() {
    let fake = GoogleFake::start(Behaviour {
        unavailable: usize::MAX,
        ..Behaviour::default()
    });
    let path = examples_path();
    let mut args = direct_args(&fake, "127.0.0.1:9/kbundle/refused:v1", SERVICE_ACCOUNT);
    args.insert(1, &path);
    let request_url = fake.oidc_request_url();
    let (code, stdout, stderr) = kbundle(
        &args,
        &[
            ("ACTIONS_ID_TOKEN_REQUEST_URL", &request_url),
            ("ACTIONS_ID_TOKEN_REQUEST_TOKEN", REQUEST_TOKEN),
        ],
    );
    assert_eq!(code, 2, "{stdout}\n{stderr}");
    assert!(
        stderr.contains("HTTP 503: The service is currently unavailable."),
        "{stderr}"
    );
    // One attempt and three retries, then the error.
    assert_eq!(sts_requests(&fake), 4);
    assert_no_tokens(&stdout, &stderr);
}
