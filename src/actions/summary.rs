//! The job summaries (`$GITHUB_STEP_SUMMARY`) a reviewer reads at a glance: what was
//! published, how it was signed and how to check it, the fleet change, the timings, and the
//! validation verdict with the first problems linked to their lines.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use crate::report::{Report, Status};

/// How many problems a summary lists; the JSON report has the rest.
const MAX_PROBLEMS: usize = 20;

/// Links to a line of a file at the commit being built:
/// `GITHUB_SERVER_URL/GITHUB_REPOSITORY/blob/GITHUB_SHA/PATH#L12`.
pub struct Links {
    base: Option<String>,
    workspace: PathBuf,
}

impl Links {
    pub fn from_env() -> Links {
        let var = |n: &str| std::env::var(n).ok().filter(|v| !v.is_empty());
        let server = var("GITHUB_SERVER_URL").unwrap_or_else(|| "https://github.com".to_owned());
        let base = match (var("GITHUB_REPOSITORY"), var("GITHUB_SHA")) {
            (Some(repo), Some(sha)) => Some(format!(
                "{}/{repo}/blob/{sha}/",
                server.trim_end_matches('/')
            )),
            _ => None,
        };
        let workspace = var("GITHUB_WORKSPACE")
            .map(PathBuf::from)
            .or_else(|| std::env::current_dir().ok())
            .unwrap_or_default();
        Links { base, workspace }
    }

    /// The file's path inside the repository, when it is in the workspace.
    pub fn repo_path(&self, file: &str) -> Option<String> {
        let path = Path::new(file);
        let absolute = if path.is_absolute() {
            path.to_path_buf()
        } else {
            std::env::current_dir().ok()?.join(path)
        };
        let workspace = self.workspace.canonicalize().ok()?;
        let absolute = absolute.canonicalize().unwrap_or(absolute);
        let rel = absolute.strip_prefix(&workspace).ok()?;
        let rel = rel.to_str()?.replace('\\', "/");
        (!rel.is_empty()).then_some(rel)
    }

    /// `[shown](URL#Lline)`, or `shown` in code when there is nothing to link to.
    pub fn line(&self, file: &str, line: u32, shown: &str) -> String {
        match (&self.base, self.repo_path(file)) {
            (Some(base), Some(rel)) => {
                let encoded: String = rel
                    .split('/')
                    .map(encode_segment)
                    .collect::<Vec<_>>()
                    .join("/");
                format!("[{}]({base}{encoded}#L{line})", text(shown))
            }
            _ => format!("`{}`", code(shown)),
        }
    }
}

fn encode_segment(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

/// Keeps text inside a table cell or link text, and `<x>` from being read as HTML.
fn text(s: &str) -> String {
    s.replace('<', "&lt;")
        .replace('|', "\\|")
        .replace('[', "\\[")
        .replace(']', "\\]")
        .replace(['\n', '\r'], " ")
}

/// Code spans show everything literally; only the cell breakers are replaced.
fn code(s: &str) -> String {
    s.replace('|', "\\|").replace(['\n', '\r', '`'], " ")
}

/// `✅ 11 resources valid in 9 files` or `❌ 1 invalid, 0 errors out of 3 resources in 1 file`.
pub fn verdict(report: &Report) -> String {
    let s = report.summary();
    let files = plural(report.files, "file");
    let skipped = if s.skipped > 0 {
        format!(", {} skipped", s.skipped)
    } else {
        String::new()
    };
    if report.passed() {
        format!(
            "✅ {} valid{skipped} in {files}",
            plural(s.valid, "resource")
        )
    } else {
        format!(
            "❌ {} invalid, {} out of {} in {files}{skipped}",
            s.invalid,
            plural(s.errors, "error"),
            plural(report.resources.len(), "resource")
        )
    }
}

fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
    }
}

