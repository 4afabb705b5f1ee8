//! Command-line definitions, logging and exit codes. No logic lives here.

use std::process::ExitCode;

use clap::{ArgAction, CommandFactory, FromArgMatches, Parser, Subcommand};

pub mod config;

pub use crate::commands::args::*;

use crate::error::Outcome;

const ABOUT: &str = "Validate, bundle, sign and ship Kubernetes manifests the GitOps way";

const EXAMPLES: &str = "\
Examples:
  kbundle validate examples/                      check a Config Sync repository
  kbundle validate --strict -o github manifests/  annotate a pull request
  kubectl kustomize overlays/prod | kbundle validate -
  kbundle push examples/ --image oci-layout:out/root:v1
  kbundle sign oci-layout:out/root:v1 --key cosign.key
  kbundle verify oci-layout:out/root:v1 --key cosign.pub
  kbundle webhook --tls-cert tls.crt --tls-key tls.key --key cosign.pub

Exit codes: 0 success; 1 the input was judged and failed; 2 usage or environment error.";

#[derive(Debug, Parser)]
#[command(name = "kbundle", version, about = ABOUT, after_help = EXAMPLES)]
pub struct Cli {
    /// More log output on stderr: -v info, -vv debug, -vvv trace (RUST_LOG overrides)
    #[arg(short = 'v', action = ArgAction::Count, global = true)]
    pub log_level: u8,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Validate manifests against Kubernetes schemas, CRDs and Config Sync rules
    #[command(after_long_help = VALIDATE_EXAMPLES)]
    Validate(ValidateArgs),
    /// Write a reproducible tar or tar.gz of manifests
    #[command(after_long_help = BUNDLE_EXAMPLES)]
    Bundle(BundleArgs),
    /// Validate, bundle and push manifests as an OCI image; prints REF@sha256:…
    #[command(after_long_help = PUSH_EXAMPLES)]
    Push(Box<PushArgs>),
    /// Fetch a bundle and unpack it the way Config Sync does
    #[command(after_long_help = PULL_EXAMPLES)]
    Pull(PullArgs),
    /// Make a cosign-compatible key pair (cosign.key, cosign.pub)
    #[command(after_long_help = KEYGEN_EXAMPLES)]
    Keygen(KeygenArgs),
    /// Sign an image digest the way cosign does (sha256-<hex>.sig beside it)
    #[command(after_long_help = SIGN_EXAMPLES)]
    Sign(SignArgs),
    /// Check an image's cosign signatures; exit 0 when at least one holds
    #[command(after_long_help = VERIFY_EXAMPLES)]
    Verify(VerifyArgs),
    /// Verify a bundle, then copy it and its signatures to another repository or tag
    #[command(after_long_help = PROMOTE_EXAMPLES)]
    Promote(PromoteArgs),
    /// Validate, push, sign and bump in one step: the GitHub Action's pipeline
    #[command(after_long_help = PUBLISH_EXAMPLES)]
    Publish(Box<PublishArgs>),
    /// Point a RootSync/RepoSync (or Flux OCIRepository, kustomize images) at a new digest
    #[command(after_long_help = BUMP_EXAMPLES)]
    Bump(BumpArgs),
    /// Post the validation report as one sticky pull request comment (updated in place)
    #[command(after_long_help = COMMENT_EXAMPLES)]
    Comment(CommentArgs),
    /// What changes in the cluster between two bundles or folders, by resource; exit 1 if any
    #[command(after_long_help = DIFF_EXAMPLES)]
    Diff(Box<DiffArgs>),
    /// Serve the Config Sync admission webhook that refuses unsigned images
    #[command(after_long_help = WEBHOOK_EXAMPLES)]
    Webhook(Box<WebhookArgs>),
}

const WEBHOOK_EXAMPLES: &str = "\
Examples:
  kbundle webhook --tls-cert tls.crt --tls-key tls.key --key cosign.pub
      Serve POST /validate on 0.0.0.0:10250: when Config Sync sets a RootSync or RepoSync's
      configsync.gke.io/image-to-sync annotation to a new IMAGE@sha256:…, allow it only if a
      cosign signature on that digest verifies with one of the keys.
  kbundle webhook --listen 127.0.0.1:8443 --tls-cert tls.crt --tls-key tls.key --key keys/ \\
      --annotation approved-by=release --plain-http
      A folder of *.pub keys, a required signed annotation, an in-cluster HTTP registry.

