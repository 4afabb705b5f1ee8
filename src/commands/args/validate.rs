//! `kbundle validate` and the validation rules other commands share.

use std::ffi::OsString;

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

    /// Also write the JSON report (every resource, with totals) to FILE, whatever -o says;
    /// in GitHub Actions its path is the output `report`
    #[arg(long, value_name = "FILE", value_hint = ValueHint::FilePath)]
    pub report: Option<PathBuf>,

    /// On a pull_request or pull_request_target event, post or update one comment with the
    /// report on that pull request of GITHUB_REPOSITORY (as publish --comment). Needs
    /// GITHUB_TOKEN; without one, or on other events, nothing is posted
    #[arg(long)]
    pub comment: bool,

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

    /// Accept any TLS certificate from schema servers (insecure)
    #[arg(long)]
    pub insecure_skip_tls_verify: bool,
}

/// kubeconform's flags (Go's `flag` package: one dash, `-name value` or `-name=value`) and
/// what they become here.
const KUBECONFORM_FLAGS: &[(&str, Kubeconform)] = &[
    ("cache", Kubeconform::Value("--cache")),
    ("debug", Kubeconform::Bool("-vv")),
    ("exit-on-error", Kubeconform::Bool("--exit-on-error")),
    (
        "ignore-filename-pattern",
        Kubeconform::Value("--ignore-filename-pattern"),
    ),
    (
        "ignore-missing-schemas",
        Kubeconform::Bool("--ignore-missing-schemas"),
    ),
    (
        "insecure-skip-tls-verify",
        Kubeconform::Bool("--insecure-skip-tls-verify"),
    ),
    (
        "kubernetes-version",
        Kubeconform::Value("--kubernetes-version"),
    ),
    ("output", Kubeconform::Value("--output")),
    ("reject", Kubeconform::Value("--reject")),
    ("schema-location", Kubeconform::Value("--schema-location")),
    ("skip", Kubeconform::Value("--skip")),
    ("strict", Kubeconform::Bool("--strict")),
    ("summary", Kubeconform::Bool("--summary")),
    ("verbose", Kubeconform::Bool("--verbose")),
];

#[derive(Clone, Copy)]
enum Kubeconform {
    /// A boolean flag: `-name`, `-name=true`, `-name=false`.
    Bool(&'static str),
    /// A flag with a value: `-name value` or `-name=value`.
    Value(&'static str),
}

/// Rewrites kubeconform's single-dash long flags after `validate` into kbundle's, so a
/// kubeconform command line works by renaming the binary. Short flags (`-o`, `-n`, `-v`),
/// double-dash flags, values and everything after `--` pass unchanged; so does everything
/// before the subcommand and every other subcommand.
pub fn kubeconform_argv(argv: Vec<OsString>) -> Vec<OsString> {
    let Some(at) = argv.iter().skip(1).position(|a| a == "validate") else {
        return argv;
    };
    let at = at + 1;
    let mut out: Vec<OsString> = argv[..=at].to_vec();
    let mut rest = argv.into_iter().skip(at + 1);
    while let Some(arg) = rest.next() {
        if arg == "--" {
            out.push(arg);
            out.extend(rest.by_ref());
            break;
        }
        let Some(text) = arg.to_str() else {
            out.push(arg);
            continue;
        };
        let Some(flag) = text.strip_prefix('-').filter(|f| !f.starts_with('-')) else {
            out.push(arg);
            continue;
        };
        let (name, value) = match flag.split_once('=') {
            Some((n, v)) => (n, Some(v)),
            None => (flag, None),
        };
        let Some((_, meaning)) = KUBECONFORM_FLAGS.iter().find(|(n, _)| *n == name) else {
            out.push(arg);
            continue;
        };
        match (*meaning, value) {
            (Kubeconform::Bool(to), None | Some("true" | "1" | "t" | "T" | "TRUE" | "True")) => {
                out.push(to.into())
            }
            (Kubeconform::Bool(_), Some(_)) => {} // `-strict=false`: as if not given
            (Kubeconform::Value(to), Some(v)) => out.push(format!("{to}={v}").into()),
            (Kubeconform::Value(to), None) => {
                out.push(to.into());
                // The value is the next argument, whatever it looks like (Go's rule).
                if let Some(v) = rest.next() {
                    out.push(v);
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rewrite(args: &[&str]) -> Vec<String> {
        kubeconform_argv(args.iter().map(OsString::from).collect())
            .into_iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect()
    }

    #[test]
    fn single_dash_long_flags_become_kbundle_flags() {
        assert_eq!(
            rewrite(&[
                "kbundle",
                "validate",
                "-summary",
                "-strict",
                "-output",
                "json",
                "-schema-location",
                "-odd",
                "-kubernetes-version=1.31.0",
                "-skip",
                "Secret",
                "-verbose=false",
                "-ignore-missing-schemas=true",
                "-n",
                "4",
                "-o",
                "text",
                "-v",
                "--summary",
                "-debug",
                "dir",
                "--",
                "-strict",
            ]),
            [
                "kbundle",
                "validate",
                "--summary",
                "--strict",
                "--output",
                "json",
                "--schema-location",
                "-odd",
                "--kubernetes-version=1.31.0",
                "--skip",
                "Secret",
                "--ignore-missing-schemas",
                "-n",
                "4",
                "-o",
                "text",
                "-v",
                "--summary",
                "-vv",
                "dir",
                "--",
                "-strict",
            ]
        );
    }

    #[test]
    fn other_subcommands_are_left_alone() {
        let args = ["kbundle", "push", "-strict", "dir"];
        assert_eq!(rewrite(&args), args);
    }
}
