//! Bundles, registries, push and pull.

use super::*;

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
#[derive(Debug, Default, Args)]
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

    /// Refuse a bundle whose layers unpack to more than SIZE (tar bytes after gunzip, e.g.
    /// 512MiB, 2GiB); also bounds each layer's download
    #[arg(long, value_name = "SIZE", default_value = "1GiB", value_parser = parse_size)]
    pub max_unpacked_size: u64,

    /// Refuse a bundle with more than N entries (files, folders and links, all layers)
    #[arg(long, value_name = "N", default_value_t = crate::bundle::Limits::DEFAULT.max_entries)]
    pub max_entries: u64,

    #[command(flatten)]
    pub registry: RegistryArgs,
}

/// A size such as `1048576`, `512MiB`, `2GiB` or `1.5GB` (IEC units are powers of 1024).
fn parse_size(s: &str) -> Result<u64, String> {
    match s.trim().parse::<bytesize::ByteSize>() {
        Ok(size) if size.as_u64() > 0 => Ok(size.as_u64()),
        Ok(_) => Err("the size must be more than 0".into()),
        Err(_) => Err(format!(
            "{s:?} is not a size; write bytes or a number with a unit, such as 512MiB or 2GiB"
        )),
    }
}
