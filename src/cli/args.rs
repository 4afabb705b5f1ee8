//! The options of each subcommand, with their `--help` text.

use std::path::PathBuf;

use clap::{Args, ValueHint};

use crate::bundle::ArtifactKind;
use crate::oci::ImageRef;
use crate::report::Format;
use crate::validate::schema::{KubeVersion, SchemaLocation};

/// `kbundle validate`: kubeconform's flags, with the same meanings.
#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// Files or folders to validate (recursively: .yaml, .yml, .json; hidden folders and what a
    /// folder's .kbundleignore names are skipped);
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
    #[arg(long, value_name = "FILE_OR_DIR", value_hint = ValueHint::AnyPath)]
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
    #[arg(long, value_name = "DIR", env = "KBUNDLE_CACHE", value_hint = ValueHint::DirPath)]
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

    /// Where registry credentials come from [default: google for *-docker.pkg.dev, gcr.io and
    /// *.gcr.io (falling back to docker when no Google credentials exist), else docker].
    /// Google credentials are taken from the first of: --workload-identity-provider, the file
    /// GOOGLE_APPLICATION_CREDENTIALS names (external_account, service_account or
    /// authorized_user), the GCE/GKE metadata server
    #[arg(long, value_enum, value_name = "SOURCE")]
    pub auth: Option<crate::auth::AuthMode>,

    /// Exchange the GitHub Actions OIDC token through this Workload Identity provider
    /// (projects/N/locations/global/workloadIdentityPools/POOL/providers/PROVIDER); implies
    /// --auth google and wins over GOOGLE_APPLICATION_CREDENTIALS
    #[arg(long, value_name = "PROVIDER")]
    pub workload_identity_provider: Option<String>,

    /// Service account to impersonate with the federated token (EMAIL)
    #[arg(long, value_name = "EMAIL", requires = "workload_identity_provider")]
    pub service_account: Option<String>,

    /// Google STS base URL [default: https://sts.googleapis.com]
    #[arg(long, value_name = "URL")]
    pub sts_endpoint: Option<String>,

    /// Google IAM Credentials base URL [default: https://iamcredentials.googleapis.com]
    #[arg(long, value_name = "URL")]
    pub iamcredentials_endpoint: Option<String>,
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

    /// Sign with a short-lived Fulcio certificate for an OIDC identity instead of a key; the
    /// signature is logged in Rekor
    #[arg(long, conflicts_with = "key")]
    pub keyless: bool,

    #[command(flatten)]
    pub sigstore: SigstoreArgs,

    /// Annotation KEY=VALUE in the signed payload's `optional` (repeatable)
    #[arg(long, value_name = "KEY=VALUE", value_parser = parse_annotation)]
    pub annotation: Vec<(String, String)>,

    #[command(flatten)]
    pub registry: RegistryArgs,
}

