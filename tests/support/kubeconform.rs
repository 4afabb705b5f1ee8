//! kubeconform (v0.7.0, from scripts/install-peers) on the embedded schemas' own files
//! (scripts/kubeconform-schemas), for tests that hold kbundle to kubeconform's verdicts.
//! Use with `#[path = "support/peers.rs"] mod peers;` beside it.

use std::path::Path;
use std::process::{Command, Output};

use super::peers;

/// The wheel's schemas where kubeconform can read them.
pub fn schemas() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/kubeconform-schemas");
    let out = Command::new("python3")
        .arg(&script)
        .arg(dir.path())
        .arg("1.37.0")
        .output()
        .expect("python3");
    assert!(
        out.status.success(),
        "scripts/kubeconform-schemas: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    dir
}

/// The `-schema-location` template for [`schemas`].
pub fn location(schemas: &Path) -> String {
    format!(
        "{}/{{{{ .NormalizedKubernetesVersion }}}}-local{{{{ .StrictSuffix }}}}/{{{{ .ResourceKind }}}}{{{{ .KindSuffix }}}}.json",
        schemas.display()
    )
}

/// Runs kubeconform with `args` as given.
pub fn run(args: &[&str]) -> Output {
    Command::new(peers::peer("kubeconform"))
        .args(args)
        .output()
        .expect("run kubeconform")
}
