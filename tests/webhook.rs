//! `kbundle webhook` end to end: the real binary over real TLS on loopback (rcgen
//! certificates), reviews shaped like the API server's, images signed by kbundle and by the
//! real cosign (fixtures) in the real local registry.

mod support;
mod webhook_support;

use std::path::Path;
use std::time::{Duration, Instant};

use base64::Engine as _;
use kbundle::bundle::Digest;
use kbundle::oci::{Connect, ImageRef, Store};
use kbundle::signing::{self, cosign::SignatureLayer};
use serde_json::Value;
use support::Registry;
use webhook_support::{
    Certs, Webhook, handshake, healthz, kbundle, message, presented, push, response, review,
};

const FIXTURES: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/cosign/signed-images"
);
/// The digest the cosign fixture's signature covers.
const COSIGN_DIGEST: &str =
    "sha256:634a8f35b5f16dcf4aaa0822adc0b1964bb786fca12f6831de8ddc45e5986a00";

fn store(image: &str) -> Store {
    let image: ImageRef = image.parse().expect("image reference");
    Store::for_pull(&image, Connect::default()).expect("store")
}

/// The signature layer cosign wrote, from containers/image's `dir:` fixture.
fn cosign_layer() -> SignatureLayer {
    let bytes = std::fs::read(Path::new(FIXTURES).join("dir-img-cosign-valid/signature-1"))
        .expect("fixture");
    let json = bytes
        .strip_prefix(b"\x00sigstore-json\n")
        .expect("sigstore-json prefix");
    let value: Value = serde_json::from_slice(json).expect("fixture json");
    let payload = base64::engine::general_purpose::STANDARD
        .decode(value["payload"].as_str().expect("payload"))
        .expect("base64");
    let annotations = value["annotations"]
        .as_object()
        .expect("annotations")
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned()))
        .collect();
    SignatureLayer {
        payload,
        annotations,
    }
}

/// Keys folder with kbundle's cosign.pub and the fixture's key; images pushed and signed.
struct Signed {
    dir: tempfile::TempDir,
    registry: Registry,
    digest: String,
}

async fn signed_images() -> Signed {
    let registry = Registry::start();
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    std::fs::create_dir(d.join("keys")).expect("keys dir");
    for prefix in ["cosign", "other"] {
        let (code, _, err) = kbundle(&["keygen", "--output-key-prefix", prefix], d);
        assert_eq!(code, 0, "{err}");
    }
    std::fs::copy(d.join("cosign.pub"), d.join("keys/kbundle.pub")).expect("copy key");
    std::fs::copy(
        Path::new(FIXTURES).join("cosign.pub"),
        d.join("keys/cosign-fixture.pub"),
    )
    .expect("copy key");
    let r = &registry.addr;
    let mut digest = String::new();
    for repo in ["signed", "unsigned", "wrong-key", "tampered"] {
        digest = push(&format!("{r}/kb/{repo}:v1"), d);
    }
    for (repo, key) in [
        ("signed", "cosign.key"),
        ("wrong-key", "other.key"),
        ("tampered", "cosign.key"),
    ] {
        let (code, _, err) = kbundle(&["sign", &format!("{r}/kb/{repo}:v1"), "--key", key], d);
        assert_eq!(code, 0, "{err}");
    }
    // Tampered: the payload changed after signing, the signature kept.
    let tampered = store(&format!("{r}/kb/tampered:v1"));
    let parsed: Digest = digest.parse().expect("digest");
    let mut layers = signing::signatures(&tampered, &parsed)
        .await
        .expect("signatures");
    let text = String::from_utf8(layers[0].payload.clone()).expect("utf-8");
    layers[0].payload = text.replace("kb/tampered", "kb/tamperes").into_bytes();
    signing::write_signatures(&tampered, &parsed, &layers)
        .await
        .expect("write tampered");
    // The real cosign's signature, stored where cosign would put it for that digest.
    let fixture = store(&format!("{r}/cosign/fixture:v1"));
    let cosign_digest: Digest = COSIGN_DIGEST.parse().expect("digest");
    signing::write_signatures(&fixture, &cosign_digest, &[cosign_layer()])
        .await
        .expect("write cosign fixture");
    Signed {
        dir,
        registry,
        digest,
    }
}

