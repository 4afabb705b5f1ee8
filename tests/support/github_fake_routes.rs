//! The endpoints of the GitHub fake (see github_fake.rs), as GitHub's REST docs describe
//! their requests, answers and failures.

use std::collections::BTreeMap;

use base64::Engine;
use serde_json::{Value, json};

use super::{Comment, Commit, Person, Pull, State, decode};

fn person_json(p: &Person) -> Value {
    json!({"name": p.name, "email": p.email, "date": "2026-12-01T09:00:00Z"})
}

fn verification_json(c: &Commit) -> Value {
    if c.verified {
        json!({"verified": true, "reason": "valid", "signature": "-----BEGIN PGP SIGNATURE-----\n…",
               "payload": "tree …", "verified_at": "2026-12-01T09:00:00Z"})
    } else {
        json!({"verified": false, "reason": "unsigned", "signature": null, "payload": null,
               "verified_at": null})
    }
}

/// A commit as `GET git/commits/{sha}` and `POST git/commits` describe it.
fn git_commit_json(sha: &str, c: &Commit) -> Value {
    json!({"sha": sha, "tree": {"sha": c.tree}, "message": c.message,
           "author": person_json(&c.author), "committer": person_json(&c.committer),
           "verification": verification_json(c),
           "parents": c.parents.iter().map(|p| json!({"sha": p})).collect::<Vec<_>>()})
}

/// A commit as the compare and list-commits endpoints describe it.
fn api_commit_json(sha: &str, c: &Commit) -> Value {
    let account = |p: &Person| match &p.login {
        Some(login) => {
            json!({"login": login, "type": if login.ends_with("[bot]") { "Bot" } else { "User" }})
        }
        None => Value::Null,
    };
    json!({"sha": sha,
           "commit": {"message": c.message, "author": person_json(&c.author),
                      "committer": person_json(&c.committer), "tree": {"sha": c.tree},
                      "verification": verification_json(c)},
           "author": account(&c.author), "committer": account(&c.committer),
           "parents": c.parents.iter().map(|p| json!({"sha": p})).collect::<Vec<_>>()})
}

/// Who GitHub says the caller is.
fn caller(s: &State) -> Person {
    if s.caller.starts_with("ghs_") {
        Person::actions_bot()
    } else {
        Person::octocat()
    }
}

fn person_from(v: &Value) -> Option<Person> {
    Some(Person::new(v["name"].as_str()?, v["email"].as_str()?, None))
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

pub(super) fn route(
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
    // GitHub's cap on pull request bodies and comments.
    let too_long = body["body"]
        .as_str()
        .is_some_and(|b| b.chars().count() > 65_536);
    if too_long && matches!(seg.first(), Some(&"pulls") | Some(&"issues")) {
        return (
            422,
            json!({"message": "Validation Failed", "errors": [{"resource": "Issue", "code": "custom",
                   "field": "body", "message": "body is too long (maximum is 65536 characters)"}]}),
        );
    }
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
            Some(c) => (200, git_commit_json(sha, c)),
            None => not_found(),
        },
        ("GET", ["compare", basehead]) => {
            let Some((base, head)) = basehead.split_once("...") else {
                return not_found();
            };
            let resolve = |r: &str| {
                s.refs
                    .get(&format!("heads/{r}"))
                    .cloned()
                    .or_else(|| s.commits.contains_key(r).then(|| r.to_owned()))
            };
            let (Some(base), Some(head)) = (resolve(base), resolve(head)) else {
                return not_found();
            };
            let Some(merge_base) = s.merge_base(&base, &head) else {
                return not_found();
            };
            let in_base = s.ancestors(&base);
            let mut ahead: Vec<(&String, &Commit)> = s
                .ancestors(&head)
                .iter()
                .filter(|c| !in_base.contains(*c))
                .filter_map(|c| s.commits.get_key_value(c))
                .collect();
            ahead.sort_by_key(|(_, c)| c.seq);
            let per_page: usize = query
                .get("per_page")
                .and_then(|v| v.parse().ok())
                .unwrap_or(250);
            let page: usize = query.get("page").and_then(|v| v.parse().ok()).unwrap_or(1);
            let total = ahead.len();
            let list: Vec<Value> = ahead
                .into_iter()
                .skip((page.max(1) - 1) * per_page)
                .take(per_page)
                .map(|(sha, c)| api_commit_json(sha, c))
                .collect();
            let behind = s
                .ancestors(&base)
                .iter()
                .filter(|c| !s.ancestors(&head).contains(*c))
                .count();
            (
                200,
                json!({"status": if total == 0 { "behind" } else if behind == 0 { "ahead" } else { "diverged" },
                       "ahead_by": total, "behind_by": behind, "total_commits": total,
                       "merge_base_commit": api_commit_json(&merge_base, &s.commits[&merge_base]),
                       "base_commit": api_commit_json(&base, &s.commits[&base]),
                       "commits": list}),
            )
        }
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
            // GitHub's defaults: the author is the caller, the committer the author; it signs
            // only a bot's commit that names neither.
            let named = person_from(&body["author"]);
            let committer = person_from(&body["committer"]);
            let verified = named.is_none() && committer.is_none() && s.caller.starts_with("ghs_");
            let author = named.unwrap_or_else(|| caller(s));
            let committer = committer.unwrap_or_else(|| author.clone());
            let sha = s.commit_by(
                &str_of(&body["tree"]),
                parents,
                &str_of(&body["message"]),
                author,
                committer,
                verified,
            );
            (201, git_commit_json(&sha, &s.commits[&sha].clone()))
        }
        ("POST", ["git", "refs"]) => {
            let name = str_of(&body["ref"]);
            let name = name.strip_prefix("refs/").unwrap_or(&name).to_owned();
            if std::mem::take(&mut s.branch_race) {
                let base = s.default_branch.clone();
                let head = s.refs[&format!("heads/{base}")].clone();
                s.refs.insert(name.clone(), head);
            }
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
            let force = body["force"].as_bool().unwrap_or(false);
            if !force && !s.ancestors(&sha).contains(&s.refs[*r]) {
                return (422, json!({"message": "Update is not a fast forward"}));
            }
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
        ("POST" | "PATCH", ["pulls", ..]) if body_too_long(body) => (
            422,
            json!({
                "message": "Validation Failed",
                "errors": [{
                    "resource": "PullRequest",
                    "code": "custom",
                    "field": "body",
                    "message": "body is too long (maximum is 65536 characters)"
                }]
            }),
        ),
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

/// GitHub refuses a pull request body over 65,536 characters (422, Validation Failed).
fn body_too_long(body: &Value) -> bool {
    body["body"]
        .as_str()
        .is_some_and(|b| b.chars().count() > 65_536)
}
