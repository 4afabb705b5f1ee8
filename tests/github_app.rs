//! GitHub App credentials (`--app-id`, `--app-private-key`): the JWT finds the installation,
//! the installation token (scoped to the repository) does the work. Every request is checked
//! against GitHub's own OpenAPI description, served by Prism; the proxy in front swaps in a
//! RootSync and an unexpired token, or answers 401/404 to test the errors.

#[path = "support/prism.rs"]
mod prism;
mod support;

use std::path::{Path, PathBuf};
use std::sync::LazyLock;

use base64::Engine;
use prism::{Exchange, Prism, Proxy, root_sync_base64, serve_file};

static PRISM: LazyLock<Prism> = LazyLock::new(Prism::start);

const DIGEST: &str = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
const APP_ID: &str = "12345";
const INSTALLATION_TOKEN: &str = "ghs_Xq7Lk2Vn9Rt4Wm8Pz3Yb6Hc1Jd5Fg0Ks2";

fn key_file() -> PathBuf {
    // A throwaway key made with `openssl genrsa -traditional 2048` for these tests only.
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/github/app-private-key.pem")
}

type Rewrite = dyn Fn(&str, &str, &mut serde_json::Value) -> Option<u16> + Send + Sync;

/// A proxy that serves a RootSync as the fleet file and a token valid for an hour, after
/// `extra` had its say.
fn proxy(extra: Box<Rewrite>) -> Proxy {
    let encoded = root_sync_base64();
    Proxy::start(
        &PRISM.url,
        Box::new(move |method, path, json| {
            if let Some(status) = extra(method, path, json) {
                return Some(status);
            }
            serve_file(method, path, json, &encoded);
            if method == "POST" && path.ends_with("/access_tokens") {
                // GitHub's example token expired in 2016; octocrab would mint one per call.
                json["token"] = INSTALLATION_TOKEN.into();
                json["expires_at"] = "2099-01-01T00:00:00Z".into();
            }
            None
        }),
    )
}

struct Run {
    code: i32,
    out: String,
    err: String,
    exchanges: Vec<Exchange>,
}

fn bump(proxy: &Proxy, key: &str, env: &[(&str, &str)]) -> Run {
    let image = format!("us-docker.pkg.dev/example-project/config/root:v2@{DIGEST}");
    let mut cmd = support::kbundle();
    cmd.args([
        "bump",
        "--repo",
        "octo-org/fleet",
        "--file",
        "clusters/prod/root-sync.yaml",
        "--image",
        &image,
        "--app-id",
        APP_ID,
    ]);
    if !key.is_empty() {
        cmd.args(["--app-private-key", key]);
    }
    let run = support::Run::of(
        cmd.env("GITHUB_API_URL", &proxy.url)
            .envs(env.iter().copied()),
    );
    Run {
        code: run.code,
        out: run.out,
        err: run.err,
        exchanges: proxy.exchanges(),
    }
}

fn assert_conformed(exchanges: &[Exchange]) {
    let refused: Vec<_> = exchanges.iter().filter(|e| e.status >= 300).collect();
    assert!(refused.is_empty(), "Prism refused requests: {refused:#?}");
    let violations = PRISM.request_violations();
    assert!(violations.is_empty(), "Prism: {violations:#?}");
}

/// The claims of a `Bearer <JWT>` header.
fn jwt_claims(authorization: &str) -> (serde_json::Value, serde_json::Value) {
    let jwt = authorization
        .strip_prefix("Bearer ")
        .unwrap_or_else(|| panic!("not a bearer token: {authorization}"));
    let parts: Vec<&str> = jwt.split('.').collect();
    assert_eq!(parts.len(), 3, "{jwt}");
    let decode = |p: &str| -> serde_json::Value {
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(p)
            .expect("base64url");
        serde_json::from_slice(&bytes).expect("json")
    };
    (decode(parts[0]), decode(parts[1]))
}