Also serves GET /healthz, /readyz and /metrics (Prometheus). Logs are JSON lines on stderr.
The certificate files are re-read when they change (cert-manager). Registry credentials: the
docker config (DOCKER_CONFIG), and Google's metadata server for Artifact Registry on GKE.
Deployment manifests: deploy/webhook/ (kustomize). Exit codes: 0 stopped by SIGTERM/SIGINT;
2 usage or startup error (bad key, certificate, address).";

const DIFF_EXAMPLES: &str = "\
Examples:
  kbundle diff us-docker.pkg.dev/p/config/root@sha256:… us-docker.pkg.dev/p/config/root:v2
      Pull both bundles and print what changes, resource by resource.
  kbundle diff oci-layout:out/root:v1 manifests/ -o markdown
      Compare a bundle with the folder it would be rebuilt from, as markdown.

Resources are matched by API group, kind, namespace (as written: none is not `default`) and
name, not by file; moving, reordering and comments are not changes. Secret values are never
printed, only which keys changed. A path that exists is a folder or file; anything else is an
image reference. Exit codes: 0 no change; 1 changes; 2 usage or environment error.";

const COMMENT_EXAMPLES: &str = "\
Examples:
  kbundle comment --repo org/config --pr 42 manifests/
      Validate manifests/ and post the markdown report on pull request #42, or update the
      comment kbundle posted before (found by a hidden marker). Needs GITHUB_TOKEN.
  kbundle comment manifests/
      In a pull_request workflow: the repository and number come from GITHUB_REPOSITORY and
      GITHUB_EVENT_PATH.
  kbundle validate -o json --summary manifests/ > report.json
  kbundle comment --report report.json
      Post a report made earlier instead of validating again. In Actions, comment also
      annotates the lines (the first 10; GitHub shows no more) and writes the job summary.

Exit codes: 0 all valid; 1 invalid (after commenting); 2 usage, token or GitHub error.";

