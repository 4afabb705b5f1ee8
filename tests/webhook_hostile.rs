//! Hostile inputs against `verify` and `kbundle webhook` (issue 18, bugs 4, 5, 11, 12): `.sig`
//! images in the real registry that list thousands of layers or claim huge payloads, bodies
//! over the size limit, and clients that trickle or idle. Each test failed before the fix.

mod support;
mod webhook_support;

use std::collections::HashSet;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use kbundle::bundle::{Digest, MANIFEST_MEDIA_TYPE};
use kbundle::oci::{Connect, ImageRef, Store};
use kbundle::signing::{self, cosign, cosign::SignatureLayer};
use serde_json::Value;
use support::Registry;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use webhook_support::{Certs, Webhook, kbundle, message, push, response, review};

fn store(image: &str) -> Store {
    let image: ImageRef = image.parse().expect("image reference");
    Store::for_pull(&image, Connect::default()).expect("store")
}

/// Stores a `.sig` for `digest` with `layers`, whose descriptors declare `claim(i)` bytes
/// where it says so (a lie the registry does not check), each distinct blob uploaded once.
async fn put_sig(
    store: &Store,
    digest: &Digest,
    layers: &[SignatureLayer],
    claim: impl Fn(usize) -> Option<u64>,
) {
    let (config, manifest) = cosign::signature_manifest(layers);
    store
        .put_blob(&Digest::of(&config), &config)
        .await
        .expect("config");
    let mut seen = HashSet::new();
    for layer in layers {
        let d = Digest::of(&layer.payload);
        if seen.insert(d.clone()) {
            store.put_blob(&d, &layer.payload).await.expect("payload");
        }
    }
    let mut manifest: Value = serde_json::from_slice(&manifest).expect("manifest");
    for (i, layer) in manifest["layers"]
        .as_array_mut()
        .expect("layers")
        .iter_mut()
        .enumerate()
    {
        if let Some(size) = claim(i) {
            layer["size"] = size.into();
        }
    }
    let manifest = serde_json::to_vec(&manifest).expect("json");
    store
        .put_manifest(
            &manifest,
            MANIFEST_MEDIA_TYPE,
            Some(&cosign::signature_tag(digest)),
        )
        .await
        .expect("sig manifest");
}

/// A layer whose signature is junk.
fn junk(payload: &[u8]) -> SignatureLayer {
    SignatureLayer::new(payload.to_vec(), b"junk")
}

/// A key pair in `dir`, and an image pushed to `repo` and signed with it: the image, its
/// digest and the valid signature layer.
async fn signed(registry: &Registry, dir: &Path, repo: &str) -> (String, Digest, SignatureLayer) {
    if !dir.join("cosign.key").exists() {
        let (code, _, err) = kbundle(&["keygen"], dir);
        assert_eq!(code, 0, "{err}");
    }
    let image = format!("{}/{repo}:v1", registry.addr);
    let digest: Digest = push(&image, dir).parse().expect("digest");
    let (code, _, err) = kbundle(&["sign", &image, "--key", "cosign.key"], dir);
    assert_eq!(code, 0, "{err}");
    let mut layers = signing::signatures(&store(&image), &digest)
        .await
        .expect("signatures");
    (image, digest, layers.remove(0))
}

fn start(dir: &Path, args: &[&str]) -> (Certs, Webhook) {
    let certs = Certs::new("kbundle");
    certs.install(dir);
    let webhook = Webhook::start(dir, &certs, args);
    (certs, webhook)
}

