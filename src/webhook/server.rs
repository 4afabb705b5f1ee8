//! The HTTPS listener: TLS with a reloading certificate, HTTP/1.1 and HTTP/2, routing, and a
//! graceful stop that lets requests in flight finish.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{Method, Request, Response, StatusCode, header};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

use super::admission::{self, Decision, Reason, Review, Step};
use super::metrics::Metrics;
use super::verify::Verifier;

/// The API server sends at most 3 MiB objects; anything larger is not a review.
pub const MAX_BODY: usize = 4 << 20;
/// Of a body declared larger than [`MAX_BODY`], only this much is read, to find its uid.
const PREFIX: usize = 64 << 10;
/// A client that has not finished its handshake by then is not the API server.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

pub struct State {
    pub verifier: Verifier,
    pub metrics: Metrics,
    pub ready: AtomicBool,
    pub timeouts: Timeouts,
}

/// How long a client may take: without these, an idle or trickling connection is held as
/// long as the client likes.
#[derive(Clone, Copy, Debug)]
pub struct Timeouts {
    /// A request's headers, and then its body, must each arrive within this; an HTTP/1.1
    /// keep-alive connection that sends no new request within it is closed.
    pub request: Duration,
    /// A connection (HTTP/2 above all) with no request in flight for this long is closed.
    pub idle: Duration,
}