#[test]
fn bump_as_a_github_app_uses_a_repository_scoped_installation_token_contract_checked_against_prism()
{
    let proxy = proxy(Box::new(|_, _, _| None));
    let run = bump(&proxy, key_file().to_str().expect("utf-8"), &[]);
    let exchanges = &run.exchanges;
    assert_eq!(
        run.code, 0,
        "stdout: {}\nstderr: {}\n{exchanges:#?}",
        run.out, run.err
    );
    assert_conformed(exchanges);

    // First the app finds its installation on the repository, then mints a token for it.
    assert_eq!(exchanges[0].method, "GET");
    assert_eq!(exchanges[0].path, "/repos/octo-org/fleet/installation");
    assert_eq!(exchanges[1].method, "POST");
    assert_eq!(exchanges[1].path, "/app/installations/1/access_tokens");
    let body: serde_json::Value =
        serde_json::from_str(&exchanges[1].request_body).expect("json body");
    assert_eq!(body["repositories"], serde_json::json!(["fleet"]));

    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs() as i64;
    for e in &exchanges[..2] {
        let (header, claims) = jwt_claims(&e.authorization);
        assert_eq!(header["alg"], "RS256");
        assert_eq!(claims["iss"].to_string().trim_matches('"'), APP_ID);
        let (iat, exp) = (
            claims["iat"].as_i64().expect("iat"),
            claims["exp"].as_i64().expect("exp"),
        );
        assert!(iat <= now - 30 && iat >= now - 120, "iat {iat}, now {now}");
        assert!(exp > now && exp - iat <= 600, "exp {exp}, iat {iat}");
    }
    // Everything after that uses the installation token, minted once.
    assert!(exchanges.len() > 5, "{exchanges:#?}");
    for e in &exchanges[2..] {
        assert!(
            e.authorization.contains(INSTALLATION_TOKEN),
            "{} {}: {}",
            e.method,
            e.path,
            e.authorization
        );
    }
    assert!(run.out.starts_with("updated: "), "{}", run.out);
}

#[test]
fn app_key_as_pem_text_in_actions_masks_the_key_and_the_token_first() {
    let pem = std::fs::read_to_string(key_file()).expect("key");
    let proxy = proxy(Box::new(|_, _, _| None));
    let run = bump(
        &proxy,
        "",
        &[
            ("KBUNDLE_APP_PRIVATE_KEY", pem.as_str()),
            ("GITHUB_ACTIONS", "true"),
        ],
    );
    assert_eq!(run.code, 0, "stdout: {}\nstderr: {}", run.out, run.err);
    assert_conformed(&run.exchanges);
    let key_line = pem.lines().nth(1).expect("a key line");
    let lines: Vec<&str> = run.out.lines().collect();
    let key_mask = lines
        .iter()
        .position(|l| *l == format!("::add-mask::{key_line}"))
        .expect("the key is masked");
    let token_mask = lines
        .iter()
        .position(|l| *l == format!("::add-mask::{INSTALLATION_TOKEN}"))
        .expect("the installation token is masked");
    // Masks come before any other output.
    assert!(
        lines[..=key_mask.max(token_mask)]
            .iter()
            .all(|l| l.starts_with("::add-mask::")),
        "{}",
        run.out
    );
    for line in lines.iter().filter(|l| !l.starts_with("::add-mask::")) {
        assert!(
            !line.contains(INSTALLATION_TOKEN) && !line.contains(key_line),
            "{line}"
        );
    }
    assert!(
        !run.err.contains(INSTALLATION_TOKEN) && !run.err.contains(key_line),
        "{}",
        run.err
    );
}

#[test]
fn unknown_app_and_missing_installation_are_clear_errors_naming_the_flag() {
    let unknown = proxy(Box::new(|_, path, json| {
        path.ends_with("/installation").then(|| {
            *json = serde_json::json!({"message": "A JSON web token could not be decoded"});
            401
        })
    }));
    let run = bump(&unknown, key_file().to_str().expect("utf-8"), &[]);
    assert_eq!(run.code, 2, "{}", run.err);
    assert!(
        run.err.contains("--app-id 12345") && run.err.contains("--app-private-key"),
        "{}",
        run.err
    );

    let not_installed = proxy(Box::new(|_, path, json| {
        path.ends_with("/installation").then(|| {
            *json = serde_json::json!({"message": "Not Found"});
            404
        })
    }));
    let run = bump(&not_installed, key_file().to_str().expect("utf-8"), &[]);
    assert_eq!(run.code, 2, "{}", run.err);
    assert!(
        run.err
            .contains("--app-id 12345: the GitHub App is not installed on octo-org/fleet"),
        "{}",
        run.err
    );
    assert!(
        !run.exchanges
            .iter()
            .any(|e| e.path.ends_with("/access_tokens")),
        "{:#?}",
        run.exchanges
    );
}

#[test]
fn bad_private_keys_fail_before_any_request_naming_the_flag() {
    let proxy = proxy(Box::new(|_, _, _| None));
    let dir = tempfile::tempdir().expect("tempdir");
    let missing = dir.path().join("nope.pem");
    let garbage = "-----BEGIN RSA PRIVATE KEY-----\nbm90IGEga2V5\n-----END RSA PRIVATE KEY-----\n";
    for key in [missing.to_str().expect("utf-8"), garbage] {
        let run = bump(&proxy, key, &[]);
        assert_eq!(run.code, 2, "{}", run.err);
        assert!(run.err.contains("--app-private-key"), "{}", run.err);
        assert!(
            !run.err.contains("bm90IGEga2V5"),
            "the key was printed: {}",
            run.err
        );
    }
    // Checked before the first request.
    assert!(proxy.exchanges().is_empty(), "{:#?}", proxy.exchanges());
}

