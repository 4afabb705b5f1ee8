//! Command-line definitions, logging and exit codes. No logic lives here.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{ArgAction, Args, Parser, Subcommand};

use crate::bundle::ArtifactKind;
use crate::error::Outcome;
use crate::oci::ImageRef;
use crate::report::Format;
use crate::validate::schema::{KubeVersion, SchemaLocation};

const ABOUT: &str = "Validate, bundle, sign and ship Kubernetes manifests the GitOps way";

const EXAMPLES: &str = "\
Examples:
  kbundle validate examples/                      check a Config Sync repository
  kbundle validate --strict -o github manifests/  annotate a pull request
  kubectl kustomize overlays/prod | kbundle validate -
  kbundle push examples/ --image oci-layout:out/root:v1
  kbundle sign oci-layout:out/root:v1 --key cosign.key
  kbundle verify oci-layout:out/root:v1 --key cosign.pub

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
    /// Point a RootSync/RepoSync (or Flux OCIRepository, kustomize images) at a new digest
    #[command(after_long_help = BUMP_EXAMPLES)]
    Bump(BumpArgs),
}

const BUMP_EXAMPLES: &str = "\
Examples:
  kbundle bump --file clusters/prod/root-sync.yaml \\
      --image us-docker.pkg.dev/p/config/root:v2@sha256:…
      Sets spec.oci.image; comments, key order, quoting and the other documents stay
      byte-identical. Prints what changed, or `up to date`.

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

/// `kbundle validate`: kubeconform's flags, with the same meanings.
#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// Files or folders to validate (recursively: .yaml, .yml, .json; hidden folders skipped);
    /// `-` or none reads stdin
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,

    #[command(flatten)]
    pub rules: RuleArgs,

    /// Leave out files whose path matches this regular expression (repeatable)
    #[arg(long, value_name = "REGEX")]
    pub ignore_filename_pattern: Vec<String>,

    /// Output format
    #[arg(short = 'o', long, value_enum, default_value_t = Format::Text)]
    pub output: Format,

    /// Print a summary at the end
    #[arg(long)]
    pub summary: bool,

    /// Print valid and skipped resources too
    #[arg(long)]
    pub verbose: bool,

    /// Stop at the first invalid resource or error
    #[arg(long)]
    pub exit_on_error: bool,
}

/// What decides whether a manifest is valid; shared by `validate` and `push`.
#[derive(Debug, Args)]
pub struct RuleArgs {
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

    /// Apply Config Sync's rules (on by default when a RootSync or RepoSync is present)
    #[arg(long, overrides_with = "no_configsync")]
    pub configsync: bool,

    /// Do not apply Config Sync's rules
    #[arg(long)]
    pub no_configsync: bool,

    /// Number of files validated at once [default: number of cores]
    #[arg(short = 'n', long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    pub workers: Option<u16>,

    /// Folder caching schemas downloaded over HTTP [default: ~/.cache/kbundle/schemas]
    #[arg(long, value_name = "DIR", env = "KBUNDLE_CACHE")]
    pub cache: Option<PathBuf>,
}

/// `kbundle bundle`.
#[derive(Debug, Args)]
pub struct BundleArgs {
    /// Folders (their contents go to the archive root) or files to bundle
    #[arg(value_name = "PATH", required = true)]
    pub paths: Vec<PathBuf>,

    /// Archive to write; `.tar.gz`/`.tgz` are gzipped unless --format says otherwise
    #[arg(short = 'o', long, value_name = "FILE")]
    pub output: PathBuf,

    /// Archive format [default: from the file name, else tar]
    #[arg(long, value_enum)]
    pub format: Option<ArchiveFormat>,

    #[command(flatten)]
    pub select: SelectArgs,
}

/// Which files go into a bundle.
#[derive(Debug, Args)]
pub struct SelectArgs {
    /// Leave out files matching this pattern (gitignore syntax, repeatable); `.git` and the
    /// patterns in `.kbundleignore` files are always left out
    #[arg(long, value_name = "PATTERN")]
    pub ignore: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ArchiveFormat {
    /// Plain tar
    Tar,
    /// Gzipped tar
    Tgz,
}

/// How to reach and log in to a registry.
#[derive(Debug, Args)]
pub struct RegistryArgs {
    /// Talk HTTP, not HTTPS, to the registry (automatic for localhost and 127.0.0.0/8)
    #[arg(long)]
    pub plain_http: bool,

    /// Registry user name; the password is read from stdin (--password-stdin) [default: the
    /// docker config's credentials for the registry]
    #[arg(long, value_name = "USER", requires = "password_stdin")]
    pub username: Option<String>,

    /// Read the registry password from stdin
    #[arg(long, requires = "username")]
    pub password_stdin: bool,
}

/// `kbundle push`.
#[derive(Debug, Args)]
pub struct PushArgs {
    /// Folders or files to bundle (see `kbundle bundle`)
    #[arg(value_name = "PATH", required = true)]
    pub paths: Vec<PathBuf>,

    /// Where to push: REGISTRY/REPOSITORY[:TAG] or oci-layout:DIR[:TAG]
    #[arg(long, value_name = "REF")]
    pub image: ImageRef,

    /// What kind of OCI artifact to make
    #[arg(long, value_enum, default_value_t = ArtifactKind::Configsync)]
    pub artifact: ArtifactKind,

    /// Extra manifest annotation KEY=VALUE (repeatable; the value may contain `=`)
    #[arg(long, value_name = "KEY=VALUE", value_parser = parse_annotation)]
    pub annotation: Vec<(String, String)>,