/// Sleeps until `at`, or forever without one.
async fn sleep_until(at: Option<tokio::time::Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

/// Requests in flight on one connection and when the last one ended.
struct Activity {
    in_flight: AtomicUsize,
    last: Mutex<tokio::time::Instant>,
}

impl Activity {
    fn new() -> Arc<Activity> {
        Arc::new(Activity {
            in_flight: AtomicUsize::new(0),
            last: Mutex::new(tokio::time::Instant::now()),
        })
    }

    fn begin(self: &Arc<Self>) -> InFlight {
        self.in_flight.fetch_add(1, Ordering::SeqCst);
        InFlight(self.clone())
    }

    /// Resolves once no request has been in flight for `idle`.
    async fn idle(&self, idle: Duration) {
        loop {
            let last = *self.last.lock().unwrap_or_else(|e| e.into_inner());
            if self.in_flight.load(Ordering::SeqCst) > 0 {
                // Busy: it can be idle `idle` after the request ends at the earliest.
                tokio::time::sleep(idle).await;
            } else if last.elapsed() >= idle {
                return;
            } else {
                tokio::time::sleep_until(last + idle).await;
            }
        }
    }
}

/// Marks a request in flight until dropped.
struct InFlight(Arc<Activity>);

impl Drop for InFlight {
    fn drop(&mut self) {
        *self.0.last.lock().unwrap_or_else(|e| e.into_inner()) = tokio::time::Instant::now();
        self.0.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
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
    // Connections watch `stopping`, and each holds a sender of `open` until it ends, so the
    // receiver sees the channel close when the last one is gone.
    let (stop, stopping) = tokio::sync::watch::channel(false);
    let (open, mut closed) = tokio::sync::mpsc::channel::<()>(1);
    let connections = Arc::new(AtomicUsize::new(0));
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
        let stopping = stopping.clone();
        let open = open.clone();
        let connections = connections.clone();
        connections.fetch_add(1, Ordering::SeqCst);
        tokio::spawn(async move {
            connection(acceptor, tcp, peer, state, stopping).await;
            connections.fetch_sub(1, Ordering::SeqCst);
            drop(open);
        });
    }
    state.ready.store(false, Ordering::SeqCst);
    drop(listener);
    drop(open);
    tracing::info!(
        "shutting down: no new connections; waiting for {} open one(s)",
        connections.load(Ordering::SeqCst)
    );
    let _ = stop.send(true);
    if tokio::time::timeout(grace, closed.recv()).await.is_err() {
        tracing::warn!("stopped with connections still open after {grace:?}");
    }
}

/// Serves one connection until it ends, the client idles past the limit, or the server stops
/// (in both cases gracefully: requests in flight finish).
async fn connection(
    acceptor: TlsAcceptor,
    tcp: tokio::net::TcpStream,
    peer: SocketAddr,
    state: Arc<State>,
    mut stopping: tokio::sync::watch::Receiver<bool>,
) {
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
    let timeouts = state.timeouts;
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(timeouts.request);
    builder.http2().timer(TokioTimer::new());
    let activity = Activity::new();
    let seen = activity.clone();
    let service = service_fn(move |req| {
        let in_flight = seen.begin();
        let state = state.clone();
        async move {
            let response = route(state, req).await;
            drop(in_flight);
            response
        }
    });
    let connection = builder.serve_connection(TokioIo::new(tls), service);
    let mut connection = std::pin::pin!(connection);
    let mut closing = false;
    // An idle client gets `--request-timeout` to finish closing: an HTTP/2 client that never
    // acknowledges the GOAWAY's ping would otherwise keep the connection.
    let mut drop_at: Option<tokio::time::Instant> = None;
    let ended = loop {
        tokio::select! {
            ended = connection.as_mut() => break ended,
            () = activity.idle(timeouts.idle), if !closing => {
                tracing::debug!(%peer, "closing a connection idle for {:?}", timeouts.idle);
                connection.as_mut().graceful_shutdown();
                closing = true;
                drop_at = Some(tokio::time::Instant::now() + timeouts.request);
            }
            _ = stopping.wait_for(|stop| *stop), if !closing => {
                connection.as_mut().graceful_shutdown();
                closing = true;
            }
            () = sleep_until(drop_at) => {
                tracing::debug!(%peer, "dropped an idle connection that did not close");
                break Ok(());
            }
        }
    };
    if let Err(e) = ended {
        tracing::debug!(%peer, "connection ended: {e}");
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
            let body = match read_body(req, state.timeouts.request).await {
                Ok(body) => body,
                Err(Unread::TooLarge(prefix)) => return Ok(too_large(&state, &prefix)),
                Err(Unread::Failed(_)) => Bytes::new(),
            };
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
    let (review, decision) = match read_body(req, state.timeouts.request).await {
        Err(Unread::TooLarge(prefix)) => return too_large(state, &prefix),
        Err(Unread::Failed(e)) => (
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

/// Why a body was not read whole.
enum Unread {
    /// Over [`MAX_BODY`]: the first bytes, to find who to answer.
    TooLarge(Bytes),
    /// The client broke off, or did not send it within `--request-timeout`.
    Failed(String),
}

/// Reads a request body of at most [`MAX_BODY`] bytes, all of which must arrive within
/// `timeout`.
async fn read_body(req: Request<Incoming>, timeout: Duration) -> Result<Bytes, Unread> {
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    // Declared too large: only the start is worth reading.
    let keep = match declared {
        Some(n) if n > MAX_BODY as u64 => PREFIX,
        _ => MAX_BODY,
    };
    let mut body = req.into_body();
    let mut buf = bytes::BytesMut::new();
    let read = async {
        while let Some(frame) = body.frame().await {
            let frame = frame.map_err(|e| Unread::Failed(e.to_string()))?;
            if let Ok(data) = frame.into_data() {
                buf.extend_from_slice(&data);
                if buf.len() >= keep && (keep < MAX_BODY || buf.len() > MAX_BODY) {
                    buf.truncate(keep);
                    return Err(Unread::TooLarge(std::mem::take(&mut buf).freeze()));
                }
            }
        }
        Ok(())
    };
    match tokio::time::timeout(timeout, read).await {
        Ok(Ok(())) => Ok(buf.freeze()),
        Ok(Err(e)) => Err(e),
        Err(_) => Err(Unread::Failed(format!(
            "the body did not arrive within {}s (--request-timeout)",
            timeout.as_secs_f64()
        ))),
    }
}

/// A body over the limit: a denial to the uid its first bytes name, else a plain 413.
fn too_large(state: &State, prefix: &[u8]) -> Response<Body> {
    let why = format!(
        "request body is over the {} MiB limit; the API server sends at most 3 MiB objects, so \
         this is not a review of a RootSync or RepoSync",
        MAX_BODY >> 20
    );
    let decision = Decision::deny(Reason::Malformed, why.clone());
    state.metrics.review(&decision, 0.0);
    match admission::prefix::review(prefix) {
        Some(review) => {
            tracing::warn!(uid = %review.uid, "denied a review: {why}");
            answer(&review, &decision)
        }
        None => {
            tracing::warn!("refused a request: {why}");
            text(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("{why}; no AdmissionReview uid was found in its first bytes\n"),
            )
        }
    }
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