/// Where keyless signing gets its certificate and logs the signature.
#[derive(Debug, Args, Clone)]
pub struct SigstoreArgs {
    /// Keyless: the OIDC ID token (or a file holding it) [default: in GitHub Actions, the
    /// job's token for audience sigstore]
    #[arg(
        long,
        value_name = "TOKEN",
        env = "SIGSTORE_ID_TOKEN",
        hide_env_values = true
    )]
    pub identity_token: Option<String>,

    /// Keyless: the Fulcio certificate authority (the environment form serves the Action)
    #[arg(long, value_name = "URL", env = "KBUNDLE_FULCIO_URL", default_value = crate::signing::keyless::DEFAULT_FULCIO_URL)]
    pub fulcio_url: String,

    /// Keyless: the Rekor transparency log
    #[arg(long, value_name = "URL", env = "KBUNDLE_REKOR_URL", default_value = crate::signing::keyless::DEFAULT_REKOR_URL)]
    pub rekor_url: String,
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
    #[arg(long, value_name = "FILE_OR_DIR", required_unless_present_any = ["certificate_identity", "certificate_identity_regexp"])]
    pub key: Vec<PathBuf>,

    /// Keyless: the identity (SAN e-mail or URI) the Fulcio certificate must name
    #[arg(long, value_name = "IDENTITY", conflicts_with_all = ["key", "certificate_identity_regexp"])]
    pub certificate_identity: Option<String>,

    /// Keyless: a regular expression the certificate's identity must match (unanchored)
    #[arg(long, value_name = "REGEX", conflicts_with = "key")]
    pub certificate_identity_regexp: Option<String>,

    /// Keyless: the OIDC issuer the certificate must name, e.g.
    /// https://token.actions.githubusercontent.com
    #[arg(
        long,
        value_name = "URL",
        conflicts_with = "certificate_oidc_issuer_regexp"
    )]
    pub certificate_oidc_issuer: Option<String>,

    /// Keyless: a regular expression the certificate's OIDC issuer must match (unanchored)
    #[arg(long, value_name = "REGEX")]
    pub certificate_oidc_issuer_regexp: Option<String>,

    /// Keyless: PEM file of the trusted Fulcio CA certificates (root, and intermediates if
    /// wanted) [default: Sigstore public good]
    #[arg(
        long,
        visible_alias = "ca-roots",
        value_name = "FILE",
        env = "SIGSTORE_ROOT_FILE"
    )]
    pub certificate_chain: Option<PathBuf>,

    /// Keyless: the Rekor log's public key (PEM) [default: Sigstore public good]
    #[arg(long, value_name = "FILE", env = "SIGSTORE_REKOR_PUBLIC_KEY")]
    pub rekor_public_key: Option<PathBuf>,

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

    /// Open (or update) a pull request on this GitHub repository instead of editing the local
    /// file; --file is then the path in that repository. Needs GITHUB_TOKEN (contents and
    /// pull-requests write) or --app-id; honours GITHUB_API_URL
    #[arg(long, value_name = "OWNER/NAME")]
    pub repo: Option<String>,

    /// With --repo: the branch the pull request merges into [default: the default branch]
    #[arg(long, value_name = "BRANCH", requires = "repo")]
    pub base: Option<String>,

    /// With --repo: the branch kbundle commits to and force-updates [default: kbundle/<file-stem>]
    #[arg(long, value_name = "BRANCH", requires = "repo")]
    pub branch: Option<String>,

    /// With --repo: add this label to the pull request (repeatable)
    #[arg(long, value_name = "LABEL", requires = "repo")]
    pub label: Vec<String>,

    /// With --repo: request a review from this user (repeatable)
    #[arg(long, value_name = "LOGIN", requires = "repo")]
    pub reviewer: Vec<String>,

    /// With --repo: request a review from this team of the owner organisation (repeatable)
    #[arg(long, value_name = "TEAM-SLUG", requires = "repo")]
    pub team_reviewer: Vec<String>,

    /// With --repo: open the pull request as a draft
    #[arg(long, requires = "repo")]
    pub draft: bool,

    /// With --repo: a `validate -o json` report of the bundle, summarised in the pull request
    #[arg(long, value_name = "FILE", requires = "repo")]
    pub report: Option<PathBuf>,

    #[command(flatten)]
    pub github: GitHubAuthArgs,
}

/// How to authenticate to GitHub: GITHUB_TOKEN, or a GitHub App's installation token.
#[derive(Debug, Clone, Args)]
pub struct GitHubAuthArgs {
    /// GitHub App ID: act as the app's installation on the repository instead of with
    /// GITHUB_TOKEN (the workflow's own token cannot write to another repository)
    #[arg(
        long,
        value_name = "ID",
        env = "KBUNDLE_APP_ID",
        requires = "app_private_key"
    )]
    pub app_id: Option<u64>,

    /// The GitHub App's private key: a PEM file, or the PEM text itself (what a secret holds)
    #[arg(
        long,
        value_name = "FILE_OR_PEM",
        env = "KBUNDLE_APP_PRIVATE_KEY",
        hide_env_values = true,
        requires = "app_id",
        // PEM text starts with `-----`: without this clap takes it for a flag and echoes it.
        allow_hyphen_values = true,
        value_parser = parse_secret
    )]
    pub app_private_key: Option<crate::auth::secret::Secret>,
}

fn parse_secret(s: &str) -> Result<crate::auth::secret::Secret, String> {
    Ok(crate::auth::secret::Secret::new(s))
}

#[derive(Debug, Args)]
pub struct CommentArgs {
    /// Files or folders to validate, as `validate` takes them; `-` or none reads stdin
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,

    #[command(flatten)]
    pub rules: RuleArgs,

    /// The repository of the pull request. Needs GITHUB_TOKEN (pull-requests write) or --app-id
    #[arg(long, value_name = "OWNER/NAME", env = "GITHUB_REPOSITORY")]
    pub repo: String,

    /// The pull request [default: pull_request.number of the event in GITHUB_EVENT_PATH]
    #[arg(long, value_name = "N")]
    pub pr: Option<u64>,

    /// Post this `validate -o json` report instead of validating PATHs
    #[arg(long, value_name = "FILE", conflicts_with = "paths")]
    pub report: Option<PathBuf>,

    #[command(flatten)]
    pub github: GitHubAuthArgs,
}

fn parse_annotation(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((k, v)) if !k.is_empty() => Ok((k.to_owned(), v.to_owned())),
        _ => Err(format!("{s:?} is not KEY=VALUE")),
    }
}

