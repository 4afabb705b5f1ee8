//! A stateful local FAKE of the handful of GitHub REST endpoints `bump --repo` and `comment`
//! use, written from GitHub's REST documentation: one repository with a default branch,
//! refs, blobs/trees/commits (content-addressed, so equal trees have equal SHAs), contents,
//! pull requests, labels, reviewers and issue comments, all in memory.
//!
//! Commits carry an author and committer (who GitHub says the token is, unless the request
//! names them) and a `verification` object: GitHub signs an API commit made with an
//! installation token (`ghs_…`, a bot) that names no author or committer, and no other. The
//! compare endpoint lists what a branch holds beyond its base, merge commits included.
//!
//! It exists for behaviour that needs state across requests (a branch that already exists, a
//! pull request opened by the previous run, a sticky comment on page 2) and for faults
//! (409 on a ref update, 403). Whether requests match GitHub's description is the contract
//! tests' job (tests/github.rs, Prism), not this fake's.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};

use serde_json::Value;
use sha2::Digest;

// The endpoints, one match arm each.
#[path = "github_fake_routes.rs"]
mod routes;

/// Where the fleet repository of [`GitHubFake::fleet`] keeps its RootSync.
pub const FLEET_FILE: &str = "clusters/prod/root-sync.yaml";

/// `bump` of [`GitHubFake::fleet`]'s RootSync to `image`.
pub fn bump_args(image: &str) -> [&str; 7] {
    [
        "bump",
        "--repo",
        "acme/fleet",
        "--file",
        FLEET_FILE,
        "--image",
        image,
    ]
}

/// The example RootSync (examples/fleet/root-sync.yaml).
pub fn example_root_sync() -> String {
    std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/fleet/root-sync.yaml"),
    )
    .expect("example")
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Person {
    pub name: String,
    pub email: String,
    /// The GitHub account the e-mail belongs to, if any.
    pub login: Option<String>,
}

impl Person {
    pub fn new(name: &str, email: &str, login: Option<&str>) -> Person {
        Person {
            name: name.to_owned(),
            email: email.to_owned(),
            login: login.map(str::to_owned),
        }
    }

    /// What commits made with the job's GITHUB_TOKEN (or any `ghs_` token here) are by.
    pub fn actions_bot() -> Person {
        Person::new(
            "github-actions[bot]",
            "41898282+github-actions[bot]@users.noreply.github.com",
            Some("github-actions[bot]"),
        )
    }

    /// Whom a personal access token (`ghp_…`) belongs to here.
    pub fn octocat() -> Person {
        Person::new("The Octocat", "octocat@github.com", Some("octocat"))
    }

    pub fn jane() -> Person {
        Person::new("Jane Doe", "jane@example.com", Some("jane"))
    }

    /// GitHub itself, the committer of web edits and "Update branch" merges.
    pub fn web_flow() -> Person {
        Person::new("GitHub", "noreply@github.com", Some("web-flow"))
    }
}

#[derive(Debug, Clone)]
pub struct Commit {
    pub tree: String,
    pub parents: Vec<String>,
    pub message: String,
    pub author: Person,
    pub committer: Person,
    /// GitHub signed it (`verification.verified`, reason `valid`).
    pub verified: bool,
    /// Creation order, for "oldest first".
    pub seq: u64,
}

#[derive(Debug, Clone)]
pub struct Pull {
    pub number: u64,
    pub head: String,
    pub base: String,
    pub title: String,
    pub body: String,
    pub open: bool,
    pub draft: bool,
    pub labels: Vec<String>,
    pub reviewers: Vec<String>,
    pub team_reviewers: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct Comment {
    pub id: u64,
    pub issue: u64,
    pub body: String,
}

/// The repository `owner/name` as GitHub would hold it.
#[derive(Debug, Default)]
pub struct State {
    pub owner: String,
    pub name: String,
    pub default_branch: String,
    /// `heads/main` → commit SHA
    pub refs: BTreeMap<String, String>,
    pub blobs: BTreeMap<String, Vec<u8>>,
    /// A flat tree: path → blob SHA.
    pub trees: BTreeMap<String, BTreeMap<String, String>>,
    pub commits: BTreeMap<String, Commit>,
    pub pulls: Vec<Pull>,
    pub comments: Vec<Comment>,
    /// `METHOD path` of every request, in order.
    pub requests: Vec<String>,
    /// Answer this many ref updates (PATCH git/refs) with 409; before each, someone else
    /// pushes a commit to the default branch, which makes kbundle's commit stale.
    pub ref_conflicts: usize,
    /// Answer every write with 403, like a token without write permission.
    pub read_only: bool,
    /// Someone else creates the branch just before kbundle's `POST git/refs` (422).
    pub branch_race: bool,
    /// The token of the request being answered.
    pub caller: String,
    counter: u64,
}

fn sha(parts: &[&[u8]]) -> String {
    let mut h = sha2::Sha256::new();
    for p in parts {
        h.update(p);
        h.update([0]);
    }
    hex::encode(h.finalize())[..40].to_owned()
}

impl State {
    pub fn blob(&mut self, content: &[u8]) -> String {
        let sha = sha(&[b"blob", content]);
        self.blobs.insert(sha.clone(), content.to_vec());
        sha
    }

