//! keygen, sign, verify, promote: keys, keyless and what they must sign.

use super::*;

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

    /// Where the signature goes: cosign v2's `.sig` tag, cosign v3's Sigstore bundle (an OCI
    /// referrer), or both
    #[arg(long, value_enum, default_value_t = SignatureFormat::Legacy)]
    pub signature_format: SignatureFormat,

    #[command(flatten)]
    pub registry: RegistryArgs,
}

/// The signature formats `sign` and `publish` write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum SignatureFormat {
    /// The `sha256-<hex>.sig` tag (cosign v2): read by cosign v2 and v3, Kyverno,
    /// policy-controller and containers/image
    #[default]
    Legacy,
    /// A Sigstore bundle stored as an OCI referrer of the image (cosign v3's default)
    Bundle,
    /// Both, for fleets in transition
    Both,
}

impl SignatureFormat {
    pub fn legacy(self) -> bool {
        matches!(self, SignatureFormat::Legacy | SignatureFormat::Both)
    }

    pub fn bundle(self) -> bool {
        matches!(self, SignatureFormat::Bundle | SignatureFormat::Both)
    }
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

    /// Signature layers checked, from the first; the rest of a larger `.sig` is not fetched
    /// (each payload at most 1 MiB, 4 MiB in all)
    #[arg(long, value_name = "N", default_value_t = crate::signing::examine::DEFAULT_MAX_LAYERS, value_parser = parse_positive)]
    pub max_signatures: usize,
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

    /// Verify and print the diff between what DST holds and SRC, then stop: nothing is
    /// copied or tagged
    #[arg(long)]
    pub dry_run: bool,

    #[command(flatten)]
    pub keys: VerifyKeyArgs,

    #[command(flatten)]
    pub registry: RegistryArgs,
}