fn changed(image: &str, digest: &Digest, uid: &str) -> String {
    review(
        image,
        &format!("{image}@{digest}"),
        &format!("{image}@sha256:{}", "0".repeat(64)),
        "v1",
        uid,
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signature_layers_claiming_300_mb_are_refused_by_their_descriptor_and_healthz_answers() {
    let registry = Registry::start();
    let dir = tempfile::tempdir().expect("tempdir");
    let (image, digest, _) = signed(&registry, dir.path(), "kb/huge").await;
    // Twelve layers pointing at one blob: 2 MiB for real (over the cap as it is), and the
    // manifest claims 300 MB for the last; a review used to fetch them all.
    let blob = vec![b'x'; 2 << 20];
    let layers = vec![junk(&blob); 12];
    put_sig(&store(&image), &digest, &layers, |i| {
        (i == 11).then_some(300_000_000)
    })
    .await;

    let (_certs, webhook) = start(dir.path(), &["--key", "cosign.pub", "--cache-size", "0"]);
    let webhook = Arc::new(webhook);
    let reviews: Vec<_> = (0..8)
        .map(|n| {
            let webhook = webhook.clone();
            let body = changed(&image, &digest, &format!("huge-{n}"));
            tokio::spawn(async move { webhook.post("/validate", body).await })
        })
        .collect();
    assert_eq!(webhook.get("/healthz").await, (200, "ok\n".to_owned()));
    for (n, review) in reviews.into_iter().enumerate() {
        let (status, answer) = review.await.expect("review");
        assert_eq!(status, 200);
        let denied = response(&answer, "v1", &format!("huge-{n}"));
        assert_eq!(denied["allowed"], false, "{answer}");
        let text = message(denied);
        assert!(
            text.contains("signature 12: payload declared as 300000000 bytes, over the 1 MiB limit for a signature payload; not fetched"),
            "{text}"
        );
        assert!(
            text.contains("signature 1: payload declared as 2097152 bytes"),
            "{text}"
        );
    }

    // verify refuses the same way, with exit 1 (judged), not 2.
    let (code, _, err) = kbundle(&["verify", &image, "--key", "cosign.pub"], dir.path());
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("over the 1 MiB limit"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_junk_layers_are_a_denial_even_with_fail_open() {
    let registry = Registry::start();
    let dir = tempfile::tempdir().expect("tempdir");
    let (image, digest, good) = signed(&registry, dir.path(), "kb/junk").await;
    // The valid signature last, behind 9,999 junk ones.
    let mut layers = vec![junk(b"junk payload"); 9_999];
    layers.push(good);
    put_sig(&store(&image), &digest, &layers, |_| None).await;

    let (_certs, webhook) = start(
        dir.path(),
        &["--key", "cosign.pub", "--fail-open", "--timeout", "8"],
    );
    let started = Instant::now();
    let (status, answer) = webhook
        .post("/validate", changed(&image, &digest, "junk"))
        .await;
    assert_eq!(status, 200);
    let denied = response(&answer, "v1", "junk");
    assert_eq!(
        denied["allowed"], false,
        "the registry answered, so --fail-open does not apply: {answer}"
    );
    let text = message(denied);
    assert!(
        text.contains("checked the first 128 of 10000 signature layers"),
        "{text}"
    );
    assert!(!text.contains("did not answer"), "{text}");
    assert!(
        started.elapsed() < Duration::from_secs(8),
        "answered within --timeout, not at it"
    );

    // verify: bounded the same way, and says so.
    let (code, _, err) = kbundle(&["verify", &image, "--key", "cosign.pub"], dir.path());
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("0 of 128 signature(s) verified; checked the first 128 of 10000 signature layers (--max-signatures is 128; raise it to check more)"),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn max_signatures_reaches_a_valid_signature_further_down() {
    let registry = Registry::start();
    let dir = tempfile::tempdir().expect("tempdir");
    let (image, digest, good) = signed(&registry, dir.path(), "kb/deep").await;
    let mut layers = vec![junk(b"junk payload"); 129];
    layers.push(good);
    put_sig(&store(&image), &digest, &layers, |_| None).await;

    let (code, _, err) = kbundle(&["verify", &image, "--key", "cosign.pub"], dir.path());
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("checked the first 128 of 130 signature layers"),
        "{err}"
    );
    let (code, _, err) = kbundle(
        &[
            "verify",
            &image,
            "--key",
            "cosign.pub",
            "--max-signatures",
            "130",
        ],
        dir.path(),
    );
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("signature 130: verified"), "{err}");
    let (code, _, err) = kbundle(
        &[
            "verify",
            &image,
            "--key",
            "cosign.pub",
            "--max-signatures",
            "0",
        ],
        dir.path(),
    );
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--max-signatures"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_over_4_mib_gets_a_denial_with_its_uid_or_a_413() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (code, _, err) = kbundle(&["keygen"], dir.path());
    assert_eq!(code, 0, "{err}");
    let (certs, webhook) = start(dir.path(), &["--key", "cosign.pub"]);

    // A review whose object carries 5 MiB of annotation: the uid comes first, as the API
    // server writes it.
    let padding = "a".repeat(5 << 20);
    let big = review("r.example/root", &padding, "", "v1beta1", "big-uid");
    let (status, body) = post_whole(&webhook.addr, &certs, big.into_bytes()).await;
    assert_eq!(status, 200, "{body}");
    let answer: Value = serde_json::from_str(&body).expect("json answer");
    let denied = response(&answer, "v1beta1", "big-uid");
    assert_eq!(denied["allowed"], false);
    assert!(message(denied).contains("over the 4 MiB limit"), "{answer}");

    let (status, text) = post_whole(&webhook.addr, &certs, vec![b' '; 5 << 20]).await;
    assert_eq!(status, 413, "{text}");
    assert!(
        text.contains("over the 4 MiB limit") && text.contains("no AdmissionReview uid"),
        "{text}"
    );
    assert_eq!(webhook.get("/healthz").await.0, 200);
}

/// POSTs `body` to /validate over HTTP/1.1 while reading the answer, as the API server's
/// client does (the server answers before the body is all sent, then closes): the status and
/// the response body.
async fn post_whole(addr: &str, certs: &Certs, body: Vec<u8>) -> (u16, String) {
    let stream = connect(addr, certs, b"http/1.1").await;
    let (mut reader, mut writer) = tokio::io::split(stream);
    let head = format!(
        "POST /validate HTTP/1.1\r\nhost: localhost\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
        body.len()
    );
    let send = tokio::spawn(async move {
        // The server may stop reading, and close, before the end: that is the point.
        let _ = writer.write_all(head.as_bytes()).await;
        let _ = writer.write_all(&body).await;
        writer
    });
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    let started = Instant::now();
    while !complete(&got) {
        let left = Duration::from_secs(20).saturating_sub(started.elapsed());
        match tokio::time::timeout(left, reader.read(&mut buf)).await {
            Err(_) => panic!("no whole answer in 20 s: {}", String::from_utf8_lossy(&got)),
            Ok(Ok(0)) | Ok(Err(_)) => break,
            Ok(Ok(n)) => got.extend_from_slice(&buf[..n]),
        }
    }
    send.abort();
    let text = String::from_utf8_lossy(&got).into_owned();
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("not an HTTP answer: {text}"));
    let body = text
        .split_once("\r\n\r\n")
        .map_or("", |(_, b)| b)
        .to_owned();
    (status, body)
}

/// Whether `got` holds a whole HTTP/1.1 response with a content-length body.
fn complete(got: &[u8]) -> bool {
    let text = String::from_utf8_lossy(got);
    let Some((head, body)) = text.split_once("\r\n\r\n") else {
        return false;
    };
    head.lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("content-length:")
                .map(|v| v.trim().parse::<usize>().ok())
        })
        .flatten()
        .is_some_and(|n| body.len() >= n)
}

