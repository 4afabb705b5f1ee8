//! The registry path as Artifact Registry runs it: the real registry (Debian's docker-registry)
//! in `auth: token` mode, trusting a local token service that follows the Docker registry token
//! protocol (`support/token_service.rs`): Basic `oauth2accesstoken:<Google access token>`,
//! scopes granted per repository from each test's table, JWTs the registry verifies itself.

#[path = "support/google_cli.rs"]
mod google_cli;
#[path = "support/google_fake.rs"]
mod google_fake;
mod support;
// Both fakes read requests with support/http1.rs.
#[allow(clippy::duplicate_mod)]
#[path = "support/token_service.rs"]
mod token_service;

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use support::{assert_no_secrets, examples, skopeo};
use token_service::{Grant, Policy, TokenRegistry, signature};

/// A Google access token as the metadata server or IAM would hand it out.
const TOKEN: &str = "ya29.a0Kx7QzR3vN8mPw2LtY6";
/// Another identity: may pull, not push.
const READER: &str = "ya29.b1Jq4WcS9uE5hGd0FrT3";

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

/// Runs kbundle in `dir` with `DOCKER_CONFIG` at `dir/docker` (written by `docker_login`),
/// `stdin` piped in.
fn kbundle(dir: &Path, args: &[&str], stdin: &str) -> Run {
    let mut child = Command::new(env!("CARGO_BIN_EXE_kbundle"))
        .current_dir(dir)
        .args(args)
        .env("DOCKER_CONFIG", dir.join("docker"))
        .env("COSIGN_PASSWORD", "pw")
        .env("SOURCE_DATE_EPOCH", "1700000000")
        .env_remove("GOOGLE_APPLICATION_CREDENTIALS")
        .env_remove("GCE_METADATA_HOST")
        .env_remove("GITHUB_ACTIONS")
        .env_remove("ACTIONS_ID_TOKEN_REQUEST_URL")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start kbundle");
    let mut input = child.stdin.take().expect("stdin");
    input.write_all(stdin.as_bytes()).expect("write stdin");
    drop(input);
    let out = child.wait_with_output().expect("run kbundle");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// `docker login -u oauth2accesstoken` as `gcloud auth print-access-token | docker login`
/// leaves it: an `auths` entry for the registry host.
fn docker_login(dir: &Path, host: &str, token: &str) {
    use base64::Engine as _;
    let auth =
        base64::engine::general_purpose::STANDARD.encode(format!("oauth2accesstoken:{token}"));
    std::fs::create_dir_all(dir.join("docker")).expect("docker dir");
    std::fs::write(
        dir.join("docker/config.json"),
        serde_json::json!({"auths": {host: {"auth": auth}}}).to_string(),
    )
    .expect("write docker config");
}

fn ok(run: &Run) {
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
}

fn digest_of(run: &Run) -> String {
    run.stdout
        .trim()
        .rsplit_once('@')
        .map(|(_, d)| d.to_owned())
        .expect("REF@DIGEST")
}

fn examples_arg() -> String {
    examples().to_str().expect("utf-8 path").to_owned()
}

/// What the registry holds under a reference, read by skopeo with its own token flow.
fn inspect(image: &str, token: Option<&str>) -> Option<serde_json::Value> {
    let creds = token.map(TokenRegistry::creds);
    let mut args = vec!["inspect", "--raw"];
    if let Some(c) = &creds {
        args.extend(["--creds", c]);
    }
    let target = format!("docker://{image}");
    args.push(&target);
    let out = skopeo(&args);
    out.status
        .success()
        .then(|| serde_json::from_slice(&out.stdout).expect("manifest JSON"))
}

fn keys(dir: &Path) {
    ok(&kbundle(dir, &["keygen"], ""));
}

/// Every secret of a run: the Google tokens and each registry token issued.
fn secrets(registry: &TokenRegistry) -> Vec<String> {
    let mut all = vec![TOKEN.to_owned(), READER.to_owned()];
    // A JWT's header and claims are JSON anyone could write; its signature is the secret.
    all.extend(
        registry
            .tokens
            .issued()
            .into_iter()
            .map(|i| signature(&i.token)),
    );
    all
}

fn no_leak(registry: &TokenRegistry, run: &Run) {
    let secrets = secrets(registry);
    let refs: Vec<&str> = secrets.iter().map(String::as_str).collect();
    assert_no_secrets(&run.stdout, &run.stderr, &refs);
}

#[test]
fn push_pull_sign_verify_for_each_artifact_kind() {
    let registry = TokenRegistry::start(Policy::writer(TOKEN));
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    docker_login(d, &registry.addr, TOKEN);
    keys(d);
    for kind in ["configsync", "flux", "oras"] {
        let image = format!("{}/proj/repo/{kind}:v1", registry.addr);
        let pushed = kbundle(
            d,
            &[
                "push",
                &examples_arg(),
                "--image",
                &image,
                "--artifact",
                kind,
            ],
            "",
        );
        ok(&pushed);
        let digest = digest_of(&pushed);
        let manifest = inspect(&image, Some(TOKEN)).expect("skopeo reads the pushed tag");
        assert_eq!(
            manifest["layers"].as_array().map(Vec::len),
            Some(1),
            "{manifest}"
        );
        let out = d.join(format!("pulled-{kind}"));
        ok(&kbundle(
            d,
            &["pull", &image, "-o", out.to_str().expect("utf-8")],
            "",
        ));
        assert_eq!(
            std::fs::read(out.join("shop/deployment.yaml")).ok(),
            std::fs::read(examples().join("shop/deployment.yaml")).ok(),
            "{kind}: pulled tree differs"
        );
        ok(&kbundle(d, &["sign", &image, "--key", "cosign.key"], ""));
        let verified = kbundle(d, &["verify", &image, "--key", "cosign.pub"], "");
        ok(&verified);
        assert!(verified.stdout.contains(&digest) || verified.stderr.contains(&digest));
        no_leak(&registry, &verified);
    }
    // The registry checked tokens the service issued for push, on each repository.
    let issued = registry.tokens.issued();
    for kind in ["configsync", "flux", "oras"] {
        let repo = format!("proj/repo/{kind}");
        assert!(
            issued.iter().any(|i| i
                .access
                .iter()
                .any(|(n, a)| *n == repo && a.iter().any(|a| a == "push"))),
            "no push token for {repo}: {issued:?}"
        );
    }
}

#[test]
fn promote_within_and_across_repositories_with_password_stdin() {
    let registry = TokenRegistry::start(Policy::writer(TOKEN));
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    keys(d);
    let login = ["--username", "oauth2accesstoken", "--password-stdin"];
    let src = format!("{}/proj/staging/app:v1", registry.addr);
    let mut push = vec!["push", "--image", &src];
    let ex = examples_arg();
    push.insert(1, &ex);
    push.extend(login);
    ok(&kbundle(d, &push, &format!("{TOKEN}\n")));
    let mut sign = vec!["sign", &src, "--key", "cosign.key"];
    sign.extend(login);
    ok(&kbundle(d, &sign, TOKEN));

    // Within the repository: a new tag. Across: another repository of the same registry.
    for dst in [
        format!("{}/proj/staging/app:v1-approved", registry.addr),
        format!("{}/proj/prod/app:v1", registry.addr),
    ] {
        let before = registry.tokens.count();
        let mut promote = vec!["promote", "-vv", &src, &dst, "--key", "cosign.pub"];
        promote.extend(login);
        let run = kbundle(d, &promote, &format!("{TOKEN}\n"));
        ok(&run);
        no_leak(&registry, &run);
        assert!(
            run.stdout.starts_with(&format!("{dst}@sha256:")),
            "{}",
            run.stdout
        );
        let src_manifest = inspect(&src, Some(TOKEN)).expect("source");
        let dst_manifest = inspect(&dst, Some(TOKEN)).expect("promoted tag");
        assert_eq!(src_manifest, dst_manifest);
        let verified = kbundle(d, &["verify", &dst, "--key", "cosign.pub"], "");
        // No docker config: the registry wants a token even to pull.
        assert_eq!(verified.code, 2, "{}", verified.stderr);
        let mut verify = vec!["verify", &dst, "--key", "cosign.pub"];
        verify.extend(login);
        ok(&kbundle(d, &verify, TOKEN));
        if dst.contains("/prod/") {
            // The cross-repository mount: one token with pull on the source and push on the
            // destination, as the registry demands for `POST …/blobs/uploads/?mount=…&from=…`.
            let issued = registry.tokens.issued();
            let mount = issued[before..].iter().find(|i| {
                let has = |repo: &str, action: &str| {
                    i.access
                        .iter()
                        .any(|(n, a)| n == repo && a.iter().any(|x| x == action))
                };
                has("proj/staging/app", "pull") && has("proj/prod/app", "push")
            });
            assert!(mount.is_some(), "no mount token: {:?}", &issued[before..]);
            // and the registry took it: the blobs were mounted, not copied through kbundle.
            let mounted = run.stderr.matches("mounted sha256:").count();
            assert!(mounted >= 2, "{mounted} blobs mounted:\n{}", run.stderr);
        }
    }
}

#[test]
fn anonymous_pull_of_a_public_repository_uses_an_anonymous_token() {
    let mut policy = Policy::writer(TOKEN);
    policy.grants.push(Grant::public("public/*"));
    let registry = TokenRegistry::start(policy);
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let image = format!("{}/public/app:v1", registry.addr);
    docker_login(d, &registry.addr, TOKEN);
    ok(&kbundle(
        d,
        &["push", &examples_arg(), "--image", &image],
        "",
    ));
    std::fs::remove_dir_all(d.join("docker")).expect("log out");

    let before = registry.tokens.count();
    let out = d.join("pulled");
    ok(&kbundle(
        d,
        &["pull", &image, "-o", out.to_str().expect("utf-8")],
        "",
    ));
    let issued = registry.tokens.issued();
    assert!(
        issued[before..].iter().all(|i| i.login.is_none()) && issued.len() > before,
        "{:?}",
        &issued[before..]
    );
    // A private repository stays closed to the anonymous token.
    let private = format!("{}/proj/private:v1", registry.addr);
    docker_login(d, &registry.addr, TOKEN);
    ok(&kbundle(
        d,
        &["push", &examples_arg(), "--image", &private],
        "",
    ));
    std::fs::remove_dir_all(d.join("docker")).expect("log out");
    let refused = kbundle(
        d,
        &[
            "pull",
            &private,
            "-o",
            d.join("p2").to_str().expect("utf-8"),
        ],
        "",
    );
    assert_eq!(refused.code, 2, "{}", refused.stderr);
}

#[test]
fn push_without_push_scope_names_the_repository_and_the_permission_and_writes_no_tag() {
    let mut policy = Policy::writer(TOKEN);
    policy.tokens.push(READER.to_owned());
    policy.grants.push(Grant::to(READER, "*", &["pull"]));
    let registry = TokenRegistry::start(policy);
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let image = format!("{}/proj/repo/app:v1", registry.addr);
    docker_login(d, &registry.addr, READER);
    let run = kbundle(d, &["push", &examples_arg(), "--image", &image, "-vvv"], "");
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("proj/repo/app") && run.stderr.contains("push"),
        "{}",
        run.stderr
    );
    let error = run
        .stderr
        .lines()
        .find(|l| l.starts_with("kbundle: error"))
        .unwrap_or_default();
    assert!(
        !error.contains("{\"errors\"") && error.contains("grant"),
        "not what to grant: {error}\n{}",
        run.stderr
    );
    no_leak(&registry, &run);
    assert!(inspect(&image, Some(TOKEN)).is_none(), "a tag was written");
}