/// How `publish` signs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum SignMode {
    /// With a cosign key (--key, or a pair generated in .kbundle/)
    #[default]
    Key,
    /// With a short-lived Fulcio certificate for the job's OIDC identity, logged in Rekor
    Keyless,
    /// Do not sign
    None,
}

/// `kbundle publish`.
#[derive(Debug, Args)]
pub struct PublishArgs {
    /// Folders or files to publish
    #[arg(value_name = "PATH", default_value = ".", value_hint = ValueHint::AnyPath)]
    pub paths: Vec<PathBuf>,

    /// Settings file: publish's long flag names as keys (`paths` for the folders), e.g.
    /// `image: REF`, `strict: true`, `annotation: {team: web}`. Relative paths in it are
    /// relative to its folder; a flag on the command line replaces the file's setting
    /// [default: ./kbundle.yaml when it exists]
    #[arg(long, value_name = "FILE", value_hint = ValueHint::FilePath, env = "KBUNDLE_CONFIG")]
    pub config: Option<PathBuf>,

    /// Read no settings file, not even --config or KBUNDLE_CONFIG
    #[arg(long)]
    pub no_config: bool,

    /// Where to push; the default needs no registry
    #[arg(
        long,
        value_name = "REF",
        default_value = "oci-layout:.kbundle/oci:latest"
    )]
    pub image: ImageRef,

    /// What kind of OCI artifact to make
    #[arg(long, value_enum, default_value_t = ArtifactKind::Configsync)]
    pub artifact: ArtifactKind,

    /// Extra manifest annotation KEY=VALUE (repeatable)
    #[arg(long, value_name = "KEY=VALUE", value_parser = parse_annotation)]
    pub annotation: Vec<(String, String)>,

    /// How to sign the pushed digest
    #[arg(long, value_enum, default_value_t = SignMode::Key)]
    pub sign: SignMode,

    #[command(flatten)]
    pub sigstore: SigstoreArgs,

    /// cosign private key [default: .kbundle/cosign.key, generated when missing]
    #[arg(long, value_name = "FILE", value_hint = ValueHint::FilePath)]
    pub key: Option<PathBuf>,

    /// RootSync/RepoSync (or Flux, kustomize) file to point at the new digest
    #[arg(long, value_name = "PATH", value_hint = ValueHint::FilePath)]
    pub fleet_file: Option<PathBuf>,

    /// The image the fleet file names, as REGISTRY/REPOSITORY[:TAG]; it gets the pushed digest.
    /// [default: --image]. Needed when --image is an oci-layout folder, which a cluster cannot
    /// pull: name the repository the bundle will be promoted to (the digest stays the same)
    #[arg(long, value_name = "REF", requires = "fleet_file")]
    pub fleet_image: Option<String>,

    /// Open (or update) a pull request on this GitHub repository instead of editing the local
    /// file; --fleet-file is then the path in that repository. Needs GITHUB_TOKEN (contents and
    /// pull-requests write) or --app-id
    #[arg(long, value_name = "OWNER/NAME", requires = "fleet_file")]
    pub fleet_repo: Option<String>,

    /// With --fleet-repo: the branch the pull request merges into [default: the default branch]
    #[arg(long, value_name = "BRANCH", requires = "fleet_repo")]
    pub fleet_base: Option<String>,

    /// How the fleet file names the image
    #[arg(long, value_enum, default_value_t = crate::gitops::Pin::Both)]
    pub pin: crate::gitops::Pin,

    /// On a pull_request or pull_request_target event (GITHUB_EVENT_NAME), post or update one
    /// comment with the validation report on that pull request of GITHUB_REPOSITORY. Needs
    /// GITHUB_TOKEN (pull-requests write); without one, or on other events, nothing is posted
    #[arg(long)]
    pub comment: bool,

    /// Where to write the JSON validation report
    #[arg(
        long,
        value_name = "FILE",
        default_value = ".kbundle/report.json",
        value_hint = ValueHint::FilePath
    )]
    pub report: PathBuf,

    // With --fleet-repo: the GitHub App acts on that repository; the comment on the pull
    // request that triggered the run still uses GITHUB_TOKEN.
    #[command(flatten)]
    pub github: GitHubAuthArgs,

    #[command(flatten)]
    pub select: SelectArgs,

    #[command(flatten)]
    pub registry: RegistryArgs,

    #[command(flatten)]
    pub rules: RuleArgs,
}

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

    /// Seconds a signature check may take before the answer is "registry unreachable" (keep it
    /// below the webhook's timeoutSeconds)
    #[arg(long, value_name = "SECONDS", default_value_t = 8.0)]
    pub timeout: f64,

    /// Seconds open connections get to finish after SIGTERM
    #[arg(long, value_name = "SECONDS", default_value_t = 20)]
    pub grace: u64,

    #[command(flatten)]
    pub registry: RegistryArgs,
}
