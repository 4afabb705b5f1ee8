//! One file per subcommand: read options, call the library, print. The options themselves,
//! with their help text, are in `args` (one place for every flag); `cli` parses them and
//! calls the command, and nothing here looks back at `cli`.

pub mod action;
pub mod args;
mod atomic;
pub mod bump;
pub mod bundle;
pub mod comment;
pub mod diff;
pub mod keygen;
pub mod promote;
pub mod publish;
pub mod pull;
pub mod push;
pub mod sign;
pub(crate) mod step;
pub mod validate;
pub mod verify;
pub mod webhook;

use std::io::{IsTerminal, Read};
use std::sync::Arc;

use indicatif::{ProgressBar, ProgressStyle};

use crate::auth::docker::{self, Credential};
use crate::auth::google;
use crate::auth::secret::Secret;
use crate::auth::{AuthMode, Refresh};
use crate::commands::args::RegistryArgs;
use crate::error::{Error, Result};
use crate::oci::{Connect, ImageRef};

/// How to reach the registry of `image`: `--username` with the password from stdin; else, for
/// Google registries (or `--auth google`, `--workload-identity-provider`), a Google access token
/// as user `oauth2accesstoken`; else the docker config's credentials for that host, else
/// anonymous.
fn connect(image: &ImageRef, args: &RegistryArgs) -> Result<Connect> {
    let ImageRef::Registry(reference) = image else {
        return Ok(Connect::default());
    };
    let mut refresh: Option<Arc<dyn Refresh>> = None;
    let credential = match &args.username {
        Some(username) => {
            let password = password_from_stdin()?;
            Some(Credential::Basic {
                username: username.clone(),
                password,
            })
        }
        None => {
            let host = reference.registry();
            let google = match args.auth {
                Some(AuthMode::Google) => true,
                Some(AuthMode::Docker) => false,
                None => {
                    args.workload_identity_provider.is_some() || google::is_google_registry(host)
                }
            };
            let options = google::Options {
                workload_identity_provider: args.workload_identity_provider.clone(),
                service_account: args.service_account.clone(),
                sts_endpoint: args.sts_endpoint.clone(),
                iamcredentials_endpoint: args.iamcredentials_endpoint.clone(),
            };
            let token = if google {
                google::access_token(&options).map_err(|e| Error::new(format!("{host}: {e}")))?
            } else {
                None
            };
            match token {
                Some(token) => {
                    // The token lasts an hour; the registry asks for a new one as it runs out.
                    refresh = Some(Arc::new(google::RegistryLogin::new(options)));
                    Some(Credential::Basic {
                        username: google::REGISTRY_USER.to_owned(),
                        password: token.token,
                    })
                }
                None if args.auth == Some(AuthMode::Google) => {
                    return Err(Error::new(format!(
                        "{host}: --auth google: no Google credentials found; set \
                         GOOGLE_APPLICATION_CREDENTIALS, pass --workload-identity-provider, \
                         or run where the GCE/GKE metadata server answers"
                    )));
                }
                None => docker::lookup(host).map_err(|e| Error::new(format!("{host}: {e}")))?,
            }
        }
    };
    Ok(Connect {
        plain_http: args.plain_http,
        credential,
        refresh,
    })
}

/// The `--password-stdin` password, read on first use and kept: `promote` logs in to its
/// source and to its destination with it, and stdin can be read only once.
fn password_from_stdin() -> Result<Secret> {
    static PASSWORD: std::sync::OnceLock<std::result::Result<Secret, String>> =
        std::sync::OnceLock::new();
    let read = PASSWORD.get_or_init(|| {
        let mut password = String::new();
        std::io::stdin()
            .read_to_string(&mut password)
            .map_err(|e| format!("--password-stdin: cannot read stdin: {e}"))?;
        let password = password.trim_end_matches(['\n', '\r']);
        if password.is_empty() {
            return Err("--password-stdin: stdin was empty; pipe the password in".to_owned());
        }
        Ok(Secret::new(password))
    });
    read.clone().map_err(Error::new)
}

/// A byte progress bar on a terminal; nothing when stderr is a pipe or a log.
fn progress(message: &'static str) -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(0).with_message(message);
    if let Ok(style) =
        ProgressStyle::with_template("{msg} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec}")
    {
        bar.set_style(style.progress_chars("=> "));
    }
    bar
}

/// A runtime for the network-facing commands; the rest of kbundle is synchronous.
/// GITHUB_TOKEN, or the GitHub App that --app-id and --app-private-key name.
fn github_credentials(
    args: &crate::commands::args::GitHubAuthArgs,
) -> Result<crate::github::api::Credentials> {
    use crate::github::api::Credentials;
    Ok(match (&args.app_id, &args.app_private_key) {
        (Some(id), Some(key)) => Credentials::App(crate::github::app::App::new(*id, key)?),
        // clap makes each require the other; keep a clear message anyway.
        (Some(_), None) | (None, Some(_)) => {
            return Err(Error::new(
                "--app-id and --app-private-key go together; give both or neither",
            ));
        }
        (None, None) => Credentials::Token,
    })
}

fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::new(format!("cannot start the async runtime: {e}")))
}

/// Writes a file whole via a temporary file beside it and a rename (see [`atomic`]).
fn write_atomically(path: &std::path::Path, bytes: &[u8], mode: Option<u32>) -> Result<()> {
    atomic::write(path, bytes, mode)?;
    crate::actions::claim(path);
    Ok(())
}