const PUBLISH_EXAMPLES: &str = "\
Examples:
  kbundle publish examples/
      Offline: validate, push to oci-layout:.kbundle/oci:latest, sign with a key pair
      generated in .kbundle/ (password: COSIGN_PASSWORD, or none), verify. No account needed.
  kbundle publish manifests/ --image us-docker.pkg.dev/p/config/root:v2 --key cosign.key \\
      --fleet-file fleet/clusters/prod/root-sync.yaml
      Push to a registry, sign, then point the fleet's RootSync at the new digest.
  kbundle publish
      With ./kbundle.yaml holding the settings (publish's long flag names as keys):
        paths: [manifests]
        image: us-docker.pkg.dev/p/config/root:v2
        strict: true
        fleet-file: fleet/clusters/prod/root-sync.yaml
      A flag on the command line replaces the file's setting; --no-config ignores the file.

In GitHub Actions, `kbundle` with no arguments reads the action's inputs (INPUT_*), writes
the outputs digest, image and report to $GITHUB_OUTPUT and a summary to $GITHUB_STEP_SUMMARY.
Exit codes: 0 published; 1 invalid manifests (nothing pushed); 2 usage or environment error.";

const BUMP_EXAMPLES: &str = "\
Examples:
  kbundle bump --file clusters/prod/root-sync.yaml \\
      --image us-docker.pkg.dev/p/config/root:v2@sha256:…
      Sets spec.oci.image; comments, key order, quoting and the other documents stay
      byte-identical. Prints what changed, or `up to date`.
  kbundle bump --repo org/fleet --file clusters/prod/root-sync.yaml \\
      --image us-docker.pkg.dev/p/config/root:v2@sha256:… --label deploy --reviewer alice
      Commit the change to branch kbundle/root-sync and open (or update) its pull request.
      Needs GITHUB_TOKEN; outputs pull-request-number, pull-request-url, operation.
  kbundle bump --repo org/fleet --file clusters/prod/root-sync.yaml --image … \
      --app-id 12345 --app-private-key fleet-bot.pem
      Act as a GitHub App installed on org/fleet (an installation token scoped to that
      repository), for workflows whose own token cannot write there. The key may also be
      the PEM text itself, or come from KBUNDLE_APP_PRIVATE_KEY.

Exit codes: 0 changed or up to date; 2 no target in the file, or another error.";

const KEYGEN_EXAMPLES: &str = "\
Examples:
  COSIGN_PASSWORD=... kbundle keygen              writes cosign.key (0600) and cosign.pub
  kbundle keygen --output-key-prefix release      writes release.key and release.pub

The private key is encrypted like cosign's (scrypt N=65536 + nacl/secretbox) with
COSIGN_PASSWORD (set but empty means no password), or a password asked on the terminal.";

const SIGN_EXAMPLES: &str = "\
Examples:
  kbundle sign us-docker.pkg.dev/p/config/root:v1 --key cosign.key
  kbundle sign oci-layout:out/root:v1 --key cosign.key --annotation approved-by=release
      A second signature (another key, an approval) is added beside the first.

The signature covers the digest the tag points at now; `cosign verify --key cosign.pub
--insecure-ignore-tlog` accepts it. Exit codes: 0 signed (or already signed); 2 error.";

const VERIFY_EXAMPLES: &str = "\
Examples:
  kbundle verify us-docker.pkg.dev/p/config/root:v1 --key cosign.pub
  kbundle verify oci-layout:out/root:v1 --key keys/ --annotation approved-by=release -o json

Exit codes: 0 at least one signature holds; 1 none does (each reason is printed); 2 error.";

const PROMOTE_EXAMPLES: &str = "\
Examples:
  kbundle promote us-docker.pkg.dev/p/staging/root:v1 us-docker.pkg.dev/p/prod/root:v1 \\
      --key release.pub
      Verify, copy the image and its .sig (mounting blobs on the same registry), tag, verify.
      Before the tag moves, the diff between what it held and what it will hold is printed
      (stderr); with --dry-run it is printed on stdout and nothing is written.

Exit codes: 0 promoted; 1 the source is unsigned or wrongly signed (nothing copied); 2 error.";

const BUNDLE_EXAMPLES: &str = "\
Examples:
  kbundle bundle examples/ -o bundle.tar.gz
      The same files give the same bytes on any machine: sorted entries, zeroed times and
      owners, modes 0644/0755, directories before their files.
  kbundle bundle manifests/ --ignore '*.md' --ignore 'tests/' -o bundle.tar";

const PUSH_EXAMPLES: &str = "\
Examples:
  kbundle push examples/ --image oci-layout:out/bundle:v1
      Validate, then write the image into an OCI layout folder; no registry needed.
  kbundle push manifests/ --image us-docker.pkg.dev/proj/config/root:v1
      Push to a registry with the docker config's credentials; prints REF:TAG@sha256:….
  echo \"$TOKEN\" | kbundle push manifests/ --image localhost:5000/root:v1 --username ci --password-stdin
  kbundle push manifests/ --artifact flux --image ghcr.io/org/fleet:main --annotation team=web

The tag is written last: a push that fails midway leaves no tag on incomplete content.
Exit codes: 0 pushed; 1 the manifests are invalid (nothing pushed); 2 usage, credential or
registry error.";

const PULL_EXAMPLES: &str = "\
Examples:
  kbundle pull us-docker.pkg.dev/proj/config/root:v1 -o root/
  kbundle pull oci-layout:out/bundle:v1 -o /tmp/bundle

Paths outside DIR (absolute, `..`, escaping links) are refused. Nothing is left behind in DIR
when the pull fails.";

const VALIDATE_EXAMPLES: &str = "\
Examples:
  kbundle validate examples/
      Validate every .yaml, .yml and .json file under examples/ against the embedded
      Kubernetes 1.37 schemas, the CRDs found among them, and Config Sync's rules.
  kbundle validate --kubernetes-version 1.31 --strict deploy.yaml
      Validate against 1.31 and refuse properties the schema does not know.
  kbundle validate --crd crds/ -o json --summary manifests/ > report.json
      Use CustomResourceDefinitions from crds/ and write kubeconform-style JSON.
  kbundle validate --schema-location default \\
      --schema-location 'https://example.com/{{ .Group }}/{{ .ResourceKind }}_{{ .ResourceAPIVersion }}.json' .
      Fall back to a CRD catalog for kinds the embedded schemas do not know.
  helm template chart/ | kbundle validate -o github
      Read stdin and print GitHub Actions annotations.

Exit codes: 0 all valid; 1 any resource invalid or in error; 2 usage or environment error.";

/// Parses the command line, runs the command, and maps the result to an exit code.
pub fn main() -> ExitCode {
    let mut argv: Vec<std::ffi::OsString> = std::env::args_os().collect();
    // As a GitHub Action the container gets no arguments: the step's inputs say what to do.
    let mut action = None;
    if argv.len() == 1 && crate::actions::active() {
        // Nobody reads a result on stdout here: the whole log goes down one pipe, in order.
        crate::actions::merge_streams();
        match crate::commands::action::argv_from_inputs() {
            Ok(invocation) => {
                argv = invocation.argv.clone();
                action = Some(invocation);
            }
            Err(e) => {
                fatal(true, "kbundle", &e.to_string());
                return ExitCode::from(2);
            }
        }
    }
    // kubeconform's single-dash flags: `kubeconform -summary …` works as `kbundle validate -summary …`.
    let argv = crate::commands::args::kubeconform_argv(argv);
    let from_inputs = action.is_some();
    let title = match &action {
        Some(a) => format!("kbundle {}", a.command),
        None => "kbundle".to_owned(),
    };
    let said = |message: &str| match &action {
        Some(a) => a.in_input_terms(message),
        None => message.to_owned(),
    };
    // Settings from kbundle.yaml go in only where the command line left a flag unset.
    let command = Cli::command();
    let given = match command.clone().try_get_matches_from(&argv) {
        Ok(given) => given,
        Err(e) => return usage_error(e, from_inputs, &title, &said),
    };
    let parsed = match config::apply(&argv, &given, &command) {
        Ok(None) => Cli::from_arg_matches(&given),
        Ok(Some(with_settings)) => Cli::try_parse_from(with_settings),
        Err(e) => {
            fatal(from_inputs, &title, &said(&e.to_string()));
            return ExitCode::from(2);
        }
    };
    let cli = match parsed {
        Ok(cli) => cli,
        Err(e) => return usage_error(e, from_inputs, &title, &said),
    };
    // A server's log is read by machines (kubectl logs, log collectors): JSON, from info up.
    init_logging(cli.log_level, matches!(cli.command, Command::Webhook(_)));
    let result = match cli.command {
        Command::Validate(args) => crate::commands::validate::run(args),
        Command::Bundle(args) => crate::commands::bundle::run(args),
        Command::Push(args) => crate::commands::push::run(*args),
        Command::Pull(args) => crate::commands::pull::run(args),
        Command::Keygen(args) => crate::commands::keygen::run(args),
        Command::Sign(args) => crate::commands::sign::run(args),
        Command::Verify(args) => crate::commands::verify::run(args),
        Command::Promote(args) => crate::commands::promote::run(args),
        Command::Bump(args) => crate::commands::bump::run(args),
        Command::Comment(args) => crate::commands::comment::run(args),
        Command::Publish(args) => crate::commands::publish::run(*args),
        Command::Webhook(args) => crate::commands::webhook::run(*args),
        Command::Diff(args) => crate::commands::diff::run(*args),
    };
    // Whatever happened, what was written in the workspace belongs to its owner.
    crate::actions::hand_back();
    match result {
        Ok(Outcome::Passed) => ExitCode::SUCCESS,
        Ok(Outcome::Failed) => ExitCode::from(1),
        Err(e) => {
            fatal(from_inputs, &title, &said(&e.to_string()));
            ExitCode::from(2)
        }
    }
}

/// An error that stops the command: run as the action, an `::error` annotation titled with
/// the command; as a command line (a terminal, a `run:` step), `kbundle: error: …` on stderr.
fn fatal(from_inputs: bool, title: &str, message: &str) {
    if from_inputs {
        crate::actions::annotate("error", title, message);
    } else {
        eprintln!("kbundle: error: {message}");
    }
}

/// clap's refusal of a command line; run from inputs, its first line in the inputs' terms as
/// an annotation (usage lines and `--help` tips name flags the user never wrote).
fn usage_error(
    e: clap::Error,
    from_inputs: bool,
    title: &str,
    said: &dyn Fn(&str) -> String,
) -> ExitCode {
    use clap::error::ErrorKind;
    if !from_inputs || matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) {
        e.exit();
    }
    let text = e.to_string();
    let first = text
        .lines()
        .next()
        .unwrap_or_default()
        .trim_start_matches("error: ");
    fatal(true, title, &said(first));
    ExitCode::from(2)
}

fn init_logging(verbosity: u8, server: bool) {
    let default = match verbosity {
        0 if server => "info",
        0 => "warn",
        1 => "info",
        2 => "debug",
        _ => "trace",
    };
    use tracing_subscriber::layer::SubscriberExt as _;
    use tracing_subscriber::util::SubscriberInitExt as _;
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    // Whatever RUST_LOG asks for: raw HTTP bytes carry tokens (see `http::is_wire_dump`).
    let no_wire =
        tracing_subscriber::filter::filter_fn(|meta| !crate::http::is_wire_dump(meta.target()));
    let log = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false);
    if server {
        log.json()
            .with_current_span(false)
            .finish()
            .with(no_wire)
            .init();
    } else {
        log.without_time().finish().with(no_wire).init();
    }
}
