//! Benchmark of `kbundle webhook`: 2,000 AdmissionReviews at 50 concurrent HTTPS connections,
//! latency percentiles with a warm cache (goal: p99 < 20 ms), a cold cache (`--cache-size 0`:
//! every review fetches and checks the signatures from the registry), and an unchanged
//! annotation (no registry at all).
//!
//! Real parts only: Debian's docker-registry on a loopback port, the kbundle binary signing
//! and serving, TLS with an rcgen certificate.
//!
//!     cargo bench --bench webhook                 # 2,000 reviews, 50 connections
//!     cargo bench --bench webhook -- 500 10       # reviews, connections

#[path = "../tests/support/mod.rs"]
mod support;
#[path = "../tests/webhook_support/mod.rs"]
mod webhook_support;

use std::time::{Duration, Instant};

use support::Registry;
use webhook_support::{Certs, Webhook, kbundle, push, review};

struct Row {
    scenario: &'static str,
    wall: Duration,
    latencies: Vec<Duration>,
    failures: usize,
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let i = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[i].as_secs_f64() * 1000.0
}

/// Sends `total` reviews over `connections` connections, each its own client sending one
/// review after the other, and records every latency. Each connection first sends one review
/// that is not timed, and all wait until every connection is open: the API server keeps its
/// connections, so what counts is a review on an open connection, not TCP and TLS set-up.
async fn load(
    webhook: &Webhook,
    ca_pem: &str,
    body: &str,
    total: usize,
    connections: usize,
) -> (Duration, Vec<Duration>, usize) {
    let url = webhook.url("/validate");
    let ready = std::sync::Arc::new(tokio::sync::Barrier::new(connections + 1));
    let mut tasks = Vec::new();
    for c in 0..connections {
        let share = total / connections + usize::from(c < total % connections);
        let client = reqwest::Client::builder()
            .tls_certs_only([reqwest::Certificate::from_pem(ca_pem.as_bytes()).expect("ca")])
            .http1_only()
            .pool_max_idle_per_host(1)
            .build()
            .expect("client");
        let (url, body, ready) = (url.clone(), body.to_owned(), ready.clone());
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::with_capacity(share);
            let mut failures = 0;
            let opened = client.post(&url).body(body.clone()).send().await;
            if opened.is_err() {
                failures += 1;
            }
            ready.wait().await;
            for _ in 0..share {
                let t = Instant::now();
                let answer = async {
                    let r = client.post(&url).body(body.clone()).send().await.ok()?;
                    r.json::<serde_json::Value>().await.ok()
                }
                .await;
                latencies.push(t.elapsed());
                if answer.is_none_or(|a| a["response"]["allowed"] != true) {
                    failures += 1;
                }
            }
            (latencies, failures)
        }));
    }
    ready.wait().await;
    let started = Instant::now();
    let mut all = Vec::with_capacity(total);
    let mut failures = 0;
    for task in tasks {
        let (latencies, failed) = task.await.expect("load task");
        all.extend(latencies);
        failures += failed;
    }
    (started.elapsed(), all, failures)
}

fn main() {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let total = args.first().copied().unwrap_or(2000);
    let connections = args.get(1).copied().unwrap_or(50).clamp(1, total);

    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let registry = Registry::start();
    let (code, _, err) = kbundle(&["keygen"], d);
    assert_eq!(code, 0, "{err}");
    let image = format!("{}/bench/root:v1", registry.addr);
    let digest = push(&image, d);
    let (code, _, err) = kbundle(&["sign", &image, "--key", "cosign.key"], d);
    assert_eq!(code, 0, "{err}");

    let certs = Certs::new("bench");
    certs.install(d);
    let current = format!("{image}@{digest}");
    let changed = review(&image, &current, "earlier", "v1", "bench");
    let unchanged = review(&image, &current, &current, "v1", "bench");

    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let mut rows = Vec::new();
    for (scenario, flags, body) in [
        ("warm cache", &["--key", "cosign.pub"][..], &changed),
        (
            "cold cache (--cache-size 0)",
            &["--key", "cosign.pub", "--cache-size", "0"][..],
            &changed,
        ),
        (
            "unchanged annotation",
            &["--key", "cosign.pub"][..],
            &unchanged,
        ),
    ] {
        let webhook = Webhook::start(d, &certs, flags);
        runtime.block_on(async {
            // One review first: fills the cache for the warm run, and proves the setup.
            let (_, _, failed) = load(&webhook, &certs.ca_pem, body, 1, 1).await;
            assert_eq!(failed, 0, "{scenario}: the first review was not allowed");
            let (wall, mut latencies, failures) =
                load(&webhook, &certs.ca_pem, body, total, connections).await;
            latencies.sort();
            rows.push(Row {
                scenario,
                wall,
                latencies,
                failures,
            });
        });
    }

    println!(
        "\n`kbundle webhook`: {total} reviews, {connections} concurrent HTTPS connections (HTTP/1.1, opened before timing), loopback registry\n"
    );
    println!("| scenario | reviews/s | p50 ms | p90 ms | p99 ms | max ms | not allowed |");
    println!("|---|---:|---:|---:|---:|---:|---:|");
    for row in &rows {
        let l = &row.latencies;
        println!(
            "| {} | {:.0} | {:.2} | {:.2} | {:.2} | {:.2} | {} |",
            row.scenario,
            l.len() as f64 / row.wall.as_secs_f64(),
            percentile(l, 0.50),
            percentile(l, 0.90),
            percentile(l, 0.99),
            percentile(l, 1.0),
            row.failures
        );
    }
    let warm_p99 = percentile(&rows[0].latencies, 0.99);
    println!(
        "\nwarm p99 {warm_p99:.2} ms: goal < 20 ms {}",
        if warm_p99 < 20.0 { "met" } else { "MISSED" }
    );
    if rows.iter().any(|r| r.failures > 0) {
        eprintln!("some reviews were not allowed; see the table");
        std::process::exit(1);
    }
}
