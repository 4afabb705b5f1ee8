//! Running as the GitHub Action: the step's inputs (`INPUT_<NAME>`, upper case, hyphens kept)
//! become a command line, and messages about its flags are said in terms of the inputs.

use std::ffi::OsString;
use std::ops::{Deref, DerefMut};

use crate::actions;
use crate::error::{Error, Result};

/// Every input `action.yml` declares; a test checks the two agree.
pub const INPUTS: [&str; 24] = [
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
    "fleet-diff",
    "github-token",
    "app-id",
    "app-private-key",
    "comment",
    "annotations",
];

/// Inputs that hold secrets: masked before anything else is printed.
const SECRETS: [&str; 4] = ["key-password", "github-token", "app-private-key", "key"];

/// Files of an ordinary repository that are never Kubernetes manifests, which the default
/// `paths: .` would otherwise validate and bundle: Docker Compose files and kbundle's own
/// settings (a regex for validate's --ignore-filename-pattern) and, for publish's --ignore
/// (gitignore globs, used only without a kbundle.yaml), the workflows in `.github/` as well
/// (validate skips hidden folders already).
const NOT_MANIFESTS_PATTERN: &str = r"(^|/)((docker-)?compose(\.[^/]*)?\.ya?ml|kbundle\.yaml)$";
const NOT_MANIFESTS: [&str; 5] = [
    "/.github/",
    "docker-compose*.yml",
    "docker-compose*.yaml",
    "compose*.yml",
    "compose*.yaml",
];

/// A command line made from the inputs, and which input each of its flags stands for.
pub struct Invocation {
    pub argv: Vec<OsString>,
    /// `publish`, `validate`, …
    pub command: String,
    /// (flag or variable as messages name it, input)
    names: Vec<(&'static str, &'static str)>,
}

impl Invocation {
    /// The message with every flag the inputs set named as its input: `--fleet-image X`
    /// becomes `input fleet-image X`, clap's `'--artifact <ARTIFACT>'` becomes
    /// `'input artifact'`.
    pub fn in_input_terms(&self, message: &str) -> String {
        let mut names = self.names.clone();
        names.sort_by_key(|(flag, _)| std::cmp::Reverse(flag.len()));
        let mut text = message.to_owned();
        for (flag, input) in names {
            text = replace_word(&text, flag, &format!("input {input}"));
        }
        text
    }
}

