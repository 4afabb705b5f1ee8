//! Registry credentials found the way docker and crane find them: the docker config file
//! (`$DOCKER_CONFIG/config.json` or `~/.docker/config.json`) and the `docker-credential-*`
//! helpers it names.
//!
//! Error messages name the file, key, helper program and host, never a secret: JSON errors that
//! could quote a value are reduced to their position, and a helper's output is only quoted when
//! it failed (a helper prints secrets only on success).

use super::secret::Secret;
use base64::Engine as _;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// Credentials for one registry. `Debug` is safe to log: secrets print as "[redacted]".
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Credential {
    Basic {
        username: String,
        password: Secret,
    },
    /// An OAuth2 refresh token from `docker login` against a token-based registry.
    IdentityToken(Secret),
}

#[derive(Debug, thiserror::Error)]
pub enum CredentialError {
    #[error("cannot read docker config {}: {source}", path.display())]
    Read { path: PathBuf, source: io::Error },
    #[error(
        "docker config {} is not valid: {problem}; fix it, or set DOCKER_CONFIG to another folder",
        path.display()
    )]
    Malformed { path: PathBuf, problem: String },
    #[error(
        "the \"auth\" field of {key:?} in {} is not base64 of \"user:password\"; run `docker login {host}` again",
        path.display()
    )]
    BadAuth {
        path: PathBuf,
        key: String,
        host: String,
    },
    #[error(
        "credential helper {program} (named in {}) for {host} is not installed or not on PATH; install it or remove it from the config",
        config.display()
    )]
    HelperMissing {
        program: String,
        host: String,
        config: PathBuf,
    },
    #[error("credential helper {program} failed for {host}: {reason}")]
    HelperFailed {
        program: String,
        host: String,
        reason: String,
    },
}

/// The parts of config.json that hold credentials; other fields are ignored like docker does.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct DockerConfig {
    #[serde(default)]
    auths: BTreeMap<String, AuthEntry>,
    #[serde(default)]
    cred_helpers: BTreeMap<String, String>,
    #[serde(default)]
    creds_store: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
struct AuthEntry {
    auth: Option<String>,
    username: Option<String>,
    password: Option<String>,
    identitytoken: Option<String>,
}

/// The reply of `docker-credential-* get`.
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct HelperReply {
    #[serde(default)]
    username: String,
    #[serde(default)]
    secret: String,
}

/// Docker's convention for "this secret is an identity token, not a password".
const TOKEN_USERNAME: &str = "<token>";
const DOCKER_HUB_ALIASES: [&str; 3] = ["docker.io", "index.docker.io", "registry-1.docker.io"];
const DOCKER_HUB_SERVER: &str = "https://index.docker.io/v1/";

/// Looks up credentials for a registry host ("us-docker.pkg.dev", "localhost:5000",
/// "docker.io") in `$DOCKER_CONFIG/config.json` or `~/.docker/config.json`.
/// `Ok(None)` when there is no config file or nothing in it for `host`.
pub fn lookup(host: &str) -> Result<Option<Credential>, CredentialError> {
    let dir = match std::env::var_os("DOCKER_CONFIG").filter(|d| !d.is_empty()) {
        Some(dir) => PathBuf::from(dir),
        None => match std::env::var_os("HOME").or_else(|| std::env::var_os("USERPROFILE")) {
            Some(home) => PathBuf::from(home).join(".docker"),
            None => return Ok(None),
        },
    };
    lookup_in(&dir, host)
}

/// Same as [`lookup`], with an explicit config folder.
pub fn lookup_in(config_dir: &Path, host: &str) -> Result<Option<Credential>, CredentialError> {
    lookup_with(config_dir, host, None)
}

/// `helper_dir` runs helpers from that folder instead of PATH, so tests can supply fake helpers
/// without changing the environment of the whole test process (and the fuzz target runs none).
pub fn lookup_with(
    config_dir: &Path,
    host: &str,
    helper_dir: Option<&Path>,
) -> Result<Option<Credential>, CredentialError> {
    let path = config_dir.join("config.json");
    let Some(config) = read_config(&path)? else {
        return Ok(None);
    };
    let helper = |name: &str| Helper {
        program: format!("docker-credential-{name}"),
        dir: helper_dir,
        config: &path,
        host,
    };

    // A host-specific helper that knows nothing falls through to the other sources.
    if let Some(name) = best_match(&config.cred_helpers, host) {
        if let Some(found) = helper(name).get()? {
            return Ok(Some(found));
        }
    }
    if let Some((key, entry)) = best_entry(&config.auths, host) {
        if let Some(found) = entry.credential(&path, key, host)? {
            return Ok(Some(found));
        }
    }
    match config.creds_store.as_deref().filter(|s| !s.is_empty()) {
        Some(store) => helper(store).get(),
        None => Ok(None),
    }
}

fn read_config(path: &Path) -> Result<Option<DockerConfig>, CredentialError> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(source) => {
            return Err(CredentialError::Read {
                path: path.to_path_buf(),
                source,
            });
        }
    };
    // Docker accepts an empty file as an empty config.
    if text.trim().is_empty() {
        return Ok(Some(DockerConfig::default()));
    }
    serde_json::from_str(&text)
        .map(Some)
        .map_err(|e| CredentialError::Malformed {
            path: path.to_path_buf(),
            problem: json_problem(&e),
        })
}

/// serde_json's data errors quote the offending value, which may be a secret; keep only where.
fn json_problem(e: &serde_json::Error) -> String {
    match e.classify() {
        serde_json::error::Category::Data => format!(
            "unexpected value at line {} column {}",
            e.line(),
            e.column()
        ),
        _ => e.to_string(),
    }
}

