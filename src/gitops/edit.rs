//! Splices into the original text: replace one scalar, or add missing keys beside their
//! siblings. Everything outside the splices is copied byte for byte.

use saphyr_parser::ScalarStyle;

use super::quote::{double_quoted, plain_or_quoted, single_quoted};
use super::yaml::{Map, Node, Scalar};
use super::{BumpError, Change, Edit};

/// One value to set, at a key path below a mapping.
#[derive(Debug, Clone)]
pub(super) struct Want {
    pub path: Vec<&'static str>,
    pub value: String,
}

/// Which document an edit belongs to, for the `Change` records and error messages.
#[derive(Debug, Clone)]
pub(super) struct Target {
    pub kind: String,
    pub name: String,
    /// Indentation step of the document, used for keys nested under a created key.
    pub step: usize,
}

struct Splice {
    start: usize,
    end: usize,
    text: String,
}

/// A change whose line is known only once the splices are applied (insertions move lines).
struct Pending {
    change: Change,
    splice: usize,
    offset: usize,
}

pub(super) struct Editor<'t> {
    text: &'t str,
    splices: Vec<Splice>,
    pending: Vec<Pending>,
}

/// Keys to create, in the order the caller asked for them.
enum New {
    Leaf(String),
    Map(Vec<(&'static str, New)>),
}

impl<'t> Editor<'t> {
    pub fn new(text: &'t str) -> Editor<'t> {
        Editor {
            text,
            splices: Vec::new(),
            pending: Vec::new(),
        }
    }

    /// Sets every `want` below `map`; `field` is the path of `map` itself, for messages.
    pub fn set(
        &mut self,
        target: &Target,
        map: &Map,
        field: &str,
        wants: &[Want],
    ) -> Result<(), BumpError> {
        let mut missing: Vec<Want> = Vec::new();
        let mut firsts: Vec<&'static str> = Vec::new();
        for first in wants.iter().filter_map(|want| want.path.first()) {
            if !firsts.contains(first) {
                firsts.push(first);
            }
        }
        for first in firsts {
            let group = below(wants, first);
            let here = join(field, first);
            let Some((key, value)) = map.entry(first) else {
                missing.extend(group.into_iter().map(|want| Want {
                    path: [vec![first], want.path].concat(),
                    value: want.value,
                }));
                continue;
            };
            if let Some(leaf) = group.iter().find(|want| want.path.is_empty()) {
                match value {
                    Node::Scalar(scalar)
                        if !matches!(scalar.style, ScalarStyle::Literal | ScalarStyle::Folded) =>
                    {
                        self.replace(target, scalar, map.flow, &here, &leaf.value)?;
                    }
                    other => return Err(unsupported(key, &here, other)),
                }
                continue;
            }
            match value {
                Node::Map(child) => self.set(target, child, &here, &group)?,
                // `ref:` with nothing after it: the children go on the lines below the key.
                Node::Scalar(empty)
                    if !map.flow && empty.value.is_empty() && empty.style == ScalarStyle::Plain =>
                {
                    let Some(key) = key.as_scalar() else {
                        return Err(unsupported(key, &here, value));
                    };
                    let tree = tree(&group);
                    self.insert_lines(target, key.end, key.col + target.step, &here, &tree);
                }
                other => return Err(unsupported(key, &here, other)),
            }
        }
        if !missing.is_empty() {
            let tree = tree(&missing);
            if map.flow {
                self.insert_flow(target, map, field, &tree);
            } else {
                let indent = match map.entries.first().and_then(|(key, _)| key.as_scalar()) {
                    Some(key) => key.col,
                    None => {
                        return Err(BumpError::Unsupported {
                            line: 0,
                            field: field.to_owned(),
                            what: "a mapping with a complex key".to_owned(),
                        });
                    }
                };
                let after = map.content_end();
                self.insert_lines(target, after, indent, field, &tree);
            }
        }
        Ok(())
    }

    fn replace(
        &mut self,
        target: &Target,
        scalar: &Scalar,
        flow: bool,
        field: &str,
        value: &str,
    ) -> Result<(), BumpError> {
        if scalar.value == value {
            return Ok(());
        }
        // Keep the author's quoting: quoted stays quoted the same way, plain stays plain
        // unless the new value would then read as something else (a number, a comment…).
        let mut text = match scalar.style {
            ScalarStyle::SingleQuoted => single_quoted(value),
            ScalarStyle::DoubleQuoted => double_quoted(value),
            _ => plain_or_quoted(value, flow),
        };
        if scalar.glued {
            text.insert(0, ' ');
        }
        self.splices.push(Splice {
            start: scalar.start,
            end: scalar.end,
            text,
        });
        self.record(target, field, &scalar.value, value, 0);
        Ok(())
    }

    /// New block keys on the lines after the one where byte `after` sits.
    fn insert_lines(
        &mut self,
        target: &Target,
        after: usize,
        indent: usize,
        field: &str,
        tree: &New,
    ) {
        let search = after.saturating_sub(1).min(self.text.len());
        // Bytes, not chars: `search` may sit inside a multi-byte character, and a `\n` byte
        // can only ever be a line break in UTF-8.
        let newline = self.text.as_bytes()[search..]
            .iter()
            .position(|&b| b == b'\n');
        let (at, eol, lead) = match newline {
            Some(found) => {
                let newline = search + found;
                let eol = if self.text[..newline].ends_with('\r') {
                    "\r\n"
                } else {
                    "\n"
                };
                (newline + 1, eol, false)
            }
            // Last line without a line break: start a new line first.
            None => (self.text.len(), file_eol(self.text), true),
        };
        let mut out = String::new();
        let mut leaves = Vec::new();
        render_block(tree, indent, target.step, eol, field, &mut out, &mut leaves);
        if lead {
            out.insert_str(0, eol);
            out.truncate(out.len() - eol.len());
            for leaf in &mut leaves {
                leaf.1 += eol.len();
            }
        }
        self.push_insert(target, at, out, leaves);
    }

    /// New keys inside a flow mapping, right after its last entry (before any trailing comma).
    fn insert_flow(&mut self, target: &Target, map: &Map, field: &str, tree: &New) {
        let (at, mut out) = match map.entries.last() {
            Some((_, value)) => (value.end(), ", ".to_owned()),
            None => (map.end, String::new()),
        };
        let mut leaves = Vec::new();
        render_flow_entries(tree, field, &mut out, &mut leaves);
        self.push_insert(target, at, out, leaves);
    }

    fn push_insert(
        &mut self,
        target: &Target,
        at: usize,
        text: String,
        leaves: Vec<(String, usize, String)>,
    ) {
        self.splices.push(Splice {
            start: at,
            end: at,
            text,
        });
        for (field, offset, value) in leaves {
            self.record(target, &field, "", &value, offset);
        }
    }

    fn record(&mut self, target: &Target, field: &str, old: &str, new: &str, offset: usize) {
        self.pending.push(Pending {
            change: Change {
                kind: target.kind.clone(),
                name: target.name.clone(),
                field: field.to_owned(),
                line: 0,
                old: old.to_owned(),
                new: new.to_owned(),
            },
            splice: self.splices.len() - 1,
            offset,
        });
    }

    /// Applies the splices; the changes get their line numbers in the new text.
    pub fn finish(self) -> Edit {
        if self.splices.is_empty() {
            return Edit {
                text: self.text.to_owned(),
                changes: Vec::new(),
            };
        }
        let mut order: Vec<usize> = (0..self.splices.len()).collect();
        // Stable, so insertions at one spot keep the order they were made in.
        order.sort_by_key(|&index| self.splices[index].start);
        let mut text = String::with_capacity(self.text.len() + 256);
        let mut placed = vec![0; self.splices.len()];
        let mut cursor = 0;
        for index in order {
            let splice = &self.splices[index];
            debug_assert!(splice.start >= cursor, "overlapping splices");
            text.push_str(&self.text[cursor..splice.start]);
            placed[index] = text.len();
            text.push_str(&splice.text);
            cursor = splice.end;
        }
        text.push_str(&self.text[cursor..]);
        let mut changes: Vec<Change> = self
            .pending
            .into_iter()
            .map(|pending| {
                let at = placed[pending.splice] + pending.offset;
                let line = 1 + text[..at].bytes().filter(|&b| b == b'\n').count();
                Change {
                    line: u32::try_from(line).unwrap_or(u32::MAX),
                    ..pending.change
                }
            })
            .collect();
        changes.sort_by_key(|change| change.line);
        Edit { text, changes }
    }
}

fn join(field: &str, key: &str) -> String {
    if field.is_empty() {
        key.to_owned()
    } else {
        format!("{field}.{key}")
    }
}

fn unsupported(key: &Node, field: &str, value: &Node) -> BumpError {
    BumpError::Unsupported {
        line: key.as_scalar().map_or(0, |key| key.line),
        field: field.to_owned(),
        what: value.describe().to_owned(),
    }
}

/// The line ending the file already uses (its first one), `\n` for a one-line file.
fn file_eol(text: &str) -> &'static str {
    match text.find('\n') {
        Some(at) if text[..at].ends_with('\r') => "\r\n",
        _ => "\n",
    }
}

/// The wants whose path starts with `first`, with that key removed.
fn below(wants: &[Want], first: &str) -> Vec<Want> {
    wants
        .iter()
        .filter(|want| want.path.first() == Some(&first))
        .map(|want| Want {
            path: want.path[1..].to_vec(),
            value: want.value.clone(),
        })
        .collect()
}

/// Nests the wanted paths into the keys to create.
fn tree(wants: &[Want]) -> New {
    let mut entries: Vec<(&'static str, New)> = Vec::new();
    for want in wants {
        let Some(&first) = want.path.first() else {
            continue;
        };
        if entries.iter().any(|(key, _)| *key == first) {
            continue;
        }
        let group = below(wants, first);
        let node = match group.iter().find(|want| want.path.is_empty()) {
            Some(leaf) => New::Leaf(leaf.value.clone()),
            None => tree(&group),
        };
        entries.push((first, node));
    }
    New::Map(entries)
}

/// Block lines for `tree`; `leaves` gets (field, byte offset in `out`, value) per new value.
fn render_block(
    tree: &New,
    indent: usize,
    step: usize,
    eol: &str,
    field: &str,
    out: &mut String,
    leaves: &mut Vec<(String, usize, String)>,
) {
    let New::Map(entries) = tree else {
        return;
    };
    for (key, value) in entries {
        let here = join(field, key);
        out.push_str(&" ".repeat(indent));
        out.push_str(key);
        out.push(':');
        match value {
            New::Leaf(value) => {
                out.push(' ');
                leaves.push((here, out.len(), value.clone()));
                out.push_str(&plain_or_quoted(value, false));
                out.push_str(eol);
            }
            New::Map(_) => {
                out.push_str(eol);
                render_block(value, indent + step, step, eol, &here, out, leaves);
            }
        }
    }
}

/// `key: value, key: {key: value}` for insertion into a flow mapping.
fn render_flow_entries(
    tree: &New,
    field: &str,
    out: &mut String,
    leaves: &mut Vec<(String, usize, String)>,
) {
    let New::Map(entries) = tree else {
        return;
    };
    for (index, (key, value)) in entries.iter().enumerate() {
        if index > 0 {
            out.push_str(", ");
        }
        let here = join(field, key);
        out.push_str(key);
        out.push_str(": ");
        match value {
            New::Leaf(value) => {
                leaves.push((here, out.len(), value.clone()));
                out.push_str(&plain_or_quoted(value, true));
            }
            New::Map(_) => {
                out.push('{');
                render_flow_entries(value, &here, out, leaves);
                out.push('}');
            }
        }
    }
}
