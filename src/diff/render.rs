//! The diff for people and machines: text (a terminal, a log), JSON, and markdown (a pull
//! request body or job summary, folded per resource and kept inside a size budget).

use std::fmt::Write as _;

use serde::Serialize;

use super::{Changed, Diff, FieldChange, Identity, Object};

/// How `kbundle diff` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Format {
    /// Counts, one line per resource, a unified diff per changed one
    #[default]
    Text,
    /// One JSON object: summary, added, removed, changed (with paths and diffs)
    Json,
    /// Counts and a folded section per resource, for a pull request or job summary
    Markdown,
}

/// How many field paths a resource's line lists before `and N more`.
const SHOWN_PATHS: usize = 8;

/// A unified diff of two objects' normal YAML, three lines of context.
pub(super) fn unified(old: &Object, new: &Object) -> String {
    similar::TextDiff::from_lines(&old.yaml, &new.yaml)
        .unified_diff()
        .context_radius(3)
        .header(
            &format!("{} ({})", old.identity, old.source),
            &format!("{} ({})", new.identity, new.source),
        )
        .to_string()
}

/// `+3 ~2 -1 resources (namespaces: prod, web; kinds: Deployment.apps 2, Secret 1)`, or
/// `no changes (12 resources)`.
pub fn summary_line(diff: &Diff) -> String {
    if diff.is_empty() {
        return format!("no changes ({} resources)", diff.unchanged);
    }
    format!(
        "{} resources (namespaces: {}; kinds: {})",
        counts(diff),
        diff.namespaces().join(", "),
        kinds(diff)
    )
}

fn counts(diff: &Diff) -> String {
    format!(
        "+{} ~{} -{}",
        diff.added.len(),
        diff.changed.len(),
        diff.removed.len()
    )
}

fn kinds(diff: &Diff) -> String {
    diff.kinds()
        .iter()
        .map(|(k, n)| format!("{k} {n}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn paths(fields: &[FieldChange]) -> Vec<String> {
    let mut out: Vec<String> = fields
        .iter()
        .take(SHOWN_PATHS)
        .map(|f| f.path.clone())
        .collect();
    if fields.len() > SHOWN_PATHS {
        out.push(format!("and {} more", fields.len() - SHOWN_PATHS));
    }
    out
}

/// The whole diff in `format`.
pub fn render(diff: &Diff, format: Format) -> String {
    match format {
        Format::Text => text(diff),
        Format::Json => json(diff),
        Format::Markdown => markdown_section(diff, usize::MAX),
    }
}

fn text(diff: &Diff) -> String {
    let mut out = summary_line(diff);
    out.push('\n');
    for o in &diff.removed {
        let _ = writeln!(out, "- {} ({})", o.identity, o.source);
    }
    for o in &diff.added {
        let _ = writeln!(out, "+ {} ({})", o.identity, o.source);
    }
    for c in &diff.changed {
        let _ = writeln!(
            out,
            "~ {} ({} -> {}): {}",
            c.new.identity,
            c.old.source,
            c.new.source,
            paths(&c.fields).join(", ")
        );
    }
    for c in &diff.changed {
        out.push('\n');
        if !c.secret_keys.is_empty() {
            let _ = writeln!(
                out,
                "{}: Secret values are not shown; changed: {}",
                c.new.identity,
                c.secret_keys.join(", ")
            );
        }
        out.push_str(&c.unified);
    }
    for (side, skipped) in [("old", &diff.skipped.0), ("new", &diff.skipped.1)] {
        if !skipped.is_empty() {
            let _ = writeln!(
                out,
                "\n{side}: left out {} documents that are not Kubernetes objects (no kind or name): {}",
                skipped.len(),
                skipped.join(", ")
            );
        }
    }
    out
}

#[derive(Serialize)]
struct JsonDiff<'a> {
    summary: JsonSummary,
    removed: Vec<JsonObject<'a>>,
    added: Vec<JsonObject<'a>>,
    changed: Vec<JsonChanged<'a>>,
    skipped: JsonSkipped<'a>,
}

#[derive(Serialize)]
struct JsonSummary {
    added: usize,
    changed: usize,
    removed: usize,
    unchanged: usize,
    namespaces: Vec<String>,
    kinds: std::collections::BTreeMap<String, usize>,
}

#[derive(Serialize)]
struct JsonObject<'a> {
    group: &'a str,
    kind: &'a str,
    namespace: &'a str,
    name: &'a str,
    source: &'a str,
}

impl<'a> JsonObject<'a> {
    fn of(identity: &'a Identity, source: &'a str) -> JsonObject<'a> {
        JsonObject {
            group: &identity.group,
            kind: &identity.kind,
            namespace: &identity.namespace,
            name: &identity.name,
            source,
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct JsonChanged<'a> {
    #[serde(flatten)]
    object: JsonObject<'a>,
    old_source: &'a str,
    fields: &'a [FieldChange],
    secret_keys: &'a [String],
    diff: &'a str,
}

#[derive(Serialize)]
struct JsonSkipped<'a> {
    old: &'a [String],
    new: &'a [String],
}