#[test]
fn publish_from_action_inputs_opens_the_fleet_pull_request_as_the_app_contract_checked_against_prism()
 {
    const WORKFLOW_TOKEN: &str = "ghs_workflowTokenForTheComment000000000";
    let pem = std::fs::read_to_string(key_file()).expect("key");
    let proxy = proxy(Box::new(|_, _, _| None));
    let manifest_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let work = tempfile::tempdir().expect("tempdir");
    let output = work.path().join("github_output");
    let out = support::runner_step(work.path())
        .env("GITHUB_API_URL", &proxy.url)
        .env("GITHUB_REPOSITORY", "octo-org/app")
        .env("INPUT_COMMAND", "publish")
        .env("INPUT_PATHS", manifest_dir.join("examples"))
        .env(
            "INPUT_IMAGE",
            format!("oci-layout:{}:v1", work.path().join("oci").display()),
        )
        .env("INPUT_FLEET-REPO", "octo-org/fleet")
        .env("INPUT_FLEET-FILE", "clusters/prod/root-sync.yaml")
        .env(
            "INPUT_FLEET-IMAGE",
            "us-docker.pkg.dev/example-project/config/root:v1",
        )
        .env("INPUT_GITHUB-TOKEN", WORKFLOW_TOKEN)
        .env("INPUT_APP-ID", APP_ID)
        .env("INPUT_APP-PRIVATE-KEY", &pem)
        .env("INPUT_COMMENT", "true")
        .output()
        .expect("run");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let exchanges = proxy.exchanges();
    assert_eq!(
        out.status.code(),
        Some(0),
        "stdout: {stdout}\nstderr: {stderr}\n{exchanges:#?}"
    );
    assert_conformed(&exchanges);
    // The comment on the triggering pull request goes with the workflow's token; everything
    // on the fleet repository with the app's installation token.
    let mut fleet = 0;
    for e in &exchanges {
        if e.path.starts_with("/repos/octo-org/app/") {
            assert!(e.authorization.contains(WORKFLOW_TOKEN), "{e:#?}");
        } else if e.path.starts_with("/repos/octo-org/fleet/") && !e.path.ends_with("/installation")
        {
            fleet += 1;
            assert!(e.authorization.contains(INSTALLATION_TOKEN), "{e:#?}");
        }
    }
    assert!(fleet >= 5, "{exchanges:#?}");
    let outputs = std::fs::read_to_string(&output).expect("outputs");
    assert!(outputs.contains("\n1347\n"), "{outputs}");
    let key_line = pem.lines().nth(1).expect("a key line");
    assert!(
        stdout
            .lines()
            .next()
            .is_some_and(|l| l.starts_with("::add-mask::")),
        "{stdout}"
    );
    for line in stdout.lines().filter(|l| !l.starts_with("::add-mask::")) {
        assert!(
            !line.contains(key_line) && !line.contains(INSTALLATION_TOKEN),
            "{line}"
        );
    }
    assert!(
        stdout.contains(&format!("::add-mask::{INSTALLATION_TOKEN}")),
        "{stdout}"
    );
}

#[test]
fn neither_the_app_key_nor_its_tokens_reach_a_trace_log() {
    let proxy = proxy(Box::new(|_, _, _| None));
    let run = bump(
        &proxy,
        key_file().to_str().expect("utf-8"),
        &[("RUST_LOG", "trace")],
    );
    assert_eq!(run.code, 0, "{}\n{}", run.out, run.err);
    assert!(
        run.err.lines().count() > 20,
        "logged almost nothing:\n{}",
        run.err
    );
    let pem = std::fs::read_to_string(key_file()).expect("key");
    let mut secrets: Vec<String> = pem
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .map(str::to_owned)
        .collect();
    secrets.push(INSTALLATION_TOKEN.to_owned());
    // The JWT's signature: the part only the key could make.
    secrets.extend(
        run.exchanges
            .iter()
            .filter_map(|e| e.authorization.strip_prefix("Bearer eyJ"))
            .filter_map(|jwt| jwt.rsplit('.').next())
            .map(str::to_owned),
    );
    let secrets: Vec<&str> = secrets.iter().map(String::as_str).collect();
    support::assert_no_secrets(&run.out, &run.err, &secrets);
}
