//! `kbundle validate` and the validation rules other commands share.

use super::*;

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

    /// Fail YAML documents with no apiVersion and no kind (Chart.yaml, values.yaml,
    /// docker-compose.yml) instead of skipping them
    #[arg(long)]
    pub reject_unknown_files: bool,
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
