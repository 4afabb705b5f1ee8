//! bump, comment and the GitHub credentials they share.

use super::*;

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

    /// With --repo: leave the diff of the old and new bundles out of the pull request body,
    /// so neither image is pulled (for a fleet registry CI cannot reach, or reaches slowly)
    #[arg(long, requires = "repo")]
    pub no_diff: bool,

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
