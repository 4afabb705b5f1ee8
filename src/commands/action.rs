//! Running as the GitHub Action: the step's inputs (`INPUT_<NAME>`, upper case, hyphens kept)
//! become a command line.

use std::ffi::OsString;

use crate::error::{Error, Result};
use crate::github::actions;

/// Every input `action.yml` declares; a test checks the two agree.
pub const INPUTS: [&str; 23] = [
    "command",
    "paths",
    "image",
    "artifact",
    "kubernetes-version",
    "strict",
    "workload-identity-provider",
    "service-account",
    "sign",
    "signature-format",
    "key",
    "key-password",
    "certificate-identity",
    "certificate-oidc-issuer",
    "fleet-repo",
    "fleet-file",
    "fleet-base",
    "fleet-image",
    "github-token",
    "app-id",
    "app-private-key",
    "comment",
    "annotations",
];

/// Inputs that hold secrets: masked before anything else is printed.
const SECRETS: [&str; 4] = ["key-password", "github-token", "app-private-key", "key"];

fn input(name: &str) -> String {
    std::env::var(format!("INPUT_{}", name.to_uppercase()))
        .unwrap_or_default()
        .trim()
        .to_owned()
}

fn truthy(name: &str) -> bool {
    matches!(input(name).to_lowercase().as_str(), "true" | "yes" | "1")
}

/// Builds `kbundle <command> …` from the inputs. Secrets are masked first; a key given as
/// PEM text is written to a private file in the runner's temp folder.
pub fn argv_from_inputs() -> Result<Vec<OsString>> {
    for name in SECRETS {
        let value = input(name);
        if !value.is_empty() && (name != "key" || value.contains("-----BEGIN")) {
            actions::mask(&value);
        }
    }
    let (app_id, app_key) = (input("app-id"), input("app-private-key"));
    if app_id.is_empty() != app_key.is_empty() {
        return Err(Error::new(
            "inputs app-id and app-private-key go together; set both (the GitHub App's ID and \
             its private key secret) or neither",
        ));
    }
    let command = match input("command").as_str() {
        "" => "publish".to_owned(),
        c => c.to_owned(),
    };
    let mut argv: Vec<OsString> = vec!["kbundle".into(), command.clone().into()];
    let paths: Vec<String> = input("paths")
        .split(['\n', ','])
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(str::to_owned)
        .collect();
    match command.as_str() {
        "validate" => {
            rules(&mut argv);
            argv.push("--summary".into());
            if input("annotations") != "false" {
                argv.extend(["-o".into(), "github".into()]);
            }
        }
        "publish" => {
            flag(&mut argv, "image", "--image");
            flag(&mut argv, "artifact", "--artifact");
            flag(&mut argv, "sign", "--sign");
            flag(&mut argv, "signature-format", "--signature-format");
            flag(&mut argv, "fleet-file", "--fleet-file");
            flag(&mut argv, "fleet-repo", "--fleet-repo");
            flag(&mut argv, "fleet-base", "--fleet-base");
            flag(&mut argv, "fleet-image", "--fleet-image");
            // On unless switched off: `docker://` steps get no default from action.yml.
            if !matches!(
                input("comment").to_lowercase().as_str(),
                "false" | "no" | "0"
            ) {
                argv.push("--comment".into());
            }
            rules(&mut argv);
            google(&mut argv);
            key(&mut argv)?;
            github(&mut argv, &app_id, app_key);
        }
        "verify" => {
            let image = input("image");
            if image.is_empty() {
                return Err(Error::new(
                    "input image: command verify needs the image to check (REF or REF@sha256:…)",
                ));
            }
            argv.push(image.into());
            if input("certificate-identity").is_empty() {
                key(&mut argv)?;
            } else {
                // Keyless: the public-good trust root; a private Sigstore needs the CLI's
                // --certificate-chain and --rekor-public-key (docker:// form with args).
                flag(&mut argv, "certificate-identity", "--certificate-identity");
                flag(
                    &mut argv,
                    "certificate-oidc-issuer",
                    "--certificate-oidc-issuer",
                );
            }
            google(&mut argv);
        }
        "bump" => {
            flag(&mut argv, "fleet-file", "--file");
            flag(&mut argv, "image", "--image");
            flag(&mut argv, "fleet-repo", "--repo");
            flag(&mut argv, "fleet-base", "--base");
            github(&mut argv, &app_id, app_key);
        }
        "comment" => {
            rules(&mut argv);
            github(&mut argv, &app_id, app_key);
        }
        other => {
            return Err(Error::new(format!(
                "input command: {other:?} cannot run from inputs; use publish, validate, verify, \
                 bump or comment, or call the image with `args:` (docs/action.md)"
            )));
        }
    }
    if matches!(command.as_str(), "validate" | "publish" | "comment") {
        argv.extend(paths.into_iter().map(OsString::from));
    }
    Ok(argv)
}