/// The first problems (errors before invalid resources, as the annotations), each linked
/// to its line; empty when there are none. `report_path` is named for the rest.
pub fn problems(report: &Report, links: &Links, report_path: Option<&str>) -> String {
    let by = |status| {
        report
            .resources
            .iter()
            .filter(move |r| r.status == status)
            .flat_map(|r| r.located_problems().into_iter().map(move |p| (r, p)))
    };
    let all: Vec<_> = by(Status::Error).chain(by(Status::Invalid)).collect();
    if all.is_empty() {
        return String::new();
    }
    let mut md = String::from("| Where | Resource | Problem |\n| --- | --- | --- |\n");
    for (r, p) in all.iter().take(MAX_PROBLEMS) {
        let file = r.filename.strip_prefix("./").unwrap_or(&r.filename);
        let shown = format!("{file}:{}:{}", p.line, p.column);
        let mut problem = String::new();
        if let Some(c) = p.code {
            let _ = write!(problem, "{c}: ");
        }
        if !p.path.is_empty() {
            let _ = write!(problem, "`{}`: ", code(&p.path));
        }
        problem.push_str(&text(&p.msg));
        let _ = writeln!(
            md,
            "| {} | {} | {problem} |",
            links.line(&r.filename, p.line, &shown),
            text(&r.label())
        );
    }
    if all.len() > MAX_PROBLEMS {
        let rest = all.len() - MAX_PROBLEMS;
        let _ = write!(md, "\n… and {rest} more");
        match report_path {
            Some(p) => {
                let _ = writeln!(md, " in the JSON report (`{}`).", code(p));
            }
            None => md.push_str(".\n"),
        }
    }
    md
}

/// The summary of `kbundle validate`.
pub fn validate(report: &Report, links: &Links, seconds: f64, report_path: Option<&str>) -> String {
    let mark = if report.passed() { "✅" } else { "❌" };
    let mut md = format!("### kbundle validate {mark}\n\n");
    let _ = writeln!(md, "{} ({seconds:.2} s)", verdict(report));
    let problems = problems(report, links, report_path);
    if !problems.is_empty() {
        md.push('\n');
        md.push_str(&problems);
    }
    if let Some(path) = report_path {
        let _ = writeln!(md, "\nFull report: `{}`", code(path));
    }
    md.push('\n');
    md
}

/// How the pushed digest was signed.
pub enum Signature {
    Key {
        fingerprint: String,
        public_key: String,
        /// Where the public key was written, for the `kbundle verify` line.
        public_key_path: Option<String>,
        /// Where the private key is, or why it is not kept.
        private_key: String,
    },
    Keyless {
        identity: String,
        issuer: String,
        log_index: i64,
        /// Set for the public-good Rekor, whose entries search.sigstore.dev shows.
        public_rekor: bool,
    },
    None,
}

/// What happened to the fleet file.
pub struct Fleet {
    /// `clusters/prod/root-sync.yaml`, or `acme/fleet: clusters/prod/root-sync.yaml`.
    pub file: String,
    /// One line per change (`RootSync root-sync spec.oci.image: old → new`), or a sentence.
    pub changes: Vec<String>,
    /// The pull request's URL, number and operation (created, updated, unchanged).
    pub pull: Option<(String, u64, String)>,
    /// The fleet commit: `commit 1a2b3c4: verified (signed by GitHub)`, or why it is not.
    pub commit: Option<String>,
    /// What the change does in the cluster: the markdown of `kbundle diff` between the
    /// bundle the file pointed at and the new one (or why it could not be read).
    pub diff: Option<String>,
}

/// How one stage of a command ended, for the timing table.
#[derive(Debug, Clone)]
pub struct Timing {
    pub name: &'static str,
    pub what: String,
    pub seconds: f64,
    pub ok: bool,
}

/// Everything `kbundle publish` did, for its summary.
pub struct Published<'a> {
    pub report: &'a Report,
    pub report_path: &'a str,
    /// `REPOSITORY[:TAG]@sha256:…`; none when validation failed and nothing was pushed.
    pub pinned: Option<String>,
    pub signature: Signature,
    pub fleet: Option<Fleet>,
    pub steps: &'a [Timing],
}