#[test]
fn tokens_that_expire_during_the_run_are_fetched_again() {
    // Every token's `exp` has passed when it is issued; the registry still honours it (60 s of
    // skew), so a client that reuses it past its `exp` would still work: the test counts the
    // tokens fetched to see that the client renews instead.
    let mut policy = Policy::writer(TOKEN);
    policy.lifetime = -20;
    let registry = TokenRegistry::start(policy);
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    docker_login(d, &registry.addr, TOKEN);
    keys(d);
    let image = format!("{}/proj/repo/short:v1", registry.addr);
    ok(&kbundle(
        d,
        &["push", &examples_arg(), "--image", &image],
        "",
    ));
    let after_push = registry.tokens.count();
    assert!(after_push >= 3, "push fetched only {after_push} tokens");
    ok(&kbundle(d, &["sign", &image, "--key", "cosign.key"], ""));
    let dst = format!("{}/proj/other/short:v1", registry.addr);
    ok(&kbundle(
        d,
        &["promote", &image, &dst, "--key", "cosign.pub"],
        "",
    ));
    assert!(inspect(&dst, Some(TOKEN)).is_some());
}

#[test]
fn no_token_in_output_at_vvv() {
    let registry = TokenRegistry::start(Policy::writer(TOKEN));
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    docker_login(d, &registry.addr, TOKEN);
    keys(d);
    let image = format!("{}/proj/repo/quiet:v1", registry.addr);
    let dst = format!("{}/proj/other/quiet:v1", registry.addr);
    for args in [
        vec!["push", "-vvv", &examples_arg(), "--image", &image],
        vec!["sign", "-vvv", &image, "--key", "cosign.key"],
        vec!["verify", "-vvv", &image, "--key", "cosign.pub"],
        vec!["promote", "-vvv", &image, &dst, "--key", "cosign.pub"],
    ]
    .iter()
    .map(|a| a.iter().map(|s| s.to_string()).collect::<Vec<_>>())
    {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let run = kbundle(d, &args, "");
        ok(&run);
        assert!(run.stderr.contains("DEBUG") || run.stderr.contains("TRACE"));
        no_leak(&registry, &run);
    }
}