/// Replaces `word` where it stands alone (not inside a longer flag or name), with clap's
/// ` <VALUE>` placeholder after it dropped.
fn replace_word(text: &str, word: &str, with: &str) -> String {
    let part = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_';
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(word) {
        let before = rest[..at].chars().next_back();
        let after_start = at + word.len();
        let after = rest[after_start..].chars().next();
        if before.is_some_and(part) || after.is_some_and(part) {
            out.push_str(&rest[..after_start]);
            rest = &rest[after_start..];
            continue;
        }
        out.push_str(&rest[..at]);
        out.push_str(with);
        rest = &rest[after_start..];
        if let Some(placeholder) = rest.strip_prefix(" <") {
            if let Some(end) = placeholder.find('>') {
                rest = &placeholder[end + 1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// The command line being built, with what each flag stands for.
struct Argv {
    args: Vec<OsString>,
    names: Vec<(&'static str, &'static str)>,
}

impl Argv {
    /// Records that `flag` (or a variable, a placeholder) stands for `input`.
    fn name(&mut self, input: &'static str, flag: &'static str) {
        self.names.push((flag, input));
    }
}

impl Deref for Argv {
    type Target = Vec<OsString>;
    fn deref(&self) -> &Vec<OsString> {
        &self.args
    }
}

impl DerefMut for Argv {
    fn deref_mut(&mut self) -> &mut Vec<OsString> {
        &mut self.args
    }
}

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
pub fn argv_from_inputs() -> Result<Invocation> {
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
    let mut argv = Argv {
        args: vec!["kbundle".into(), command.clone().into()],
        names: Vec::new(),
    };
    argv.name("paths", "[PATH]...");
    let mut paths: Vec<String> = input("paths")
        .split(['\n', ','])
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(str::to_owned)
        .collect();
    // The default, the whole workspace, leaves out Docker Compose files, which are never
    // Kubernetes manifests.
    let whole_workspace = paths.iter().all(|p| p == "." || p == "./");
    if whole_workspace {
        paths = vec![".".to_owned()];
    }
    match command.as_str() {
        "validate" => {
            rules(&mut argv);
            argv.push("--summary".into());
            if on("annotations") {
                argv.extend(["-o".into(), "github".into()]);
            }
            argv.extend(["--report".into(), ".kbundle/report.json".into()]);
            if on("comment") {
                argv.push("--comment".into());
            }
            argv.name("comment", "--comment");
            token(&mut argv);
            if whole_workspace {
                argv.extend([
                    "--ignore-filename-pattern".into(),
                    NOT_MANIFESTS_PATTERN.into(),
                ]);
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
            no_diff(&mut argv);
            if on("comment") {
                argv.push("--comment".into());
            }
            argv.name("comment", "--comment");
            if on("annotations") {
                argv.push("--github-annotations".into());
            }
            argv.name("annotations", "--github-annotations");
            if whole_workspace {
                // No path on the command line, so kbundle.yaml's `paths` (if any) applies; its
                // `ignore` too, which an --ignore here would replace.
                paths.clear();
                if !std::path::Path::new("kbundle.yaml").exists() {
                    for glob in NOT_MANIFESTS {
                        argv.extend(["--ignore".into(), glob.into()]);
                    }
                }
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
            argv.name("image", "<REF>");
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
            no_diff(&mut argv);
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
    Ok(Invocation {
        argv: argv.args,
        command,
        names: argv.names,
    })
}

/// A boolean input that is on unless switched off: `docker://` steps get no default from
/// action.yml, and the defaults there are `true`.
fn on(name: &str) -> bool {
    !matches!(input(name).to_lowercase().as_str(), "false" | "no" | "0")
}

/// `fleet-diff: false` is `--no-diff`.
fn no_diff(argv: &mut Argv) {
    argv.name("fleet-diff", "--no-diff");
    if !on("fleet-diff") {
        argv.push("--no-diff".into());
    }
}

/// Pushes `--flag VALUE` when the input is set.
fn flag(argv: &mut Argv, name: &'static str, flag: &'static str) {
    argv.name(name, flag);
    let v = input(name);
    if !v.is_empty() {
        argv.push(flag.into());
        argv.push(v.into());
    }
}

/// The validation inputs.
fn rules(argv: &mut Argv) {
    flag(argv, "kubernetes-version", "--kubernetes-version");
    argv.name("strict", "--strict");
    if truthy("strict") {
        argv.push("--strict".into());
    }
}

/// Google Workload Identity inputs, for commands that reach a registry.
fn google(argv: &mut Argv) {
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
fn key(argv: &mut Argv) -> Result<()> {
    argv.name("key", "--key");
    argv.name("key-password", "COSIGN_PASSWORD");
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
fn github(argv: &mut Argv, app_id: &str, app_key: String) {
    token(argv);
    argv.name("app-id", "--app-id");
    argv.name("app-private-key", "--app-private-key");
    argv.name("app-private-key", "KBUNDLE_APP_PRIVATE_KEY");
    if !app_id.is_empty() {
        argv.extend(["--app-id".into(), app_id.into()]);
        // SAFETY: called from `main` before any other thread exists.
        unsafe { std::env::set_var("KBUNDLE_APP_PRIVATE_KEY", app_key) };
    }
}

/// `github-token` becomes GITHUB_TOKEN (the pull request comment of validate and publish).
fn token(argv: &mut Argv) {
    argv.name("github-token", "GITHUB_TOKEN");
    let token = input("github-token");
    if !token.is_empty() {
        // SAFETY: called from `main` before any other thread exists.
        unsafe { std::env::set_var("GITHUB_TOKEN", token) };
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

#[cfg(test)]
mod tests {
    use super::*;

    fn invocation(names: &[(&'static str, &'static str)]) -> Invocation {
        Invocation {
            argv: Vec::new(),
            command: "publish".to_owned(),
            names: names.to_vec(),
        }
    }

    #[test]
    fn flags_become_inputs_only_where_they_stand_alone() {
        let i = invocation(&[("--fleet-image", "fleet-image"), ("--image", "image")]);
        assert_eq!(
            i.in_input_terms("--fleet-image x: leave the digest out; --image y, --images z"),
            "input fleet-image x: leave the digest out; input image y, --images z"
        );
    }

    #[test]
    fn clap_placeholders_go_with_their_flag() {
        let i = invocation(&[("--artifact", "artifact")]);
        assert_eq!(
            i.in_input_terms("invalid value 'docker' for '--artifact <ARTIFACT>'"),
            "invalid value 'docker' for 'input artifact'"
        );
    }

    #[test]
    fn variables_become_inputs() {
        let i = invocation(&[("GITHUB_TOKEN", "github-token")]);
        assert_eq!(
            i.in_input_terms("no token: set GITHUB_TOKEN"),
            "no token: set input github-token"
        );
    }
}
