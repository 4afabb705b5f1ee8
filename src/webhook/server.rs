//! The HTTPS listener: TLS with a reloading certificate, HTTP/1.1 and HTTP/2, routing, and a
//! graceful stop that lets requests in flight finish.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{Method, Request, Response, StatusCode, header};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

use super::admission::{self, Decision, Reason, Review, Step};
use super::metrics::Metrics;
use super::verify::Verifier;

/// The API server sends at most 3 MiB objects; anything larger is not a review.
const MAX_BODY: usize = 4 << 20;
/// A client that has not finished its handshake by then is not the API server.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// Nor is one that takes longer to send a request's headers; without it an idle or trickling
/// connection would be held forever.
const HEADER_TIMEOUT: Duration = Duration::from_secs(30);

pub struct State {
    pub verifier: Verifier,
    pub metrics: Metrics,
    pub ready: AtomicBool,
}

type Body = Full<Bytes>;

/// Accepts connections until `shutdown` resolves, then stops accepting and waits up to `grace`
/// for open connections to finish their requests.
pub async fn serve(
    listener: TcpListener,
    tls: Arc<rustls::ServerConfig>,
    state: Arc<State>,
    shutdown: impl Future<Output = ()>,
    grace: Duration,
) {
    let acceptor = TlsAcceptor::from(tls);
    let graceful = GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    state.ready.store(true, Ordering::SeqCst);
    loop {
        let (tcp, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(e) => {
                    // Out of file descriptors and the like: keep serving the others.
                    tracing::warn!("accept failed: {e}");
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let acceptor = acceptor.clone();
        let state = state.clone();
        let watcher = graceful.watcher();
        tokio::spawn(async move {
            let tls = match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await {
                Ok(Ok(tls)) => tls,
                Ok(Err(e)) => {
                    tracing::debug!(%peer, "TLS handshake failed: {e}");
                    return;
                }
                Err(_) => {
                    tracing::debug!(%peer, "TLS handshake timed out");
                    return;
                }
            };
            let mut builder = auto::Builder::new(TokioExecutor::new());
            builder
                .http1()
                .timer(TokioTimer::new())
                .header_read_timeout(HEADER_TIMEOUT);
            let service = service_fn(move |req| route(state.clone(), req));
            let connection = builder.serve_connection(TokioIo::new(tls), service);
            if let Err(e) = watcher.watch(connection).await {
                tracing::debug!(%peer, "connection ended: {e}");
            }
        });
    }
    state.ready.store(false, Ordering::SeqCst);
    drop(listener);
    tracing::info!(
        "shutting down: no new connections; waiting for {} open one(s)",
        graceful.count()
    );
    if tokio::time::timeout(grace, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("stopped with connections still open after {grace:?}");
    }
}

async fn route(state: Arc<State>, req: Request<Incoming>) -> Result<Response<Body>, Infallible> {
    let path = req.uri().path().to_owned();
    state.metrics.request(&path);
    let response = match (req.method(), path.as_str()) {
        (&Method::POST, "/validate") => review(&state, req).await,
        (&Method::GET, "/healthz") => text(StatusCode::OK, "ok\n".to_owned()),
        (&Method::GET, "/readyz") if state.ready.load(Ordering::SeqCst) => {
            text(StatusCode::OK, "ready\n".to_owned())
        }
        (&Method::GET, "/readyz") => text(StatusCode::SERVICE_UNAVAILABLE, "not ready\n".into()),
        (&Method::GET, "/metrics") => {
            let mut response = text(StatusCode::OK, state.metrics.render());
            response.headers_mut().insert(
                header::CONTENT_TYPE,
                header::HeaderValue::from_static(
                    "application/openmetrics-text; version=1.0.0; charset=utf-8",
                ),
            );
            response
        }
        // A review sent to the wrong path still gets a review back, so the API server shows
        // why instead of a bare HTTP error.
        (&Method::POST, _) => {
            let body = read_body(req).await.unwrap_or_default();
            let (review, _) = admission::read(&body);
            let decision = Decision::deny(
                Reason::Malformed,
                format!(
                    "kbundle webhook has no {path:?}; point the ValidatingWebhookConfiguration at /validate"
                ),
            );
            state.metrics.review(&decision, 0.0);
            answer(&review, &decision)
        }
        _ => text(
            StatusCode::NOT_FOUND,
            "not found: kbundle webhook serves POST /validate, GET /healthz, /readyz, /metrics\n"
                .to_owned(),
        ),
    };
    Ok(response)
}

async fn review(state: &State, req: Request<Incoming>) -> Response<Body> {
    let started = Instant::now();
    let (review, decision) = match read_body(req).await {
        Err(e) => (
            Review::default(),
            Decision::deny(
                Reason::Malformed,
                format!("cannot read the request body: {e}"),
            ),
        ),
        Ok(body) => match admission::read(&body) {
            (review, Step::Answer(decision)) => (review, decision),
            (review, Step::Verify(image)) => {
                let decision = state.verifier.decide(&image).await;
                (review, decision)
            }
        },
    };
    if decision.reason == Reason::Malformed {
        tracing::warn!(uid = %review.uid, "denied a malformed review: {}", decision.message);
    }
    tracing::debug!(
        uid = %review.uid,
        allowed = decision.allowed,
        reason = decision.reason.label(),
        "answered a review"
    );
    state
        .metrics
        .review(&decision, started.elapsed().as_secs_f64());
    answer(&review, &decision)
}

async fn read_body(req: Request<Incoming>) -> Result<Bytes, String> {
    Limited::new(req.into_body(), MAX_BODY)
        .collect()
        .await
        .map(|c| c.to_bytes())
        .map_err(|e| e.to_string())
}

fn answer(review: &Review, decision: &Decision) -> Response<Body> {
    let mut response = Response::new(Full::new(Bytes::from(admission::response(
        review, decision,
    ))));
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("application/json"),
    );
    response
}

fn text(status: StatusCode, body: String) -> Response<Body> {
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}

/// Resolves on SIGTERM (Kubernetes stopping the pod) or SIGINT (Ctrl-C).
pub async fn termination() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut term = match signal(SignalKind::terminate()) {
            Ok(s) => s,
            Err(e) => {
                tracing::warn!("cannot watch SIGTERM: {e}; only Ctrl-C stops the server");
                let _ = tokio::signal::ctrl_c().await;
                return;
            }
        };
        tokio::select! {
            _ = term.recv() => tracing::info!("SIGTERM received"),
            _ = tokio::signal::ctrl_c() => tracing::info!("SIGINT received"),
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// Binds the listener; port 0 picks a free one (tests), reported by the caller.
pub async fn bind(addr: SocketAddr) -> Result<TcpListener, String> {
    TcpListener::bind(addr)
        .await
        .map_err(|e| format!("--listen {addr}: {e}"))
}