    pub fn tree(&mut self, entries: BTreeMap<String, String>) -> String {
        let flat: Vec<u8> = entries
            .iter()
            .flat_map(|(p, s)| format!("{p} {s}\n").into_bytes())
            .collect();
        let sha = sha(&[b"tree", &flat]);
        self.trees.insert(sha.clone(), entries);
        sha
    }

    /// Commits are unique like Git's (which include a timestamp). By a fleet admin, unsigned.
    pub fn commit(&mut self, tree: &str, parents: Vec<String>, message: &str) -> String {
        let admin = Person::new("Fleet Admin", "admin@example.com", Some("admin"));
        self.commit_by(tree, parents, message, admin.clone(), admin, false)
    }

    pub fn commit_by(
        &mut self,
        tree: &str,
        parents: Vec<String>,
        message: &str,
        author: Person,
        committer: Person,
        verified: bool,
    ) -> String {
        self.counter += 1;
        let n = self.counter.to_string();
        let sha = sha(&[b"commit", tree.as_bytes(), message.as_bytes(), n.as_bytes()]);
        self.commits.insert(
            sha.clone(),
            Commit {
                tree: tree.to_owned(),
                parents,
                message: message.to_owned(),
                author,
                committer,
                verified,
                seq: self.counter,
            },
        );
        sha
    }

    /// Commits `files` (path → text) on top of `branch`, creating it when missing.
    pub fn push(&mut self, branch: &str, files: &[(&str, &str)], message: &str) -> String {
        let admin = Person::new("Fleet Admin", "admin@example.com", Some("admin"));
        self.push_as(branch, files, message, admin)
    }

    /// What `git merge BASE` and a push, or GitHub's "Update branch" button, make: a commit
    /// with two parents (the branch, then `from`), by `author`, committed by GitHub. The tree
    /// is `from`'s with the branch's versions of the files the branch changed.
    pub fn merge(&mut self, branch: &str, from: &str, author: Person) -> String {
        let ours = self.refs[&format!("heads/{branch}")].clone();
        let theirs = self.refs[&format!("heads/{from}")].clone();
        let mut entries = self.trees[&self.commits[&theirs].tree].clone();
        let base = self.merge_base(&theirs, &ours);
        let base_tree = base
            .map(|b| self.trees[&self.commits[&b].tree].clone())
            .unwrap_or_default();
        for (path, blob) in &self.trees[&self.commits[&ours].tree] {
            if base_tree.get(path) != Some(blob) {
                entries.insert(path.clone(), blob.clone());
            }
        }
        let tree = self.tree(entries);
        let message = format!("Merge branch '{from}' into {branch}");
        let commit = self.commit_by(
            &tree,
            vec![ours, theirs],
            &message,
            author,
            Person::web_flow(),
            true,
        );
        self.refs.insert(format!("heads/{branch}"), commit.clone());
        commit
    }

    /// Every commit reachable from `sha`, itself included.
    pub fn ancestors(&self, sha: &str) -> std::collections::BTreeSet<String> {
        let mut seen = std::collections::BTreeSet::new();
        let mut todo = vec![sha.to_owned()];
        while let Some(c) = todo.pop() {
            if let Some(commit) = self.commits.get(&c) {
                if seen.insert(c.clone()) {
                    todo.extend(commit.parents.iter().cloned());
                }
            }
        }
        seen
    }

    /// The newest commit both reach.
    pub fn merge_base(&self, a: &str, b: &str) -> Option<String> {
        let of_a = self.ancestors(a);
        self.ancestors(b)
            .into_iter()
            .filter(|c| of_a.contains(c))
            .max_by_key(|c| self.commits[c].seq)
    }

    /// Commits `files` on top of `branch` as `author` (who also commits), unsigned.
    pub fn push_as(
        &mut self,
        branch: &str,
        files: &[(&str, &str)],
        message: &str,
        author: Person,
    ) -> String {
        let parent = self.refs.get(&format!("heads/{branch}")).cloned();
        let mut entries = parent
            .as_ref()
            .map(|p| self.trees[&self.commits[p].tree].clone())
            .unwrap_or_default();
        for (path, text) in files {
            let blob = self.blob(text.as_bytes());
            entries.insert((*path).to_owned(), blob);
        }
        let tree = self.tree(entries);
        let commit = self.commit_by(
            &tree,
            parent.into_iter().collect(),
            message,
            author.clone(),
            author,
            false,
        );
        self.refs.insert(format!("heads/{branch}"), commit.clone());
        commit
    }

    /// The commit a branch points at.
    pub fn head(&self, branch: &str) -> String {
        self.refs[&format!("heads/{branch}")].clone()
    }