    /// org.opencontainers.image.source [default: $GITHUB_SERVER_URL/$GITHUB_REPOSITORY]
    #[arg(long, value_name = "URL")]
    pub source: Option<String>,

    /// org.opencontainers.image.revision [default: $GITHUB_SHA]
    #[arg(long, value_name = "REV")]
    pub revision: Option<String>,

    /// Push without validating first
    #[arg(long)]
    pub no_validate: bool,

    #[command(flatten)]
    pub select: SelectArgs,

    #[command(flatten)]
    pub registry: RegistryArgs,

    #[command(flatten)]
    pub rules: RuleArgs,
}

/// `kbundle pull`.
#[derive(Debug, Args)]
pub struct PullArgs {
    /// The bundle: REGISTRY/REPOSITORY[:TAG|@DIGEST] or oci-layout:DIR[:TAG]
    #[arg(value_name = "REF")]
    pub image: ImageRef,

    /// Folder to unpack into; must not exist or be empty
    #[arg(short = 'o', long, value_name = "DIR")]
    pub output: PathBuf,

    #[command(flatten)]
    pub registry: RegistryArgs,
}

/// `kbundle keygen`.
#[derive(Debug, Args)]
pub struct KeygenArgs {
    /// File name prefix: writes PREFIX.key and PREFIX.pub
    #[arg(long, value_name = "PREFIX", default_value = "cosign")]
    pub output_key_prefix: PathBuf,

    /// Overwrite existing key files
    #[arg(long)]
    pub force: bool,
}

/// `kbundle sign`.
#[derive(Debug, Args)]
pub struct SignArgs {
    /// The image: REGISTRY/REPOSITORY[:TAG|@DIGEST] or oci-layout:DIR[:TAG]
    #[arg(value_name = "REF")]
    pub image: ImageRef,

    /// cosign private key file (password from COSIGN_PASSWORD or the terminal)
    #[arg(long, value_name = "FILE", required_unless_present = "keyless")]
    pub key: Option<PathBuf>,

    /// Sign with a short-lived Fulcio certificate instead of a key (not available yet)
    #[arg(long, conflicts_with = "key")]
    pub keyless: bool,

    /// Annotation KEY=VALUE in the signed payload's `optional` (repeatable)
    #[arg(long, value_name = "KEY=VALUE", value_parser = parse_annotation)]
    pub annotation: Vec<(String, String)>,

    #[command(flatten)]
    pub registry: RegistryArgs,
}

/// `kbundle verify`.
#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// The image: REGISTRY/REPOSITORY[:TAG|@DIGEST] or oci-layout:DIR[:TAG]
    #[arg(value_name = "REF")]
    pub image: ImageRef,

    #[command(flatten)]
    pub keys: VerifyKeyArgs,

    /// Print the verified payloads as JSON, like `cosign verify -o json`
    #[arg(short = 'o', long, value_enum, default_value_t = VerifyFormat::Text)]
    pub output: VerifyFormat,

    #[command(flatten)]
    pub registry: RegistryArgs,
}

/// What a signature must satisfy.
#[derive(Debug, Args)]
pub struct VerifyKeyArgs {
    /// Public key file, or a folder of *.pub files (repeatable); any of them may sign
    #[arg(long, value_name = "FILE_OR_DIR", required_unless_present_any = ["certificate_identity"])]
    pub key: Vec<PathBuf>,

    /// Keyless: the certificate's identity (not available yet)
    #[arg(long, value_name = "IDENTITY", requires = "certificate_oidc_issuer")]
    pub certificate_identity: Option<String>,

    /// Keyless: the certificate's OIDC issuer (not available yet)
    #[arg(long, value_name = "URL")]
    pub certificate_oidc_issuer: Option<String>,

    /// Annotation KEY=VALUE the signed payload must carry (repeatable)
    #[arg(long, value_name = "KEY=VALUE", value_parser = parse_annotation)]
    pub annotation: Vec<(String, String)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum VerifyFormat {
    /// One line per signature
    Text,
    /// The verified payloads, as `cosign verify -o json` prints them
    Json,
}

/// `kbundle promote`.
#[derive(Debug, Args)]
pub struct PromoteArgs {
    /// The signed bundle to promote
    #[arg(value_name = "SRC")]
    pub source: ImageRef,

    /// Where it goes (another repository or tag)
    #[arg(value_name = "DST")]
    pub destination: ImageRef,

    #[command(flatten)]
    pub keys: VerifyKeyArgs,

    #[command(flatten)]
    pub registry: RegistryArgs,
}

/// `kbundle bump`.
#[derive(Debug, Args)]
pub struct BumpArgs {
    /// The file to edit: RootSync/RepoSync, Flux OCIRepository or kustomization.yaml
    #[arg(long, value_name = "PATH")]
    pub file: PathBuf,

    /// The new image, with its digest: REGISTRY/REPO[:TAG]@sha256:…
    #[arg(long, value_name = "REF@DIGEST")]
    pub image: crate::gitops::NewImage,

    /// How to write the reference
    #[arg(long, value_enum, default_value_t = crate::gitops::Pin::Both)]
    pub pin: crate::gitops::Pin,

    /// The RootSync/RepoSync to edit when the file has several
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,

    /// Open a pull request on this GitHub repository instead of editing the local file
    /// (not available yet)
    #[arg(long, value_name = "OWNER/NAME")]
    pub repo: Option<String>,
}

fn parse_annotation(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((k, v)) if !k.is_empty() => Ok((k.to_owned(), v.to_owned())),
        _ => Err(format!("{s:?} is not KEY=VALUE")),
    }
}

/// Parses the command line, runs the command, and maps the result to an exit code.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(cli.log_level);
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
