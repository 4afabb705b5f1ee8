//! `kbundle webhook` reading signatures from the real registry in token mode
//! (`support/token_service.rs`): the credential comes from a docker config, the registry checks
//! every token, and no token reaches the webhook's log.

mod support;
#[path = "support/token_service.rs"]
mod token_service;
mod webhook_support;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

use base64::Engine as _;
use token_service::{Grant, Policy, TokenRegistry};
use webhook_support::{Certs, client, kbundle, message, response, review};

const WRITER: &str = "ya29.c2Hs8VnB5yK1oXe7QwZ4";
/// What the webhook runs with: pull, nowhere push.
const READER: &str = "ya29.d3Mf6TpL0rA9jUc2NbG8";

fn docker_config(dir: &Path, host: &str, token: &str) -> std::path::PathBuf {
    let auth =
        base64::engine::general_purpose::STANDARD.encode(format!("oauth2accesstoken:{token}"));
    let config = dir.join("docker");
    std::fs::create_dir_all(&config).expect("docker dir");
    std::fs::write(
        config.join("config.json"),
        serde_json::json!({"auths": {host: {"auth": auth}}}).to_string(),
    )
    .expect("write docker config");
    config
}

/// The webhook with `DOCKER_CONFIG` set, at -vvv; returns it, its address and its log lines.
fn start_webhook(
    dir: &Path,
    docker: &Path,
) -> (Child, String, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_kbundle"))
        .current_dir(dir)
        .args(["-vvv", "webhook", "--listen", "127.0.0.1:0"])
        .args([
            "--tls-cert",
            "tls.crt",
            "--tls-key",
            "tls.key",
            "--key",
            "keys",
        ])
        .env("DOCKER_CONFIG", docker)
        .env_remove("RUST_LOG")
        .env_remove("GOOGLE_APPLICATION_CREDENTIALS")
        .env_remove("GCE_METADATA_HOST")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start kbundle webhook");
    let mut lines = BufReader::new(child.stderr.take().expect("stderr")).lines();
    let logs = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let addr = loop {
        let line = lines
            .next()
            .expect("webhook exited before listening")
            .expect("read log");
        logs.lock().expect("logs").push(line.clone());
        if let Some(rest) = line.split("listening on ").nth(1) {
            break rest.split('"').next().unwrap_or(rest).trim().to_owned();
        }
    };
    let kept = logs.clone();
    std::thread::spawn(move || {
        for line in lines.map_while(Result::ok) {
            kept.lock().expect("logs").push(line);
        }
    });
    (child, addr, logs)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_webhook_reads_signatures_through_registry_tokens() {
    let mut policy = Policy::writer(WRITER);
    policy.tokens.push(READER.to_owned());
    policy.grants.push(Grant::to(READER, "*", &["pull"]));
    let registry = TokenRegistry::start(policy);
    let r = &registry.addr;
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let writer = docker_config(&d.join("w"), r, WRITER);
    let reader = docker_config(&d.join("r"), r, READER);
    std::fs::create_dir(d.join("keys")).expect("keys");
    let (code, _, err) = kbundle(&["keygen"], d);
    assert_eq!(code, 0, "{err}");
    std::fs::copy(d.join("cosign.pub"), d.join("keys/kbundle.pub")).expect("key");

    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let as_writer = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_kbundle"))
            .current_dir(d)
            .args(args)
            .env("DOCKER_CONFIG", &writer)
            .env("COSIGN_PASSWORD", "pw")
            .env("SOURCE_DATE_EPOCH", "1700000000")
            .output()
            .expect("run kbundle");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    };
    let mut digest = String::new();
    for repo in ["signed", "unsigned"] {
        let image = format!("{r}/proj/kb/{repo}:v1");
        let pushed = as_writer(&["push", examples.to_str().expect("utf-8"), "--image", &image]);
        digest = pushed.rsplit_once('@').expect("REF@DIGEST").1.to_owned();
    }
    as_writer(&[
        "sign",
        &format!("{r}/proj/kb/signed:v1"),
        "--key",
        "cosign.key",
    ]);

    let certs = Certs::new("kbundle");
    certs.install(d);
    let (mut child, addr, logs) = start_webhook(d, &reader);
    let https = client(&certs.ca_pem);
    let before = registry.tokens.count();
    for (repo, allowed, why) in [
        ("signed", true, "verified"),
        ("unsigned", false, "no signatures"),
    ] {
        let image = format!("{r}/proj/kb/{repo}:v1");
        let body = review(&image, &format!("{image}@{digest}"), "", "v1", repo);
        let answer: serde_json::Value = https
            .post(format!("https://{addr}/validate"))
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .expect("POST")
            .json()
            .await
            .expect("JSON");
        let got = response(&answer, "v1", repo);
        assert_eq!(got["allowed"], allowed, "{repo}: {answer}");
        assert!(message(got).contains(why), "{repo}: {answer}");
    }
    let _ = child.kill();
    let _ = child.wait();

    // The reads went through tokens issued to the reader, for pull only.
    let issued = registry.tokens.issued();
    let read: Vec<_> = issued[before..]
        .iter()
        .filter(|i| i.login.as_deref() == Some(READER))
        .collect();
    assert!(!read.is_empty(), "{:?}", &issued[before..]);
    assert!(
        read.iter()
            .all(|i| i.access.iter().all(|(_, a)| a.iter().all(|x| x == "pull"))),
        "{read:?}"
    );
    let log = logs.lock().expect("logs").join("\n");
    let mut secrets = vec![WRITER.to_owned(), READER.to_owned()];
    // A JWT's header and claims are JSON anyone could write; its signature is the secret.
    secrets.extend(
        issued
            .into_iter()
            .map(|i| token_service::signature(&i.token)),
    );
    let secrets: Vec<&str> = secrets.iter().map(String::as_str).collect();
    support::assert_no_secrets("", &log, &secrets);
}