    /// A file's text at a branch or commit.
    pub fn file(&self, at: &str, path: &str) -> Option<String> {
        let commit = self
            .refs
            .get(&format!("heads/{at}"))
            .map_or(at, String::as_str);
        let tree = &self.trees[&self.commits.get(commit)?.tree];
        let blob = &self.blobs[tree.get(path)?];
        Some(String::from_utf8_lossy(blob).into_owned())
    }

    pub fn open_pull(&mut self, head: &str, base: &str, title: &str, body: &str) -> u64 {
        let number = self.pulls.len() as u64 + 1;
        self.pulls.push(Pull {
            number,
            head: head.to_owned(),
            base: base.to_owned(),
            title: title.to_owned(),
            body: body.to_owned(),
            open: true,
            draft: false,
            labels: vec![],
            reviewers: vec![],
            team_reviewers: vec![],
        });
        number
    }

    pub fn add_comment(&mut self, issue: u64, body: &str) -> u64 {
        let id = 1000 + self.comments.len() as u64;
        self.comments.push(Comment {
            id,
            issue,
            body: body.to_owned(),
        });
        id
    }

    /// How many requests matched `METHOD path-prefix` (path without query).
    pub fn count(&self, method_and_path: &str) -> usize {
        self.requests
            .iter()
            .filter(|r| r.starts_with(method_and_path))
            .count()
    }
}

/// A running fake on 127.0.0.1 (port chosen by the OS); serves until the test process exits.
pub struct GitHubFake {
    /// `http://127.0.0.1:PORT`, for GITHUB_API_URL.
    pub url: String,
    pub state: Arc<Mutex<State>>,
}

impl GitHubFake {
    /// The fleet repository `acme/fleet` with the example RootSync at [`FLEET_FILE`] on `main`.
    pub fn fleet() -> Self {
        GitHubFake::start(
            "acme",
            "fleet",
            "main",
            &[(FLEET_FILE, &example_root_sync())],
        )
    }

    /// [`crate::support::kbundle`] pointed at this fake, with a person's token
    /// (`ghp_faketoken`).
    pub fn kbundle(&self) -> assert_cmd::Command {
        let mut cmd = crate::support::kbundle();
        cmd.env("GITHUB_TOKEN", "ghp_faketoken")
            .env("GITHUB_API_URL", &self.url);
        cmd
    }

    /// `owner/name` with `default_branch` holding `files`.
    pub fn start(owner: &str, name: &str, default_branch: &str, files: &[(&str, &str)]) -> Self {
        let mut state = State {
            owner: owner.to_owned(),
            name: name.to_owned(),
            default_branch: default_branch.to_owned(),
            ..State::default()
        };
        state.push(default_branch, files, "initial commit");
        let state = Arc::new(Mutex::new(state));
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the fake");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        let shared = Arc::clone(&state);
        std::thread::spawn(move || {
            for stream in listener.incoming().map_while(Result::ok) {
                let state = Arc::clone(&shared);
                std::thread::spawn(move || serve(stream, &state));
            }
        });
        GitHubFake { url, state }
    }

    pub fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().expect("fake state")
    }
}

pub(crate) fn decode(segment: &str) -> String {
    let bytes = segment.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let Ok(b) = u8::from_str_radix(&segment[i + 1..i + 3], 16) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn query(target: &str) -> BTreeMap<String, String> {
    target
        .split_once('?')
        .map(|(_, q)| q)
        .unwrap_or("")
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (k.to_owned(), decode(v)))
        .collect()
}

fn serve(stream: TcpStream, state: &Mutex<State>) {
    let mut reader = BufReader::new(stream.try_clone().expect("clone stream"));
    let mut writer = stream;
    let mut line = String::new();
    if reader.read_line(&mut line).unwrap_or(0) == 0 {
        return;
    }
    let mut parts = line.split_whitespace();
    let (Some(method), Some(target)) = (parts.next(), parts.next()) else {
        return;
    };
    let (method, target) = (method.to_owned(), target.to_owned());
    let mut length = 0usize;
    let mut token = String::new();
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h).unwrap_or(0) == 0 {
            return;
        }
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            if k.trim().eq_ignore_ascii_case("content-length") {
                length = v.trim().parse().unwrap_or(0);
            }
            if k.trim().eq_ignore_ascii_case("authorization") {
                let v = v.trim();
                token = v.split_once(' ').map_or(v, |(_, t)| t).to_owned();
            }
        }
    }
    let mut body = vec![0u8; length];
    if reader.read_exact(&mut body).is_err() {
        return;
    }
    let request: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let (status, answer) = {
        let mut state = state.lock().expect("fake state");
        let path = target.split('?').next().unwrap_or("").to_owned();
        state.requests.push(format!("{method} {path}"));
        state.caller = token;
        routes::route(&mut state, &method, &path, &query(&target), &request)
    };
    let out = serde_json::to_vec(&answer).expect("json");
    let head = format!(
        "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
        out.len()
    );
    let _ = writer.write_all(head.as_bytes());
    let _ = writer.write_all(&out);
    let _ = writer.flush();
}