fn json(diff: &Diff) -> String {
    let doc = JsonDiff {
        summary: JsonSummary {
            added: diff.added.len(),
            changed: diff.changed.len(),
            removed: diff.removed.len(),
            unchanged: diff.unchanged,
            namespaces: diff.namespaces(),
            kinds: diff.kinds().into_iter().collect(),
        },
        removed: diff
            .removed
            .iter()
            .map(|o| JsonObject::of(&o.identity, &o.source))
            .collect(),
        added: diff
            .added
            .iter()
            .map(|o| JsonObject::of(&o.identity, &o.source))
            .collect(),
        changed: diff
            .changed
            .iter()
            .map(|c| JsonChanged {
                object: JsonObject::of(&c.new.identity, &c.new.source),
                old_source: &c.old.source,
                fields: &c.fields,
                secret_keys: &c.secret_keys,
                diff: &c.unified,
            })
            .collect(),
        skipped: JsonSkipped {
            old: &diff.skipped.0,
            new: &diff.skipped.1,
        },
    };
    let mut out = serde_json::to_string_pretty(&doc).unwrap_or_default();
    out.push('\n');
    out
}

/// Text safe inside HTML (a `<summary>`) and markdown.
fn html(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('|', "&#124;")
        .replace('`', "&#96;")
}

/// A fenced code block whose fence no line of `body` can close.
fn fenced(lang: &str, body: &str) -> String {
    let mut longest = 0;
    let mut run = 0;
    for c in body.chars() {
        run = if c == '`' { run + 1 } else { 0 };
        longest = longest.max(run);
    }
    let fence = "`".repeat(longest.max(2) + 1);
    let nl = if body.ends_with('\n') { "" } else { "\n" };
    format!("{fence}{lang}\n{body}{nl}{fence}\n")
}

fn code_list(items: &[String]) -> String {
    items
        .iter()
        .map(|p| format!("<code>{}</code>", html(p)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// One resource, folded: the full form (with its YAML or diff) and a one-line form for when
/// the full one does not fit.
fn blocks(diff: &Diff) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let object = |sign: &str, verb: &str, o: &Object| {
        let line = format!(
            "<b>{sign}</b> <code>{}</code> {verb} (<code>{}</code>)",
            html(&o.identity.to_string()),
            html(&o.source)
        );
        (
            format!(
                "<details><summary>{line}</summary>\n\n{}\n</details>\n\n",
                fenced("yaml", &o.yaml)
            ),
            format!("- {line}\n"),
        )
    };
    for o in &diff.removed {
        out.push(object("−", "removed", o));
    }
    for c in &diff.changed {
        out.push(changed(c));
    }
    for o in &diff.added {
        out.push(object("+", "added", o));
    }
    out
}

fn changed(c: &Changed) -> (String, String) {
    let line = format!(
        "<b>~</b> <code>{}</code>: {}",
        html(&c.new.identity.to_string()),
        code_list(&paths(&c.fields))
    );
    let mut parts = Vec::new();
    if !c.secret_keys.is_empty() {
        parts.push(format!(
            "Secret values are not shown. Changed: {}\n",
            code_list(&c.secret_keys)
        ));
    }
    // Only a Secret's values changed: its redacted YAML reads the same on both sides.
    if c.unified.lines().any(|l| l.starts_with("@@")) {
        parts.push(fenced("diff", &c.unified));
    }
    let body = parts.join("\n");
    (
        format!("<details><summary>{line}</summary>\n\n{body}\n</details>\n\n"),
        format!("- {line}\n"),
    )
}

/// The markdown of a diff within `budget` bytes (a pull request body has 65,536 characters
/// and bytes are never fewer): the counts first, then each resource folded in a
/// `<details>`, removals first; what does not fit is listed on one line, then counted.
pub fn markdown_section(diff: &Diff, budget: usize) -> String {
    let mut md = String::from("#### What changes in the cluster\n\n");
    if diff.is_empty() {
        let _ = writeln!(
            md,
            "No resource changes: the {} resources are the same (files, order, comments and \
             formatting aside).",
            diff.unchanged
        );
        return fit(md, budget);
    }
    let _ = writeln!(
        md,
        "**{} resources** ({} unchanged) · namespaces: {} · kinds: {}\n",
        counts(diff),
        diff.unchanged,
        code_list(&diff.namespaces()),
        html(&kinds(diff))
    );
    // Room kept for the line that counts what was left out.
    const RESERVE: usize = 200;
    if md.len() + RESERVE > budget {
        return fit(md, budget);
    }
    let all = blocks(diff);
    let total = all.len();
    let mut shown = 0;
    let mut folded_out = 0;
    for (full, short) in all {
        if md.len() + full.len() + RESERVE <= budget {
            md.push_str(&full);
        } else if md.len() + short.len() + RESERVE <= budget {
            md.push_str(&short);
            folded_out += 1;
        } else {
            break;
        }
        shown += 1;
    }
    if shown < total || folded_out > 0 {
        let _ = write!(
            md,
            "\n_Shortened to fit: {folded_out} resources listed without their diff, {} not \
             listed. `kbundle diff` on the two images shows everything._\n",
            total - shown
        );
    }
    fit(md, budget)
}

/// `md`, or a shorter note when even that does not fit.
fn fit(md: String, budget: usize) -> String {
    if md.len() <= budget {
        return md;
    }
    let note = "_The diff did not fit in the body; run `kbundle diff` on the two images._\n";
    if note.len() <= budget {
        note.to_owned()
    } else {
        String::new()
    }
}