/// The summary of `kbundle publish`.
pub fn publish(p: &Published, links: &Links) -> String {
    let ok = p.report.passed() && p.pinned.is_some();
    let mut md = format!("### kbundle publish {}\n\n", if ok { "✅" } else { "❌" });
    md.push_str("| | |\n| --- | --- |\n");
    match &p.pinned {
        Some(pinned) => {
            let (name, digest) = pinned.rsplit_once('@').unwrap_or((pinned, ""));
            let _ = writeln!(md, "| **Image** | `{}` |", code(name));
            let _ = writeln!(md, "| **Digest** | `{}` |", code(digest));
        }
        None => md.push_str("| **Image** | not pushed: the manifests are invalid |\n"),
    }
    match &p.signature {
        Signature::Key {
            fingerprint,
            private_key,
            ..
        } => {
            let _ = writeln!(
                md,
                "| **Signature** | cosign key `{}` ({}) |",
                code(fingerprint),
                text(private_key)
            );
        }
        Signature::Keyless {
            identity,
            issuer,
            log_index,
            public_rekor,
        } => {
            let entry = if *public_rekor {
                format!(
                    "[Rekor entry {log_index}](https://search.sigstore.dev/?logIndex={log_index})"
                )
            } else {
                format!("Rekor entry {log_index}")
            };
            let _ = writeln!(
                md,
                "| **Signature** | keyless: certificate for `{}` (issuer `{}`), {entry} |",
                code(identity),
                code(issuer)
            );
        }
        Signature::None if p.pinned.is_some() => {
            md.push_str("| **Signature** | not signed (`sign: none`) |\n")
        }
        Signature::None => {}
    }
    if let Some(fleet) = &p.fleet {
        let what = if fleet.changes.is_empty() {
            "up to date".to_owned()
        } else {
            fleet
                .changes
                .iter()
                .map(|c| text(c))
                .collect::<Vec<_>>()
                .join("<br>")
        };
        let _ = writeln!(md, "| **Fleet** | `{}`: {what} |", code(&fleet.file));
        if let Some((url, number, operation)) = &fleet.pull {
            let _ = writeln!(md, "| **Pull request** | [#{number}]({url}) {operation} |");
        }
        if let Some(commit) = &fleet.commit {
            let lines: Vec<String> = commit.lines().map(text).collect();
            let _ = writeln!(md, "| **Commit** | {} |", lines.join("<br>"));
        }
    }
    let _ = writeln!(md, "| **Validation** | {} |", verdict(p.report));

    let problems = problems(p.report, links, Some(p.report_path));
    if !problems.is_empty() {
        md.push('\n');
        md.push_str(&problems);
    }

    if let Some(pinned) = &p.pinned {
        let check = match &p.signature {
            Signature::Key {
                public_key_path: Some(path),
                ..
            } => Some(format!("kbundle verify {pinned} --key {path}")),
            Signature::Key { .. } => Some(format!("kbundle verify {pinned} --key cosign.pub")),
            Signature::Keyless {
                identity, issuer, ..
            } => Some(format!(
                "kbundle verify {pinned} \\\n  --certificate-identity {identity} \\\n  --certificate-oidc-issuer {issuer}"
            )),
            Signature::None => None,
        };
        if let Some(check) = check {
            let _ = write!(md, "\nCheck the signature:\n\n```sh\n{check}\n```\n");
        }
        if let Signature::Key {
            fingerprint,
            public_key,
            ..
        } = &p.signature
        {
            let _ = write!(
                md,
                "\n<details><summary>Public key {}</summary>\n\n```\n{}\n```\n\n</details>\n",
                text(fingerprint),
                public_key.trim_end()
            );
        }
    }

    if let Some(diff) = p.fleet.as_ref().and_then(|f| f.diff.as_deref()) {
        md.push('\n');
        md.push_str(diff);
    }

    if !p.steps.is_empty() {
        md.push_str("\n| Step | Result | Time |\n| --- | --- | --- |\n");
        for s in p.steps {
            let mark = if s.ok { "" } else { "❌ " };
            let _ = writeln!(
                md,
                "| {} | {mark}{} | {:.2} s |",
                s.name,
                text(&s.what),
                s.seconds
            );
        }
    }
    let _ = writeln!(md, "\nFull validation report: `{}`\n", code(p.report_path));
    md
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::{Problem, ResourceResult};

    fn links() -> Links {
        Links {
            base: Some("https://github.com/acme/config/blob/abc123/".to_owned()),
            workspace: std::env::current_dir().expect("cwd"),
        }
    }

    fn invalid_report() -> Report {
        let mut r =
            ResourceResult::file_error("src/lib.rs".into(), String::new(), Default::default());
        r.kind = "Deployment".to_owned();
        r.name = "web".to_owned();
        r.status = Status::Invalid;
        r.errors = vec![Problem {
            path: "/spec/replicas".to_owned(),
            msg: "expected integer, but got string".to_owned(),
            line: 6,
            column: 13,
            code: None,
        }];
        Report {
            resources: vec![r],
            files: 1,
        }
    }

    #[test]
    fn problems_link_to_their_line_at_the_commit() {
        let md = validate(
            &invalid_report(),
            &links(),
            0.5,
            Some(".kbundle/report.json"),
        );
        assert!(md.starts_with("### kbundle validate ❌\n\n❌ 1 invalid, 0 errors out of 1 resource in 1 file (0.50 s)\n"), "{md}");
        assert!(md.contains("| [src/lib.rs:6:13](https://github.com/acme/config/blob/abc123/src/lib.rs#L6) | Deployment web | `/spec/replicas`: expected integer, but got string |"), "{md}");
    }

    #[test]
    fn a_keyless_publish_names_the_identity_the_rekor_entry_and_how_to_verify() {
        let mut report = invalid_report();
        report.resources[0].status = Status::Valid;
        report.resources[0].errors.clear();
        let steps = [Timing {
            name: "sign",
            what: "keyless".to_owned(),
            seconds: 1.25,
            ok: true,
        }];
        let published = Published {
            report: &report,
            report_path: ".kbundle/report.json",
            pinned: Some("ghcr.io/acme/config:main@sha256:ab".to_owned()),
            signature: Signature::Keyless {
                identity:
                    "https://github.com/acme/config/.github/workflows/publish.yml@refs/heads/main"
                        .to_owned(),
                issuer: "https://token.actions.githubusercontent.com".to_owned(),
                log_index: 42,
                public_rekor: true,
            },
            fleet: Some(Fleet {
                file: "acme/fleet: clusters/prod/root-sync.yaml".to_owned(),
                changes: vec!["created: https://github.com/acme/fleet/pull/7".to_owned()],
                pull: Some((
                    "https://github.com/acme/fleet/pull/7".to_owned(),
                    7,
                    "created".to_owned(),
                )),
                commit: Some("commit 1a2b3c4: verified (signed by GitHub)".to_owned()),
                diff: None,
            }),
            steps: &steps,
        };
        let md = publish(&published, &links());
        assert!(md.starts_with("### kbundle publish ✅"), "{md}");
        assert!(
            md.contains("| **Commit** | commit 1a2b3c4: verified (signed by GitHub) |"),
            "{md}"
        );
        assert!(
            md.contains("| **Image** | `ghcr.io/acme/config:main` |\n| **Digest** | `sha256:ab` |"),
            "{md}"
        );
        assert!(
            md.contains("[Rekor entry 42](https://search.sigstore.dev/?logIndex=42)"),
            "{md}"
        );
        assert!(
            md.contains(
                "| **Pull request** | [#7](https://github.com/acme/fleet/pull/7) created |"
            ),
            "{md}"
        );
        assert!(md.contains("kbundle verify ghcr.io/acme/config:main@sha256:ab \\\n  --certificate-identity https://github.com/acme/config/.github/workflows/publish.yml@refs/heads/main \\\n  --certificate-oidc-issuer https://token.actions.githubusercontent.com"), "{md}");
        assert!(md.contains("| sign | keyless | 1.25 s |"), "{md}");
    }

    #[test]
    fn link_segments_are_percent_encoded() {
        assert_eq!(encode_segment("a b#c.yaml"), "a%20b%23c.yaml");
    }

    #[test]
    fn text_cannot_break_a_cell_or_a_link() {
        assert_eq!(text("a|b [x](y) <z>\n"), "a\\|b \\[x\\](y) &lt;z> ");
    }
}