/// The registry a config key names: keys may be "host", "https://host", "https://host/v1/".
fn registry_of(key: &str) -> &str {
    let rest = key
        .strip_prefix("https://")
        .or_else(|| key.strip_prefix("http://"))
        .unwrap_or(key);
    rest.split('/').next().unwrap_or(rest)
}

fn same_registry(key: &str, host: &str) -> bool {
    let hub = |h: &str| DOCKER_HUB_ALIASES.iter().any(|a| a.eq_ignore_ascii_case(h));
    let (a, b) = (registry_of(key), registry_of(host));
    a.eq_ignore_ascii_case(b) || (hub(a) && hub(b))
}

/// An exact key wins over a spelling variant of it (as in docker); otherwise the first variant.
fn best_entry<'a, V>(map: &'a BTreeMap<String, V>, host: &str) -> Option<(&'a str, &'a V)> {
    map.get_key_value(host)
        .or_else(|| map.iter().find(|(k, _)| same_registry(k, host)))
        .map(|(k, v)| (k.as_str(), v))
}

fn best_match<'a>(map: &'a BTreeMap<String, String>, host: &str) -> Option<&'a str> {
    best_entry(map, host).map(|(_, v)| v.as_str())
}

fn credential(username: String, secret: String) -> Credential {
    if username == TOKEN_USERNAME {
        Credential::IdentityToken(Secret::new(secret))
    } else {
        Credential::Basic {
            username,
            password: Secret::new(secret),
        }
    }
}

impl AuthEntry {
    /// `None` for an entry with nothing in it: with a credsStore, docker leaves `{}` here.
    fn credential(
        &self,
        path: &Path,
        key: &str,
        host: &str,
    ) -> Result<Option<Credential>, CredentialError> {
        if let Some(token) = self.identitytoken.as_deref().filter(|t| !t.is_empty()) {
            return Ok(Some(Credential::IdentityToken(Secret::new(token))));
        }
        if let Some(auth) = self.auth.as_deref().filter(|a| !a.is_empty()) {
            let bad = || CredentialError::BadAuth {
                path: path.to_path_buf(),
                key: key.to_string(),
                host: host.to_string(),
            };
            // Some tools write the base64 without padding; docker's decoder is strict, we need not be.
            let engine = GeneralPurpose::new(
                &base64::alphabet::STANDARD,
                GeneralPurposeConfig::new()
                    .with_decode_padding_mode(DecodePaddingMode::Indifferent),
            );
            let decoded = engine.decode(auth.trim()).map_err(|_| bad())?;
            let text = String::from_utf8(decoded).map_err(|_| bad())?;
            let (user, pass) = text.split_once(':').ok_or_else(bad)?;
            return Ok(Some(credential(user.to_string(), pass.to_string())));
        }
        match (&self.username, &self.password) {
            (Some(user), Some(pass)) if !pass.is_empty() => {
                Ok(Some(credential(user.clone(), pass.clone())))
            }
            _ => Ok(None),
        }
    }
}

struct Helper<'a> {
    program: String,
    dir: Option<&'a Path>,
    config: &'a Path,
    host: &'a str,
}

impl Helper<'_> {
    /// Runs `<program> get` with the server URL on stdin, the docker credential helper protocol.
    fn get(&self) -> Result<Option<Credential>, CredentialError> {
        let exe = self
            .dir
            .map_or_else(|| PathBuf::from(&self.program), |d| d.join(&self.program));
        let mut child = Command::new(exe)
            .arg("get")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| match e.kind() {
                io::ErrorKind::NotFound => CredentialError::HelperMissing {
                    program: self.program.clone(),
                    host: self.host.to_string(),
                    config: self.config.to_path_buf(),
                },
                _ => self.failed(format!("cannot start it: {e}")),
            })?;
        if let Some(mut stdin) = child.stdin.take() {
            // A helper that exits without reading makes this fail; its exit status says why.
            let _ = stdin.write_all(server_url(self.host).as_bytes());
        }
        let out = child
            .wait_with_output()
            .map_err(|e| self.failed(format!("cannot read its output: {e}")))?;
        if !out.status.success() {
            let stdout = String::from_utf8_lossy(&out.stdout);
            let stderr = String::from_utf8_lossy(&out.stderr);
            if stdout.to_lowercase().contains("credentials not found") {
                return Ok(None);
            }
            let said = [stdout.trim(), stderr.trim()]
                .into_iter()
                .find(|s| !s.is_empty())
                .map(|s| format!(": {}", s.chars().take(300).collect::<String>()))
                .unwrap_or_default();
            return Err(self.failed(format!("{}{said}", out.status)));
        }
        let reply: HelperReply = serde_json::from_slice(&out.stdout).map_err(|e| {
            self.failed(format!(
                "its output is not {{\"Username\",\"Secret\"}} JSON ({})",
                json_problem(&e)
            ))
        })?;
        if reply.secret.is_empty() {
            return Ok(None);
        }
        Ok(Some(credential(reply.username, reply.secret)))
    }

    fn failed(&self, reason: String) -> CredentialError {
        CredentialError::HelperFailed {
            program: self.program.clone(),
            host: self.host.to_string(),
            reason,
        }
    }
}

/// What docker passes to helpers: Docker Hub's historical URL, otherwise the bare host.
fn server_url(host: &str) -> String {
    if same_registry(host, "docker.io") {
        DOCKER_HUB_SERVER.to_string()
    } else {
        registry_of(host).to_string()
    }
}

#[cfg(test)]
mod tests;