#[test]
fn fake_workload_identity_publish_reaches_the_registry_through_its_token_service() {
    use google_fake::{
        ACCESS_TOKEN, Behaviour, GoogleFake, PROVIDER, REQUEST_TOKEN, SERVICE_ACCOUNT,
    };
    // GitHub's OIDC token → STS → IAM generateAccessToken → the registry's token service, which
    // accepts exactly the access token IAM issued.
    let fake = GoogleFake::start(Behaviour::default());
    let registry = TokenRegistry::start(Policy::writer(ACCESS_TOKEN));
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    keys(d);
    let key = d.join("cosign.key");
    let image = format!("{}/proj/repo/published:v1", registry.addr);
    let request_url = fake.oidc_request_url();
    let (code, stdout, stderr) = google_cli::kbundle(
        &[
            "publish",
            "-vvv",
            &examples_arg(),
            "--image",
            &image,
            "--key",
            key.to_str().expect("utf-8"),
            "--workload-identity-provider",
            PROVIDER,
            "--service-account",
            SERVICE_ACCOUNT,
            "--sts-endpoint",
            &fake.url,
            "--iamcredentials-endpoint",
            &fake.url,
        ],
        &[
            ("GITHUB_ACTIONS", "true"),
            ("ACTIONS_ID_TOKEN_REQUEST_URL", &request_url),
            ("ACTIONS_ID_TOKEN_REQUEST_TOKEN", REQUEST_TOKEN),
            ("COSIGN_PASSWORD", "pw"),
        ],
    );
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    google_cli::assert_no_tokens(&stdout, &stderr);
    let issued = secrets(&registry);
    let issued: Vec<&str> = issued.iter().map(String::as_str).collect();
    assert_no_secrets(&stdout, &stderr, &issued);
    assert!(
        registry
            .tokens
            .issued()
            .iter()
            .any(|i| i.login.as_deref() == Some(ACCESS_TOKEN)
                && i.access.iter().any(|(_, a)| a.iter().any(|x| x == "push"))),
        "no push token for the IAM access token"
    );
    // Pushed and signed: the registry serves both, and the signature verifies.
    assert!(inspect(&image, Some(ACCESS_TOKEN)).is_some());
    let mut verify = vec!["verify", &image, "--key", "cosign.pub"];
    verify.extend(["--username", "oauth2accesstoken", "--password-stdin"]);
    ok(&kbundle(d, &verify, ACCESS_TOKEN));
}

