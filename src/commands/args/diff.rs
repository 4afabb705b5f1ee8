//! `kbundle diff`.

use super::*;

/// `kbundle diff`.
#[derive(Debug, Args)]
pub struct DiffArgs {
    /// What the cluster has now: an image (REGISTRY/REPOSITORY[:TAG|@DIGEST],
    /// oci-layout:DIR[:TAG|@DIGEST]) or a folder or file of manifests (a path that exists)
    #[arg(value_name = "OLD")]
    pub old: String,

    /// What it is to have: an image, or a folder or file of manifests; `-` reads stdin
    /// (`kubectl kustomize overlays/prod | kbundle diff IMAGE -`)
    #[arg(value_name = "NEW")]
    pub new: String,

    /// Output format
    #[arg(short = 'o', long, value_enum, default_value_t = crate::diff::Format::Text)]
    pub output: crate::diff::Format,

    #[command(flatten)]
    pub registry: RegistryArgs,
}
