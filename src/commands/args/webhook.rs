//! `kbundle webhook`.

use super::*;

/// `kbundle webhook`.
#[derive(Debug, Args)]
pub struct WebhookArgs {
    /// Address and port to serve HTTPS on
    #[arg(long, value_name = "ADDR:PORT", default_value = "0.0.0.0:10250")]
    pub listen: std::net::SocketAddr,

    /// PEM certificate chain to serve (re-read when the file changes)
    #[arg(long, value_name = "FILE", env = "KBUNDLE_TLS_CERT")]
    pub tls_cert: PathBuf,

    /// PEM private key of the certificate (re-read when the file changes)
    #[arg(long, value_name = "FILE", env = "KBUNDLE_TLS_KEY")]
    pub tls_key: PathBuf,

    #[command(flatten)]
    pub keys: VerifyKeyArgs,

    /// Allow (with a warning) when the registry cannot be asked, instead of denying
    #[arg(long)]
    pub fail_open: bool,

    /// Verified digests to remember; 0 checks the registry on every review
    #[arg(long, value_name = "N", default_value_t = 10_000)]
    pub cache_size: usize,

    /// Seconds a verified digest is trusted without asking the registry again; 0 turns the
    /// cache off
    #[arg(long, value_name = "SECONDS", default_value_t = 300)]
    pub cache_ttl: u64,

    /// Seconds a signature check may take (keep it below the webhook's timeoutSeconds). Past
    /// it, a registry that has not listed the signatures is "unreachable" (--fail-open may
    /// allow); one that has, but whose signatures are still being read or checked, is a denial
    #[arg(long, value_name = "SECONDS", default_value_t = 8.0)]
    pub timeout: f64,

    /// Signature checks that talk to registries at once; more wait for a turn (within
    /// --timeout). Each holds at most about 8 MiB of registry data
    #[arg(long, value_name = "N", default_value_t = 8, value_parser = parse_positive)]
    pub max_checks: usize,

    /// Seconds a client has to send a request's headers, and then its body; an HTTP/1.1
    /// connection that sends no new request within it is closed
    #[arg(long, value_name = "SECONDS", default_value_t = 5.0)]
    pub request_timeout: f64,

    /// Seconds a connection (HTTP/2 in particular) may stay open with no request in flight
    #[arg(long, value_name = "SECONDS", default_value_t = 30.0)]
    pub idle_timeout: f64,

    /// Seconds open connections get to finish after SIGTERM
    #[arg(long, value_name = "SECONDS", default_value_t = 20)]
    pub grace: u64,

    #[command(flatten)]
    pub registry: RegistryArgs,
}
