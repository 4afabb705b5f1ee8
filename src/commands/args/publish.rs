//! `kbundle publish`, the Action's pipeline.

use super::*;

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

    /// Where the signature goes: cosign v2's `.sig` tag, cosign v3's Sigstore bundle (an OCI
    /// referrer), or both
    #[arg(long, value_enum, default_value_t = SignatureFormat::Legacy)]
    pub signature_format: SignatureFormat,

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

    /// With --fleet-file: leave the diff of the old and new bundles out of the pull request
    /// and the job summary, so the image the fleet named before is never pulled (for a fleet
    /// registry CI cannot reach, or reaches slowly)
    #[arg(long, requires = "fleet_file")]
    pub no_diff: bool,

    /// How the fleet file names the image
    #[arg(long, value_enum, default_value_t = crate::gitops::Pin::Both)]
    pub pin: crate::gitops::Pin,

    /// On a pull_request or pull_request_target event (GITHUB_EVENT_NAME), post or update one
    /// comment with the validation report on that pull request of GITHUB_REPOSITORY. Needs
    /// GITHUB_TOKEN (pull-requests write); without one, or on other events, nothing is posted
    #[arg(long)]
    pub comment: bool,

    /// In GitHub Actions, also mark each validation error as an annotation on its file and
    /// line (the first 10; GitHub shows no more)
    #[arg(long)]
    pub github_annotations: bool,

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
