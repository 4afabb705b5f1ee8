//! Prometheus metrics in the text exposition format, served at `/metrics`.

use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

use super::admission::Decision;

type Labels = Vec<(&'static str, &'static str)>;

pub struct Metrics {
    registry: Registry,
    requests: Family<Labels, Counter>,
    reviews: Family<Labels, Counter>,
    latency: Histogram,
}

impl Default for Metrics {
    fn default() -> Metrics {
        let mut registry = Registry::with_prefix("kbundle_webhook");
        let requests = Family::<Labels, Counter>::default();
        registry.register(
            "http_requests",
            "HTTP requests by path (validate, healthz, readyz, metrics, other)",
            requests.clone(),
        );
        let reviews = Family::<Labels, Counter>::default();
        registry.register(
            "reviews",
            "Admission reviews answered, by decision (allowed, denied) and reason",
            reviews.clone(),
        );
        // 0.5 ms to ~8 s: a cache hit is well under a millisecond, a cold registry check is
        // tens to hundreds, and the API server gives up at 10 s.
        let latency = Histogram::new(exponential_buckets(0.0005, 2.0, 15));
        registry.register(
            "review_duration_seconds",
            "Time from request to answer for /validate, in seconds",
            latency.clone(),
        );
        Metrics {
            registry,
            requests,
            reviews,
            latency,
        }
    }
}

impl Metrics {
    pub fn request(&self, path: &str) {
        let path = match path {
            "/validate" => "validate",
            "/healthz" => "healthz",
            "/readyz" => "readyz",
            "/metrics" => "metrics",
            _ => "other",
        };
        self.requests.get_or_create(&vec![("path", path)]).inc();
    }

    pub fn review(&self, decision: &Decision, seconds: f64) {
        let allowed = if decision.allowed {
            "allowed"
        } else {
            "denied"
        };
        self.reviews
            .get_or_create(&vec![
                ("decision", allowed),
                ("reason", decision.reason.label()),
            ])
            .inc();
        self.latency.observe(seconds);
    }

    /// The text exposition format (OpenMetrics).
    pub fn render(&self) -> String {
        let mut out = String::new();
        // Writing into a String does not fail.
        let _ = encode(&mut out, &self.registry);
        out
    }
}