#[test]
fn a_token_refused_before_its_exp_is_fetched_again_once_for_push_pull_and_verify() {
    // The token service's clock runs an hour ahead for one token: the client sees a token
    // good for five minutes, the registry refuses it as not yet valid. One fresh token and a
    // retry must carry the command, not a failure.
    let registry = TokenRegistry::start(Policy::writer(TOKEN));
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    docker_login(d, &registry.addr, TOKEN);
    keys(d);
    let image = format!("{}/proj/repo/skew:v1", registry.addr);
    let step = |args: &[&str]| {
        registry.tokens.skew_next(&[3600]);
        let before = registry.tokens.count();
        let run = kbundle(d, args, "");
        ok(&run);
        no_leak(&registry, &run);
        (run, registry.tokens.count() - before)
    };
    let (pushed, tokens) = step(&["push", &examples_arg(), "--image", &image]);
    assert_eq!(tokens, 2, "push: the refused token and one fresh one");
    let digest = digest_of(&pushed);
    let manifest = inspect(&image, Some(TOKEN)).expect("skopeo reads the pushed tag");
    assert_eq!(manifest["layers"].as_array().map(Vec::len), Some(1));
    let out = d.join("pulled");
    let (_, tokens) = step(&["pull", &image, "-o", out.to_str().expect("utf-8")]);
    assert_eq!(tokens, 2, "pull: the refused token and one fresh one");
    assert!(out.join("shop/deployment.yaml").is_file());
    ok(&kbundle(d, &["sign", &image, "--key", "cosign.key"], ""));
    let (verified, _) = step(&["verify", &image, "--key", "cosign.pub"]);
    assert!(verified.stdout.contains(&digest) || verified.stderr.contains(&digest));
}

#[test]
fn a_fresh_token_refused_too_fails_the_push_after_one_retry_and_writes_no_tag() {
    let registry = TokenRegistry::start(Policy::writer(TOKEN));
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    docker_login(d, &registry.addr, TOKEN);
    let image = format!("{}/proj/repo/skewed:v1", registry.addr);
    registry.tokens.skew_next(&[3600, 3600]);
    let run = kbundle(d, &["push", &examples_arg(), "--image", &image], "");
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("proj/repo/skewed"), "{}", run.stderr);
    assert_eq!(registry.tokens.count(), 2, "one retry, not a loop");
    no_leak(&registry, &run);
    assert!(inspect(&image, Some(TOKEN)).is_none(), "a tag was written");
}
