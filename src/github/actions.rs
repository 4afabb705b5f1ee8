//! The GitHub Actions runner's file and workflow-command protocol.
//!
//! Outputs go to `$GITHUB_OUTPUT` and the job summary to `$GITHUB_STEP_SUMMARY`; secrets are
//! masked with `::add-mask::` before anything else is printed. Outside Actions every function
//! here does nothing, so commands can call them unconditionally.

use std::io::Write;
use std::path::PathBuf;

/// GitHub refuses step summaries over 1 MiB.
const SUMMARY_LIMIT: usize = 1024 * 1024;

/// Whether this process runs as a step of a GitHub Actions job.
pub fn active() -> bool {
    std::env::var_os("GITHUB_ACTIONS").is_some_and(|v| v == "true")
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
