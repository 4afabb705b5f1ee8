//! `kbundle webhook`.

use std::sync::Arc;
use std::time::Duration;

use oci_client::Reference;

use crate::commands::args::WebhookArgs;
use crate::error::{Error, Outcome, Result};
use crate::oci::ImageRef;
use crate::webhook::{self, Config, ConnectFn, Policy};

pub fn run(args: WebhookArgs) -> Result<Outcome> {
    if args.registry.username.is_some() {
        return Err(Error::new(
            "--username: the webhook reads no password from stdin; mount a docker config and set \
             DOCKER_CONFIG, or use Workload Identity on GKE",
        ));
    }
    let timeout = seconds(args.timeout, "--timeout")?;
    let trust = super::verify::load(&args.keys)?;
    let required = super::verify::required(&args.keys);
    match &trust {
        crate::signing::Trust::Keys(keys) => {
            tracing::info!(keys = keys.len(), "loaded the public keys")
        }
        crate::signing::Trust::Keyless(_) => {
            tracing::info!("keyless policy: Fulcio certificates and Rekor entries are checked")
        }
    }
    let registry = args.registry;
    // Looked up per review: the registry is the annotation's, and tokens expire.
    let connect: Arc<ConnectFn> = Arc::new(move |reference: &Reference| {
        super::connect(&ImageRef::Registry(reference.clone()), &registry).map_err(|e| e.0)
    });
    let config = Config {
        listen: args.listen,
        tls_cert: args.tls_cert,
        tls_key: args.tls_key,
        policy: Policy {
            trust: Arc::new(trust),
            required: Arc::new(required),
            connect,
            fail_open: args.fail_open,
            timeout,
            limits: super::verify::limits(&args.keys),
            max_checks: args.max_checks,
        },
        cache_size: args.cache_size,
        cache_ttl: Duration::from_secs(args.cache_ttl),
        grace: Duration::from_secs(args.grace),
        timeouts: webhook::server::Timeouts {
            request: seconds(args.request_timeout, "--request-timeout")?,
            idle: seconds(args.idle_timeout, "--idle-timeout")?,
        },
    };
    if config.policy.fail_open {
        tracing::warn!(
            "--fail-open: images are allowed unverified while the registry is unreachable"
        );
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::new(format!("cannot start the async runtime: {e}")))?;
    runtime
        .block_on(webhook::run(config, webhook::server::termination()))
        .map_err(Error::new)?;
    Ok(Outcome::Passed)
}

fn seconds(value: f64, flag: &str) -> Result<Duration> {
    Duration::try_from_secs_f64(value)
        .ok()
        .filter(|t| !t.is_zero())
        .ok_or_else(|| Error::new(format!("{flag}: give a positive number of seconds")))
}
