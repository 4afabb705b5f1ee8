//! A stateful local FAKE of the handful of GitHub REST endpoints `bump --repo` and `comment`
//! use, written from GitHub's REST documentation: one repository with a default branch,
//! refs, blobs/trees/commits (content-addressed, so equal trees have equal SHAs), contents,
//! pull requests, labels, reviewers and issue comments, all in memory.
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

use base64::Engine;
use serde_json::{Value, json};
use sha2::Digest;

#[derive(Debug, Clone)]
pub struct Commit {
    pub tree: String,
    pub parents: Vec<String>,
    pub message: String,
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

    /// Commits are unique like Git's (which include a timestamp).
    pub fn commit(&mut self, tree: &str, parents: Vec<String>, message: &str) -> String {
        self.counter += 1;
        let n = self.counter.to_string();
        let sha = sha(&[b"commit", tree.as_bytes(), message.as_bytes(), n.as_bytes()]);
        self.commits.insert(
            sha.clone(),
            Commit {
                tree: tree.to_owned(),
                parents,
                message: message.to_owned(),
            },
        );
        sha
    }

    /// Commits `files` (path → text) on top of `branch`, creating it when missing.
    pub fn push(&mut self, branch: &str, files: &[(&str, &str)], message: &str) -> String {
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
        let commit = self.commit(&tree, parent.into_iter().collect(), message);
        self.refs.insert(format!("heads/{branch}"), commit.clone());
        commit
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

fn decode(segment: &str) -> String {
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
        route(&mut state, &method, &path, &query(&target), &request)
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

fn not_found() -> (u16, Value) {
    (404, json!({"message": "Not Found"}))
}

fn pull_json(s: &State, p: &Pull) -> Value {
    json!({
        "number": p.number,
        "html_url": format!("https://github.com/{}/{}/pull/{}", s.owner, s.name, p.number),
        "state": if p.open { "open" } else { "closed" },
        "title": p.title,
        "body": p.body,
        "draft": p.draft,
        "head": {"ref": p.head},
        "base": {"ref": p.base},
    })
}

fn comment_json(s: &State, c: &Comment) -> Value {
    json!({
        "id": c.id,
        "body": c.body,
        "html_url": format!("https://github.com/{}/{}/pull/{}#issuecomment-{}", s.owner, s.name, c.issue, c.id),
    })
}

fn route(
    s: &mut State,
    method: &str,
    path: &str,
    query: &BTreeMap<String, String>,
    body: &Value,
) -> (u16, Value) {
    let prefix = format!("/repos/{}/{}", s.owner, s.name);
    let Some(rest) = path.strip_prefix(&prefix) else {
        return not_found();
    };
    let segments: Vec<String> = rest.split('/').skip(1).map(decode).collect();
    let seg: Vec<&str> = segments.iter().map(String::as_str).collect();
    if s.read_only && method != "GET" {
        return (
            403,
            json!({"message": "Resource not accessible by integration"}),
        );
    }
    let str_of = |v: &Value| v.as_str().unwrap_or_default().to_owned();
    match (method, seg.as_slice()) {
        ("GET", []) => (
            200,
            json!({"full_name": format!("{}/{}", s.owner, s.name), "default_branch": s.default_branch}),
        ),
        ("GET", ["git", "ref", r]) => match s.refs.get(*r) {
            Some(sha) => (
                200,
                json!({"ref": format!("refs/{r}"), "object": {"sha": sha, "type": "commit"}}),
            ),
            None => not_found(),
        },
        ("GET", ["git", "commits", sha]) => match s.commits.get(*sha) {
            Some(c) => (
                200,
                json!({"sha": sha, "tree": {"sha": c.tree}, "message": c.message,
                       "parents": c.parents.iter().map(|p| json!({"sha": p})).collect::<Vec<_>>()}),
            ),
            None => not_found(),
        },
        ("GET", ["contents", p]) => {
            let at = query
                .get("ref")
                .cloned()
                .unwrap_or(s.default_branch.clone());
            match s.file(&at, p) {
                Some(text) => {
                    // GitHub wraps the base64 at 60 characters.
                    let b64 = base64::engine::general_purpose::STANDARD.encode(text);
                    let wrapped: Vec<String> = b64
                        .as_bytes()
                        .chunks(60)
                        .map(|c| String::from_utf8_lossy(c).into_owned() + "\n")
                        .collect();
                    (
                        200,
                        json!({"type": "file", "encoding": "base64", "path": p, "content": wrapped.concat()}),
                    )
                }
                None => not_found(),
            }
        }
        ("POST", ["git", "blobs"]) => {
            let content = str_of(&body["content"]);
            let bytes = if body["encoding"] == "base64" {
                base64::engine::general_purpose::STANDARD
                    .decode(content)
                    .unwrap_or_default()
            } else {
                content.into_bytes()
            };
            (201, json!({"sha": s.blob(&bytes)}))
        }
        ("POST", ["git", "trees"]) => {
            let mut entries = s
                .trees
                .get(&str_of(&body["base_tree"]))
                .cloned()
                .unwrap_or_default();
            for e in body["tree"].as_array().into_iter().flatten() {
                entries.insert(str_of(&e["path"]), str_of(&e["sha"]));
            }
            (201, json!({"sha": s.tree(entries)}))
        }
        ("POST", ["git", "commits"]) => {
            let parents = body["parents"]
                .as_array()
                .into_iter()
                .flatten()
                .map(str_of)
                .collect();
            let sha = s.commit(&str_of(&body["tree"]), parents, &str_of(&body["message"]));
            (201, json!({"sha": sha}))
        }
        ("POST", ["git", "refs"]) => {
            let name = str_of(&body["ref"]);
            let name = name.strip_prefix("refs/").unwrap_or(&name).to_owned();
            if s.refs.contains_key(&name) {
                return (422, json!({"message": "Reference already exists"}));
            }
            let sha = str_of(&body["sha"]);
            s.refs.insert(name.clone(), sha.clone());
            (
                201,
                json!({"ref": format!("refs/{name}"), "object": {"sha": sha}}),
            )
        }
        ("PATCH", ["git", "refs", r]) => {
            if !s.refs.contains_key(*r) {
                return (422, json!({"message": "Reference does not exist"}));
            }
            if s.ref_conflicts > 0 {
                s.ref_conflicts -= 1;
                let base = s.default_branch.clone();
                s.push(
                    &base,
                    &[("CHANGELOG.md", "someone else pushed\n")],
                    "concurrent push",
                );
                return (409, json!({"message": "Reference update failed"}));
            }
            let sha = str_of(&body["sha"]);
            s.refs.insert((*r).to_owned(), sha.clone());
            (
                200,
                json!({"ref": format!("refs/{r}"), "object": {"sha": sha}}),
            )
        }
        ("GET", ["pulls"]) => {
            let head = query.get("head").cloned().unwrap_or_default();
            let state = query.get("state").map_or("open", String::as_str);
            let list: Vec<Value> = s
                .pulls
                .iter()
                .filter(|p| state == "all" || p.open == (state == "open"))
                .filter(|p| head.is_empty() || format!("{}:{}", s.owner, p.head) == head)
                .map(|p| pull_json(s, p))
                .collect();
            (200, Value::Array(list))
        }
        ("POST", ["pulls"]) => {
            let head = str_of(&body["head"]);
            if s.pulls.iter().any(|p| p.open && p.head == head) {
                return (
                    422,
                    json!({"message": format!("A pull request already exists for {}:{head}.", s.owner)}),
                );
            }
            let n = s.open_pull(
                &head,
                &str_of(&body["base"]),
                &str_of(&body["title"]),
                &str_of(&body["body"]),
            );
            let last = s.pulls.len() - 1;
            s.pulls[last].draft = body["draft"].as_bool().unwrap_or(false);
            let p = s.pulls[last].clone();
            debug_assert_eq!(p.number, n);
            (201, pull_json(s, &p))
        }
        ("PATCH", ["pulls", n]) => {
            let Some(i) = s.pulls.iter().position(|p| p.number.to_string() == *n) else {
                return not_found();
            };
            if let Some(t) = body["title"].as_str() {
                s.pulls[i].title = t.to_owned();
            }
            if let Some(b) = body["body"].as_str() {
                s.pulls[i].body = b.to_owned();
            }
            let p = s.pulls[i].clone();
            (200, pull_json(s, &p))
        }
        ("POST", ["issues", n, "labels"]) => {
            let Some(i) = s.pulls.iter().position(|p| p.number.to_string() == *n) else {
                return not_found();
            };
            for l in body["labels"].as_array().into_iter().flatten() {
                let l = str_of(l);
                if !s.pulls[i].labels.contains(&l) {
                    s.pulls[i].labels.push(l);
                }
            }
            let labels: Vec<Value> = s.pulls[i]
                .labels
                .iter()
                .map(|l| json!({"name": l}))
                .collect();
            (200, Value::Array(labels))
        }
        ("POST", ["pulls", n, "requested_reviewers"]) => {
            let Some(i) = s.pulls.iter().position(|p| p.number.to_string() == *n) else {
                return not_found();
            };
            for r in body["reviewers"].as_array().into_iter().flatten() {
                s.pulls[i].reviewers.push(str_of(r));
            }
            for r in body["team_reviewers"].as_array().into_iter().flatten() {
                s.pulls[i].team_reviewers.push(str_of(r));
            }
            let p = s.pulls[i].clone();
            (201, pull_json(s, &p))
        }
        ("GET", ["issues", n, "comments"]) => {
            let per_page: usize = query
                .get("per_page")
                .and_then(|v| v.parse().ok())
                .unwrap_or(30);
            let page: usize = query.get("page").and_then(|v| v.parse().ok()).unwrap_or(1);
            let list: Vec<Value> = s
                .comments
                .iter()
                .filter(|c| c.issue.to_string() == *n)
                .skip((page.max(1) - 1) * per_page)
                .take(per_page)
                .map(|c| comment_json(s, c))
                .collect();
            (200, Value::Array(list))
        }
        ("POST", ["issues", n, "comments"]) => {
            let Ok(issue) = n.parse() else {
                return not_found();
            };
            let id = s.add_comment(issue, &str_of(&body["body"]));
            let c = s.comments.last().cloned().expect("just added");
            debug_assert_eq!(c.id, id);
            (201, comment_json(s, &c))
        }
        ("PATCH", ["issues", "comments", id]) => {
            let Some(i) = s.comments.iter().position(|c| c.id.to_string() == *id) else {
                return not_found();
            };
            s.comments[i].body = str_of(&body["body"]);
            let c = s.comments[i].clone();
            (200, comment_json(s, &c))
        }
        _ => not_found(),
    }
}