/// A TLS connection to the webhook offering `alpn`.
async fn connect(
    addr: &str,
    certs: &Certs,
    alpn: &[u8],
) -> tokio_rustls::client::TlsStream<tokio::net::TcpStream> {
    let mut roots = rustls::RootCertStore::empty();
    let der =
        rustls_pki_types::pem::PemObject::from_pem_slice(certs.ca_pem.as_bytes()).expect("ca der");
    roots.add(der).expect("add root");
    let mut config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("versions")
    .with_root_certificates(roots)
    .with_no_client_auth();
    config.alpn_protocols = vec![alpn.to_vec()];
    let tcp = tokio::net::TcpStream::connect(addr).await.expect("connect");
    tokio_rustls::TlsConnector::from(Arc::new(config))
        .connect(
            rustls_pki_types::ServerName::try_from("localhost").expect("name"),
            tcp,
        )
        .await
        .expect("handshake")
}

/// Reads until the server closes the connection (EOF or reset), at most `bound`; returns
/// what it sent and when it closed.
async fn until_closed(
    stream: &mut tokio_rustls::client::TlsStream<tokio::net::TcpStream>,
    started: Instant,
    bound: Duration,
) -> (Vec<u8>, Duration) {
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let left = bound.saturating_sub(started.elapsed());
        match tokio::time::timeout(left, stream.read(&mut buf)).await {
            Err(_) => panic!(
                "the server kept the connection open for {bound:?}; it sent: {}",
                String::from_utf8_lossy(&got)
            ),
            Ok(Ok(0)) | Ok(Err(_)) => return (got, started.elapsed()),
            Ok(Ok(n)) => got.extend_from_slice(&buf[..n]),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_trickled_body_is_cut_off_after_the_request_timeout() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (code, _, err) = kbundle(&["keygen"], dir.path());
    assert_eq!(code, 0, "{err}");
    let (certs, webhook) = start(
        dir.path(),
        &["--key", "cosign.pub", "--request-timeout", "1"],
    );
    let mut stream = connect(&webhook.addr, &certs, b"http/1.1").await;
    let started = Instant::now();
    stream
        .write_all(b"POST /validate HTTP/1.1\r\nhost: localhost\r\ncontent-length: 100000\r\n\r\n{")
        .await
        .expect("headers");
    // One byte every 100 ms, for as long as the server listens (the test's bound).
    let (mut reader, mut writer) = tokio::io::split(stream);
    let trickle = tokio::spawn(async move {
        loop {
            tokio::time::sleep(Duration::from_millis(100)).await;
            if writer.write_all(b" ").await.is_err() || writer.flush().await.is_err() {
                return;
            }
        }
    });
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    let closed = loop {
        let left = Duration::from_secs(15).saturating_sub(started.elapsed());
        match tokio::time::timeout(left, reader.read(&mut buf)).await {
            Err(_) => panic!("a body trickled for 15 s was still being read"),
            Ok(Ok(0)) | Ok(Err(_)) => break started.elapsed(),
            Ok(Ok(n)) => got.extend_from_slice(&buf[..n]),
        }
    };
    trickle.abort();
    let text = String::from_utf8_lossy(&got);
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");
    assert!(
        text.contains("did not arrive within 1s (--request-timeout)"),
        "{text}"
    );
    assert!(closed < Duration::from_secs(5), "closed after {closed:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_connections_are_closed_http1_and_http2() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (code, _, err) = kbundle(&["keygen"], dir.path());
    assert_eq!(code, 0, "{err}");
    let (certs, webhook) = start(
        dir.path(),
        &[
            "--key",
            "cosign.pub",
            "--request-timeout",
            "1",
            "--idle-timeout",
            "1",
        ],
    );

    // HTTP/1.1 that never sends a request: the header read timeout closes it.
    let mut h1 = connect(&webhook.addr, &certs, b"http/1.1").await;
    let (_, closed) = until_closed(&mut h1, Instant::now(), Duration::from_secs(10)).await;
    assert!(
        closed < Duration::from_secs(5),
        "HTTP/1.1 closed after {closed:?}"
    );

    // HTTP/2: the preface and SETTINGS, then nothing; the server says GOAWAY and closes.
    let mut h2 = connect(&webhook.addr, &certs, b"h2").await;
    assert_eq!(h2.get_ref().1.alpn_protocol(), Some(&b"h2"[..]));
    let started = Instant::now();
    h2.write_all(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\0\0\0\x04\0\0\0\0\0")
        .await
        .expect("preface");
    let (frames, closed) = until_closed(&mut h2, started, Duration::from_secs(10)).await;
    assert!(
        closed < Duration::from_secs(5),
        "HTTP/2 closed after {closed:?}"
    );
    // A GOAWAY frame (type 7) was among what the server sent.
    let mut at = 0;
    let mut goaway = false;
    while at + 9 <= frames.len() {
        let len = u32::from_be_bytes([0, frames[at], frames[at + 1], frames[at + 2]]) as usize;
        goaway |= frames[at + 3] == 7;
        at += 9 + len;
    }
    assert!(goaway, "no GOAWAY in {frames:?}");
    assert_eq!(webhook.get("/healthz").await.0, 200);
}

/// A local fake of a registry that accepts connections and never says a word; each accepted
/// connection is announced on the returned channel.
fn silent_registry() -> (String, std::sync::mpsc::Receiver<()>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr").to_string();
    let (accepted, announce) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming().map_while(Result::ok) {
            held.push(stream);
            if accepted.send(()).is_err() {
                return;
            }
        }
    });
    (addr, announce)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fake_silent_registry_fails_open_but_a_queued_review_is_busy_not_failed_open() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (code, _, err) = kbundle(&["keygen"], dir.path());
    assert_eq!(code, 0, "{err}");
    let (addr, accepted) = silent_registry();
    let (_certs, webhook) = start(
        dir.path(),
        &[
            "--key",
            "cosign.pub",
            "--fail-open",
            "--timeout",
            "2",
            "--max-checks",
            "1",
        ],
    );
    let webhook = Arc::new(webhook);
    let digest: Digest = format!("sha256:{}", "7".repeat(64))
        .parse()
        .expect("digest");
    let image = format!("{addr}/kb/silent:v1");

    // The first review holds the only turn while the registry says nothing.
    let first = {
        let webhook = webhook.clone();
        let body = changed(&image, &digest, "first");
        tokio::spawn(async move { webhook.post("/validate", body).await })
    };
    tokio::task::spawn_blocking(move || accepted.recv_timeout(Duration::from_secs(20)))
        .await
        .expect("join")
        .expect("the webhook asked the silent registry");
    // The second, for another digest (the same digest would share the first's check), waits
    // half of --timeout for a turn, then is denied: the registry never got its chance, so this
    // is not "unreachable" and --fail-open does not apply.
    let other: Digest = format!("sha256:{}", "8".repeat(64))
        .parse()
        .expect("digest");
    let (_, answer) = webhook
        .post("/validate", changed(&image, &other, "second"))
        .await;
    let busy = response(&answer, "v1", "second");
    assert_eq!(busy["allowed"], false, "{answer}");
    assert!(
        message(busy).contains("(--max-checks) were still running"),
        "{answer}"
    );

    // The first: the registry did not answer, which is what --fail-open is for.
    let (_, answer) = first.await.expect("first review");
    let open = response(&answer, "v1", "first");
    assert_eq!(open["allowed"], true, "{answer}");
    assert!(
        message(open).contains("did not answer within 2s"),
        "{answer}"
    );
    let (_, metrics) = webhook.get("/metrics").await;
    assert!(
        metrics.contains(r#"kbundle_webhook_reviews_total{decision="denied",reason="busy"} 1"#),
        "{metrics}"
    );
}
