//! The GitHub Actions runner's file and workflow-command protocol.
//!
//! Outputs go to `$GITHUB_OUTPUT` and the job summary to `$GITHUB_STEP_SUMMARY`; secrets are
//! masked with `::add-mask::` before anything else is printed. Outside Actions every function
//! here does nothing, so commands can call them unconditionally.
//!
//! **One stream.** The runner reads a step's stdout and stderr through two pipes and merges
//! them as lines arrive, so the order between the two is not kept: a line written to stderr
//! after a `::group::` on stdout can land in the next group. In Actions, everything that
//! belongs to the log (workflow commands, groups, step lines, annotations, errors) therefore
//! goes to stdout ([`log`]); run as the action (no arguments), stderr is pointed at stdout
//! too ([`merge_streams`]), so library warnings and `-v` logs keep their place.

pub mod summary;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// GitHub refuses step summaries over 1 MiB.
const SUMMARY_LIMIT: usize = 1024 * 1024;

/// Whether this process runs as a step of a GitHub Actions job.
pub fn active() -> bool {
    std::env::var_os("GITHUB_ACTIONS").is_some_and(|v| v == "true")
}

/// Points stderr at stdout, so the step's log is one ordered stream. Only for the action run
/// from its inputs, where nobody reads stdout as a command's result.
pub fn merge_streams() {
    // SAFETY: dup2 on the process's own standard descriptors, before any other thread exists;
    // on failure the two streams simply stay apart.
    unsafe {
        libc::dup2(libc::STDOUT_FILENO, libc::STDERR_FILENO);
    }
}

/// One line of the human log: on stdout in Actions (beside the groups and workflow
/// commands it belongs with), on stderr elsewhere (stdout carries a command's result).
pub fn log(line: &str) {
    if active() {
        let stdout = std::io::stdout();
        let mut out = stdout.lock();
        let _ = writeln!(out, "{line}");
        let _ = out.flush();
    } else {
        eprintln!("{line}");
    }
}

/// A workflow command with a message (`error`, `warning`, `notice`), as an annotation that
/// names `title`; outside Actions, `kbundle: <level>: message` on stderr.
pub fn annotate(level: &str, title: &str, message: &str) {
    if active() {
        log(&format!(
            "::{level} title={}::{}",
            escape_property(title),
            escape_data(message)
        ));
    } else {
        eprintln!("kbundle: {level}: {message}");
    }
}

/// Tells the runner to hide a value in all later log lines (each line of a multi-line one).
pub fn mask(secret: &str) {
    if !active() {
        return;
    }
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    for line in secret.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let _ = writeln!(out, "::add-mask::{}", escape_data(line));
    }
    let _ = out.flush();
}

/// Escapes a workflow command's data the way @actions/core does.
pub fn escape_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escapes a workflow command's property (`title=`, `file=`) the way @actions/core does.
pub fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

fn env_path(name: &str) -> Option<PathBuf> {
    std::env::var_os(name)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
}

/// Appends one output. Every value uses the heredoc form with a random delimiter, so no
/// value (multi-line or containing `=`) can end the entry early or inject another.
pub fn set_output(name: &str, value: &str) -> std::io::Result<()> {
    let Some(path) = env_path("GITHUB_OUTPUT") else {
        return Ok(());
    };
    let mut delimiter = format!("ghadelimiter_{}", random_hex());
    while value.contains(&delimiter) {
        delimiter = format!("ghadelimiter_{}", random_hex());
    }
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)?;
    write!(file, "{name}<<{delimiter}\n{value}\n{delimiter}\n")
}

/// Appends markdown to the job summary, cut to stay under GitHub's limit.
pub fn append_summary(markdown: &str) -> std::io::Result<()> {
    let Some(path) = env_path("GITHUB_STEP_SUMMARY") else {
        return Ok(());
    };
    let used = std::fs::metadata(&path).map_or(0, |m| m.len() as usize);
    let room = SUMMARY_LIMIT.saturating_sub(used).saturating_sub(200);
    let mut text = markdown.to_owned();
    if text.len() > room {
        let mut cut = room;
        while cut > 0 && !text.is_char_boundary(cut) {
            cut -= 1;
        }
        text.truncate(cut);
        text.push_str("\n\n… (cut to fit GitHub's 1 MiB summary limit; see the JSON report)\n");
    }
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)?;
    file.write_all(text.as_bytes())
}

/// Opens a collapsible log group; the guard closes it.
pub fn group(title: &str) -> Group {
    if active() {
        println!("::group::{}", escape_data(title));
    }
    Group
}

pub struct Group;

impl Drop for Group {
    fn drop(&mut self) {
        if active() {
            println!("::endgroup::");
        }
    }
}

/// Files and folders kbundle wrote in the workspace; see [`hand_back`].
static WRITTEN: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

/// Remembers a file or folder kbundle wrote, so that [`hand_back`] gives it to the
/// workspace's owner.
pub fn claim(path: &Path) {
    if !active() {
        return;
    }
    if let (Ok(path), Ok(mut written)) = (std::path::absolute(path), WRITTEN.lock()) {
        written.push(path);
    }
}

/// Gives what kbundle wrote in `GITHUB_WORKSPACE` (and the folders it created for it) the
/// workspace's owner and group. A container action runs as root while the job's later steps
/// (`git add`, a cache) run as the runner's user, who could not change root's files. Only
/// entries this process owns are changed; failures are ignored (nothing to hand back then).
pub fn hand_back() {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        let Some(workspace) = env_path("GITHUB_WORKSPACE").and_then(|w| w.canonicalize().ok())
        else {
            return;
        };
        let Ok(owner) = std::fs::metadata(&workspace) else {
            return;
        };
        // SAFETY: geteuid has no preconditions.
        let me = unsafe { libc::geteuid() };
        let (uid, gid) = (owner.uid(), owner.gid());
        if me == uid {
            return;
        }
        let give = |path: &Path| {
            let mine = std::fs::symlink_metadata(path)
                .is_ok_and(|m| m.uid() == me && (m.uid(), m.gid()) != (uid, gid));
            if mine {
                let _ = std::os::unix::fs::lchown(path, Some(uid), Some(gid));
            }
        };
        let written = WRITTEN.lock().map(|w| w.clone()).unwrap_or_default();
        for path in written {
            let Ok(path) = path.canonicalize() else {
                continue;
            };
            if path == workspace || !path.starts_with(&workspace) {
                continue;
            }
            let mut above = path.parent();
            while let Some(dir) = above.filter(|d| *d != workspace) {
                give(dir);
                above = dir.parent();
            }
            for entry in walkdir::WalkDir::new(&path)
                .follow_links(false)
                .into_iter()
                .flatten()
            {
                give(entry.path());
            }
        }
    }
}

fn random_hex() -> String {
    let mut bytes = [0u8; 16];
    // The OS random source failing is not worth failing a step over: fall back to time.
    if getrandom::fill(&mut bytes).is_err() {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        bytes = nanos.to_le_bytes();
    }
    hex::encode(bytes)
}
