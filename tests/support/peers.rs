//! The field's own tools, built at pinned versions by `scripts/install-peers` into
//! `.ci/go/bin`: cosign v2 (`cosign2`), cosign v3 (`cosign3`), `crane`, `oras`, `kubeconform`.
//! A missing peer fails the test: a compatibility check that silently skips proves nothing.

use std::path::PathBuf;
use std::process::{Command, Output};

/// The path of a pinned peer tool; panics with what to run when it is missing.
pub fn peer(name: &str) -> PathBuf {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join(".ci/go/bin")
        .join(name);
    assert!(
        path.is_file(),
        "{name} is not built: run scripts/install-peers (scripts/test does) to build it into {}",
        path.display()
    );
    path
}

/// Runs a peer with `args` in a clean environment apart from `env`, and returns its output.
/// HOME, DOCKER_CONFIG and the working directory are `home`, so no login or cache of the
/// machine leaks in, and files a peer writes beside itself (cosign generate-key-pair) land there.
pub fn run_peer(name: &str, args: &[&str], home: &std::path::Path, env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(peer(name));
    cmd.args(args)
        .current_dir(home)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", home)
        .env("DOCKER_CONFIG", home.join(".docker"))
        // cosign: never ask on a terminal, never reach the public-good instance for TUF.
        .env("COSIGN_YES", "true")
        .env("TUF_ROOT", home.join(".sigstore"));
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().unwrap_or_else(|e| panic!("run {name}: {e}"))
}