/// Pushes `--flag VALUE` when the input is set.
fn flag(argv: &mut Vec<OsString>, name: &str, flag: &str) {
    let v = input(name);
    if !v.is_empty() {
        argv.push(flag.into());
        argv.push(v.into());
    }
}

/// The validation inputs.
fn rules(argv: &mut Vec<OsString>) {
    flag(argv, "kubernetes-version", "--kubernetes-version");
    if truthy("strict") {
        argv.push("--strict".into());
    }
}

/// Google Workload Identity inputs, for commands that reach a registry.
fn google(argv: &mut Vec<OsString>) {
    flag(
        argv,
        "workload-identity-provider",
        "--workload-identity-provider",
    );
    flag(argv, "service-account", "--service-account");
}

/// The `key` input: a path in the workspace, or the PEM text of a secret, written to a private
/// file (a cosign private key for publish, a public key for verify). `key-password` becomes
/// COSIGN_PASSWORD.
fn key(argv: &mut Vec<OsString>) -> Result<()> {
    let key = input("key");
    if key.contains("-----BEGIN") {
        argv.push("--key".into());
        argv.push(write_key(&key)?.into());
    } else if !key.is_empty() {
        argv.extend(["--key".into(), key.into()]);
    }
    let password = input("key-password");
    if !password.is_empty() {
        // SAFETY: called from `main` before any other thread exists.
        unsafe { std::env::set_var("COSIGN_PASSWORD", password) };
    }
    Ok(())
}

/// GitHub credentials: `github-token` becomes GITHUB_TOKEN; a GitHub App's ID goes on the
/// command line and its key by environment, since argv is visible to every process.
fn github(argv: &mut Vec<OsString>, app_id: &str, app_key: String) {
    let token = input("github-token");
    if !token.is_empty() {
        // SAFETY: called from `main` before any other thread exists.
        unsafe { std::env::set_var("GITHUB_TOKEN", token) };
    }
    if !app_id.is_empty() {
        argv.extend(["--app-id".into(), app_id.into()]);
        // SAFETY: called from `main` before any other thread exists.
        unsafe { std::env::set_var("KBUNDLE_APP_PRIVATE_KEY", app_key) };
    }
}

/// Writes a PEM key from an input to a 0600 file that the runner's temp cleanup removes.
fn write_key(pem: &str) -> Result<String> {
    // In a container action RUNNER_TEMP names the host's folder, which is not mounted.
    let dir = std::env::var_os("RUNNER_TEMP")
        .map(std::path::PathBuf::from)
        .filter(|d| d.is_dir())
        .unwrap_or_else(std::env::temp_dir);
    let file = tempfile::Builder::new()
        .prefix("kbundle-key-")
        .suffix(".key")
        .tempfile_in(&dir)
        .map_err(|e| Error::new(format!("{}: {e}", dir.display())))?;
    let (_, path) = file
        .keep()
        .map_err(|e| Error::new(format!("cannot keep the key file: {e}")))?;
    super::write_atomically(&path, pem.as_bytes(), Some(0o600))?;
    Ok(path.display().to_string())
}