fn start(dir: &Path, args: &[&str]) -> (Certs, Webhook) {
    let certs = Certs::new("kbundle");
    certs.install(dir);
    let webhook = Webhook::start(dir, &certs, args);
    (certs, webhook)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signed_images_are_allowed_and_every_bad_signature_is_denied_with_its_reason() {
    let signed = signed_images().await;
    let (_certs, webhook) = start(signed.dir.path(), &["--key", "keys"]);
    let r = &signed.registry.addr;
    let digest = &signed.digest;
    let ask = |repo: &str, digest: &str, version: &str| {
        let image = format!("{r}/{repo}:v1");
        let body = review(
            &image,
            &format!("{image}@{digest}"),
            &format!("{image}@sha256:{}", "0".repeat(64)),
            version,
            &format!("uid-{repo}"),
        );
        let repo = repo.to_owned();
        let webhook = &webhook;
        let version = version.to_owned();
        async move {
            let (status, answer) = webhook.post("/validate", body).await;
            assert_eq!(status, 200);
            response(&answer, &version, &format!("uid-{repo}")).clone()
        }
    };

    let ok = ask("kb/signed", digest, "v1").await;
    assert_eq!(ok["allowed"], true, "{ok}");
    assert!(message(&ok).contains("verified"), "{ok}");

    let cosign = ask("cosign/fixture", COSIGN_DIGEST, "v1beta1").await;
    assert_eq!(
        cosign["allowed"], true,
        "the real cosign's signature: {cosign}"
    );

    for (repo, why) in [
        ("kb/unsigned", "no signatures"),
        ("kb/wrong-key", "does not match key"),
        ("kb/tampered", "does not match key"),
    ] {
        let denied = ask(repo, digest, "v1").await;
        assert_eq!(denied["allowed"], false, "{repo}: {denied}");
        assert_eq!(denied["status"]["code"], 403);
        let text = message(&denied);
        assert!(text.contains(why), "{repo}: {text}");
        assert!(
            text.contains(&format!("{r}/{repo}:v1@{digest}")),
            "names the image: {text}"
        );
        assert!(
            text.contains(&format!("digest {digest}")),
            "names the digest: {text}"
        );
    }

    // Again: from the cache this time, as the metrics show.
    assert_eq!(ask("kb/signed", digest, "v1").await["allowed"], true);
    let (status, metrics) = webhook.get("/metrics").await;
    assert_eq!(status, 200);
    for line in [
        r#"kbundle_webhook_reviews_total{decision="allowed",reason="verified"} 2"#,
        r#"kbundle_webhook_reviews_total{decision="allowed",reason="cached"} 1"#,
        r#"kbundle_webhook_reviews_total{decision="denied",reason="unsigned"} 3"#,
        r#"kbundle_webhook_http_requests_total{path="validate"} 6"#,
        "kbundle_webhook_review_duration_seconds_count 6",
    ] {
        assert!(metrics.contains(line), "{line} missing from:\n{metrics}");
    }

    // --annotation, as with verify: the signed payload must carry it.
    let (_certs, strict) = start(
        signed.dir.path(),
        &["--key", "keys", "--annotation", "approved-by=release"],
    );
    let image = format!("{r}/kb/signed:v1");
    let body = review(&image, &format!("{image}@{digest}"), "", "v1", "strict");
    let (_, answer) = strict.post("/validate", body).await;
    let denied = response(&answer, "v1", "strict");
    assert_eq!(denied["allowed"], false, "{answer}");
    assert!(
        message(denied).contains("approved-by=release required but missing"),
        "{answer}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn registry_down_denies_a_new_image_but_an_unchanged_one_never_asks() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let (code, _, err) = kbundle(&["keygen"], d);
    assert_eq!(code, 0, "{err}");
    let mut registry = Registry::start();
    let image = format!("{}/kb/root:v1", registry.addr);
    let digest = push(&image, d);
    let (code, _, err) = kbundle(&["sign", &image, "--key", "cosign.key"], d);
    assert_eq!(code, 0, "{err}");
    registry.stop();

    let (_certs, webhook) = start(d, &["--key", "cosign.pub", "--timeout", "5"]);
    let current = format!("{image}@{digest}");
    let (_, answer) = webhook
        .post(
            "/validate",
            review(&image, &current, &current, "v1", "same"),
        )
        .await;
    let same = response(&answer, "v1", "same");
    assert_eq!(
        same["allowed"], true,
        "unchanged needs no registry: {answer}"
    );

    let (_, answer) = webhook
        .post(
            "/validate",
            review(&image, &current, "earlier@sha256:x", "v1", "new"),
        )
        .await;
    let new = response(&answer, "v1", "new");
    assert_eq!(new["allowed"], false, "{answer}");
    let text = message(new);
    assert!(text.contains("cannot check its signatures"), "{text}");
    assert!(text.contains(&current), "{text}");
    drop(webhook);

    // --fail-open lets it through, loudly.
    let (_certs, open) = start(d, &["--key", "cosign.pub", "--fail-open", "--timeout", "5"]);
    let (_, answer) = open
        .post("/validate", review(&image, &current, "", "v1", "open"))
        .await;
    let allowed = response(&answer, "v1", "open");
    assert_eq!(allowed["allowed"], true, "{answer}");
    assert!(
        allowed["warnings"][0]
            .as_str()
            .unwrap_or_default()
            .contains("--fail-open"),
        "{answer}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_requests_and_wrong_paths_get_well_formed_denials() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (code, _, err) = kbundle(&["keygen"], dir.path());
    assert_eq!(code, 0, "{err}");
    let (_certs, webhook) = start(dir.path(), &["--key", "cosign.pub"]);

    assert_eq!(webhook.get("/healthz").await, (200, "ok\n".to_owned()));
    assert_eq!(webhook.get("/readyz").await, (200, "ready\n".to_owned()));
    assert_eq!(webhook.get("/nope").await.0, 404);

    let (status, answer) = webhook.post("/validate", "{garbage".to_owned()).await;
    assert_eq!(status, 200);
    let denied = response(&answer, "v1", "");
    assert_eq!(denied["allowed"], false);
    assert!(message(denied).contains("not JSON"), "{answer}");

    let wrong_kind =
        r#"{"apiVersion":"admission.k8s.io/v1","kind":"Nonsense","request":{"uid":"u-7"}}"#;
    let (_, answer) = webhook.post("/validate", wrong_kind.to_owned()).await;
    let denied = response(&answer, "v1", "u-7");
    assert_eq!(denied["allowed"], false);
    assert!(message(denied).contains("AdmissionReview"), "{answer}");

    let bad = review(
        "r.example/root",
        "r.example/root@sha256:beef",
        "",
        "v1beta1",
        "u-8",
    );
    let (_, answer) = webhook.post("/validate", bad).await;
    let denied = response(&answer, "v1beta1", "u-8");
    assert_eq!(denied["allowed"], false);
    assert!(
        message(denied).contains("configsync.gke.io/image-to-sync"),
        "{answer}"
    );

    let elsewhere = review("r.example/root", "x", "y", "v1", "u-9");
    let (status, answer) = webhook.post("/mutate", elsewhere).await;
    assert_eq!(status, 200);
    let denied = response(&answer, "v1", "u-9");
    assert!(message(denied).contains("/validate"), "{answer}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rotated_certificate_reaches_new_handshakes_and_open_connections_stay() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (code, _, err) = kbundle(&["keygen"], dir.path());
    assert_eq!(code, 0, "{err}");
    let (first, webhook) = start(dir.path(), &["--key", "cosign.pub"]);
    let second = Certs::new("rotated");
    let roots = [&first, &second];

    let mut open = handshake(&webhook.addr, &roots).await;
    assert_eq!(presented(&open), first.leaf_der);
    assert!(healthz(&mut open).await.starts_with("HTTP/1.1 200"));

    second.install(dir.path());
    // The server looks at the files at most once a second: poll new handshakes, bounded.
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let fresh = handshake(&webhook.addr, &roots).await;
        if presented(&fresh) == second.leaf_der {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the new certificate was never served"
        );
        // Polling a condition, bounded: each try is a new handshake, which is what triggers
        // the server's (rate-limited) look at the files.
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    webhook.wait_for_log("reloaded the TLS certificate");
    // The connection made before the rotation still answers.
    assert!(healthz(&mut open).await.starts_with("HTTP/1.1 200"));

    // A broken certificate file is refused and the last good one kept: every handshake while
    // the server notices still gets the rotated certificate.
    std::fs::write(dir.path().join("tls.crt"), "not a certificate").expect("break cert");
    let deadline = Instant::now() + Duration::from_secs(15);
    let line = loop {
        let fresh = handshake(&webhook.addr, &roots).await;
        assert_eq!(presented(&fresh), second.leaf_der);
        // "no PEM certificate" is this file's failure, not a half-done rotation's mismatch.
        if let Some(line) = webhook.log_line("no PEM certificate") {
            break line;
        }
        assert!(
            Instant::now() < deadline,
            "the broken certificate was never noticed"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(line.contains("tls.crt"), "{line}");
    assert!(
        line.contains("still serving the previous certificate"),
        "{line}"
    );
    assert!(line.contains("\"level\":\"ERROR\""), "{line}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_lets_the_request_in_flight_finish_then_exits_0() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (code, _, err) = kbundle(&["keygen"], dir.path());
    assert_eq!(code, 0, "{err}");
    // A "registry" that accepts and never answers: the review stays in flight until --timeout.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let silent_addr = silent.local_addr().expect("addr").to_string();
    let (_certs, mut webhook) = start(dir.path(), &["--key", "cosign.pub", "--timeout", "3"]);
    let image = format!("{silent_addr}/kb/root:v1");
    let body = review(
        &image,
        &format!("{image}@sha256:{}", "a".repeat(64)),
        "",
        "v1",
        "in-flight",
    );
    let client = webhook.client.clone();
    let url = webhook.url("/validate");
    let request = tokio::spawn(async move { client.post(url).body(body).send().await });

    // The webhook reached the registry: the request is in flight. Now stop the server.
    let held = tokio::task::spawn_blocking(move || silent.accept().map(|(s, _)| (s, silent)))
        .await
        .expect("join")
        .expect("the webhook never called the registry");
    let pid = webhook.child.id().to_string();
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("kill");
    assert!(killed.success());
    webhook.wait_for_log("SIGTERM received");

    let answer: Value = request
        .await
        .expect("join")
        .expect("the in-flight request was answered")
        .json()
        .await
        .expect("json");
    let denied = response(&answer, "v1", "in-flight");
    assert_eq!(denied["allowed"], false, "{answer}");
    assert!(
        message(denied).contains("did not answer within 3s"),
        "{answer}"
    );
    let status = webhook.child.wait().expect("wait");
    assert_eq!(status.code(), Some(0), "exits cleanly");
    webhook.wait_for_log("\"stopped\"");
    drop(held);
}

#[test]
fn deploy_manifests_validate_strictly() {
    let deploy = Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/webhook");
    let (code, out, err) = kbundle(
        &[
            "validate",
            "--strict",
            "--summary",
            // kustomize's own file is not a Kubernetes object; every other one must validate.
            "--skip",
            "Kustomization",
            deploy.to_str().expect("utf-8"),
        ],
        &deploy,
    );
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        format!("{out}{err}").contains("Valid: 6, Invalid: 0, Errors: 0, Skipped: 1"),
        "{out}{err}"
    );
    for kind in [
        "Namespace",
        "ServiceAccount",
        "Deployment",
        "PodDisruptionBudget",
        "Service",
        "ValidatingWebhookConfiguration",
    ] {
        assert!(
            std::fs::read_dir(&deploy)
                .expect("deploy dir")
                .flatten()
                .any(|f| std::fs::read_to_string(f.path())
                    .unwrap_or_default()
                    .contains(&format!("kind: {kind}\n"))),
            "deploy/webhook has no {kind}"
        );
    }
}

#[test]
fn startup_problems_exit_2_naming_the_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let (code, _, err) = kbundle(&["keygen"], d);
    assert_eq!(code, 0, "{err}");
    let certs = Certs::new("startup");
    certs.install(d);
    std::fs::write(d.join("garbage.crt"), "not a certificate").expect("write");
    let other = Certs::new("other");
    std::fs::write(d.join("other.key"), &other.key_pem).expect("write");
    let base = ["webhook", "--listen", "127.0.0.1:0", "--key", "cosign.pub"];
    for (extra, needle) in [
        (
            ["--tls-cert", "missing.crt", "--tls-key", "tls.key"],
            "--tls-cert missing.crt",
        ),
        (
            ["--tls-cert", "garbage.crt", "--tls-key", "tls.key"],
            "no PEM certificate",
        ),
        (
            ["--tls-cert", "tls.crt", "--tls-key", "other.key"],
            "--tls-key other.key",
        ),
    ] {
        let args: Vec<&str> = base.iter().chain(extra.iter()).copied().collect();
        let (code, _, err) = kbundle(&args, d);
        assert_eq!(code, 2, "{args:?}: {err}");
        assert!(err.contains(needle), "{args:?}: {err}");
        assert!(
            !err.contains("PRIVATE KEY"),
            "no key material in errors: {err}"
        );
    }
}
