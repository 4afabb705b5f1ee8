//! Command-line definitions, logging and exit codes. No logic lives here.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{ArgAction, Args, Parser, Subcommand};

use crate::error::Outcome;
use crate::report::Format;
use crate::validate::schema::{KubeVersion, SchemaLocation};

const ABOUT: &str = "Validate, bundle, sign and ship Kubernetes manifests the GitOps way";

const EXAMPLES: &str = "\
Examples:
  kbundle validate examples/                      check a Config Sync repository
  kbundle validate --strict -o github manifests/  annotate a pull request
  kubectl kustomize overlays/prod | kbundle validate -

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
}

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

/// `kbundle validate`: kubeconform's flags, with the same meanings.
#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// Files or folders to validate (recursively: .yaml, .yml, .json); `-` or none reads stdin
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,

    /// Kubernetes version to validate against: 1.30 to 1.37 are embedded
    #[arg(long, value_name = "X.Y[.Z]", default_value_t = KubeVersion::latest())]
    pub kubernetes_version: KubeVersion,

    /// Refuse properties that the schema does not declare (duplicate keys are always refused)
    #[arg(long)]
    pub strict: bool,

    /// Where to find schemas, tried in order: `default` (the embedded ones), a folder, or a
    /// path/URL template with {{ .NormalizedKubernetesVersion }}, {{ .StrictSuffix }},
    /// {{ .ResourceKind }}, {{ .ResourceAPIVersion }}, {{ .Group }}, {{ .KindSuffix }}
    #[arg(long = "schema-location", value_name = "TEMPLATE")]
    pub schema_locations: Vec<SchemaLocation>,

    /// CustomResourceDefinitions (a file or a folder) to validate custom resources with;
    /// CRDs among the validated files are used too
    #[arg(long, value_name = "FILE_OR_DIR")]
    pub crd: Vec<PathBuf>,

    /// Kinds to skip, comma-separated: `Secret` or `apps/v1/Deployment`
    #[arg(long, value_name = "KINDS")]
    pub skip: Vec<String>,

    /// Kinds to refuse outright, comma-separated
    #[arg(long, value_name = "KINDS")]
    pub reject: Vec<String>,

    /// Skip resources that have no schema instead of failing them
    #[arg(long)]
    pub ignore_missing_schemas: bool,

    /// Leave out files whose path matches this regular expression (repeatable)
    #[arg(long, value_name = "REGEX")]
    pub ignore_filename_pattern: Vec<String>,

    /// Apply Config Sync's rules (on by default when a RootSync or RepoSync is present)
    #[arg(long, overrides_with = "no_configsync")]
    pub configsync: bool,

    /// Do not apply Config Sync's rules
    #[arg(long)]
    pub no_configsync: bool,

    /// Output format
    #[arg(short = 'o', long, value_enum, default_value_t = Format::Text)]
    pub output: Format,

    /// Print a summary at the end
    #[arg(long)]
    pub summary: bool,

    /// Print valid and skipped resources too
    #[arg(long)]
    pub verbose: bool,

    /// Number of files validated at once [default: number of cores]
    #[arg(short = 'n', long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    pub workers: Option<u16>,

    /// Stop at the first invalid resource or error
    #[arg(long)]
    pub exit_on_error: bool,

    /// Folder caching schemas downloaded over HTTP [default: ~/.cache/kbundle/schemas]
    #[arg(long, value_name = "DIR", env = "KBUNDLE_CACHE")]
    pub cache: Option<PathBuf>,
}

/// Parses the command line, runs the command, and maps the result to an exit code.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(cli.log_level);
    let result = match cli.command {
        Command::Validate(args) => crate::commands::validate::run(args),
    };
    match result {
        Ok(Outcome::Passed) => ExitCode::SUCCESS,
        Ok(Outcome::Failed) => ExitCode::from(1),
        Err(e) => {
            eprintln!("kbundle: error: {e}");
            ExitCode::from(2)
        }
    }
}

fn init_logging(verbosity: u8) {
    let default = match verbosity {
        0 => "warn",
        1 => "info",
        2 => "debug",
        _ => "trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .without_time()
        .init();
}
