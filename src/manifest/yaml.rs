//! YAML streams to JSON values, remembering where every node came from.
//!
//! Built on `saphyr-parser`'s event stream (maintained, span-carrying; `serde_yaml` is
//! deprecated). Plain scalars are resolved the way `sigs.k8s.io/yaml` (go-yaml v2, YAML 1.1)
//! resolves them, because that is how kubectl, Config Sync and kubeconform read manifests:
//! `yes`/`on`/`y` are booleans, `0755` is octal, `~` is null.
//!
//! Positions are kept beside the value in pre-order (see [`Positions`]), so the fast path
//! builds a plain `serde_json::Value` and pays one small push per node.

use std::collections::HashMap;

use saphyr_parser::{Event, Parser, Span};
use serde_json::{Map, Value};

use super::position::{Pos, Positions, escape_pointer};

mod lenient;
mod limits;
mod scalar;

use limits::Budget;
pub use limits::MAX_DEPTH;
use scalar::resolve_scalar;

/// One YAML document of a stream.
#[derive(Debug)]
pub struct Document {
    pub value: Value,
    pub positions: Positions,
    /// Where the document's content starts.
    pub start: Pos,
    /// Problems that did not stop parsing (duplicate keys).
    pub problems: Vec<YamlProblem>,
}

/// A syntax error or a semantic problem in the YAML text.
#[derive(Debug, Clone, PartialEq)]
pub struct YamlProblem {
    pub pos: Pos,
    /// JSON pointer of the node concerned, when there is one.
    pub pointer: Option<String>,
    pub message: String,
}

/// Everything read from one YAML stream: the documents that parsed, and the syntax errors of
/// those that did not (one per broken document; reading resumes at the next `---`).
#[derive(Debug, Default)]
pub struct Stream {
    pub documents: Vec<Document>,
    pub errors: Vec<YamlProblem>,
}

impl Stream {
    /// The first syntax error, if any.
    pub fn first_error(&self) -> Option<&YamlProblem> {
        self.errors.first()
    }
}

/// Parses a multi-document YAML stream. Empty documents are kept as `Value::Null`.
pub fn parse_stream(text: &str) -> Stream {
    lenient::parse(text)
}

/// One run of the parser over a text, stopping at the first error.
struct Pass {
    documents: Vec<Document>,
    failure: Option<Failure>,
}

/// Where and why a pass stopped.
struct Failure {
    problem: YamlProblem,
    /// A scanner error (else a limit or a structure the builder refused).
    syntax: bool,
    repair: Option<lenient::Repair>,
    /// The last line where a document started or ended before the failure (1-based), where
    /// looking for the next document starts.
    boundary: usize,
}

/// `ascii`: whether the text is ASCII (byte offsets are character offsets only then), known
/// from the whole file, since a pass may read only what follows an earlier error.
fn parse_pass(text: &str, ascii: bool) -> Pass {
    let mut builder = Builder::default();
    let mut documents = Vec::new();
    let bytes = text.as_bytes();
    for event in Parser::new_from_str(text) {
        match event {
            Ok((event, span)) => {
                if ascii && matches!(event, Event::SequenceStart(..)) {
                    // saphyr starts a sequence whose `- ` sits at its key's column at the
                    // first item, two columns past the dash.
                    let i = span.start.index();
                    let dashed = i >= 2 && bytes.get(i - 2..i) == Some(b"- ".as_slice());
                    if dashed && !matches!(bytes.get(i), Some(b'-' | b'[')) {
                        builder.shift = 2;
                    }
                }
                if matches!(event, Event::DocumentStart(_) | Event::DocumentEnd) {
                    builder.boundary = span.start.line();
                }
                if let Err(problem) = builder.event(event, span, &mut documents) {
                    return Pass {
                        documents,
                        failure: Some(Failure {
                            problem,
                            syntax: false,
                            repair: None,
                            boundary: builder.boundary,
                        }),
                    };
                }
            }
            Err(e) => {
                let m = e.marker();
                let repair =
                    lenient::repair_for(e.info(), m.line(), m.col(), || builder.open_flow(text));
                let (line, col) = if e.info().contains("tab") {
                    tab_position(text, m.line(), m.col())
                } else {
                    (m.line(), m.col())
                };
                let problem = YamlProblem {
                    pos: Pos::new(line, col + 1),
                    pointer: None,
                    message: e.info().to_owned(),
                };
                return Pass {
                    documents,
                    failure: Some(Failure {
                        problem,
                        syntax: true,
                        repair,
                        boundary: builder.boundary,
                    }),
                };
            }
        }
    }
    Pass {
        documents,
        failure: None,
    }
}

/// Where the tab is that a tab error is about: saphyr reports it where the scan stopped,
/// which for a tab indenting the next line is the end of the line before.
fn tab_position(text: &str, line: usize, col: usize) -> (usize, usize) {
    let mut lines = text.lines().skip(line.saturating_sub(1));
    if let Some(current) = lines.next() {
        if let Some(at) = current.chars().skip(col).position(|c| c == '\t') {
            return (line, col + at);
        }
    }
    if let Some(next) = lines.next() {
        let blanks: String = next
            .chars()
            .take_while(|c| *c == ' ' || *c == '\t')
            .collect();
        if let Some(at) = blanks.find('\t') {
            return (line + 1, at);
        }
    }
    (line, col)
}

enum Frame {
    Seq {
        items: Vec<Value>,
        anchor: usize,
        first_pos: usize,
    },
    Map {
        map: Map<String, Value>,
        anchor: usize,
        first_pos: usize,
        /// The key waiting for its value, with the positions index where the entry starts.
        key: Option<PendingKey>,
        /// `<<` merge sources, applied at the end so explicit keys win.
        merges: Vec<(Value, Vec<Pos>)>,
    },
}

struct PendingKey {
    name: String,
    pos: Pos,
    entry_start: usize,
    duplicate_of: Option<Pos>,
}

#[derive(Default)]
struct Builder {
    stack: Vec<Frame>,
    positions: Vec<Pos>,
    anchors: HashMap<usize, (Value, Vec<Pos>)>,
    start: Option<Pos>,
    problems: Vec<YamlProblem>,
    root: Option<Value>,
    budget: Budget,
    boundary: usize,
    /// Columns to take off the next node's position (see `parse_pass`).
    shift: u32,
}

fn pos_of(span: &Span) -> Pos {
    Pos::new(span.start.line(), span.start.col() + 1)
}

impl Builder {
    fn event(
        &mut self,
        event: Event<'_>,
        span: Span,
        docs: &mut Vec<Document>,
    ) -> Result<(), YamlProblem> {
        let mut pos = pos_of(&span);
        if self.shift > 0 {
            pos.column = pos.column.saturating_sub(self.shift).max(1);
            self.shift = 0;
        }
        match event {
            Event::DocumentStart(_) => {
                self.start = None;
                self.root = None;
                self.budget.reset();
            }
            Event::DocumentEnd => {
                let positions = std::mem::take(&mut self.positions);
                docs.push(Document {
                    value: self.root.take().unwrap_or(Value::Null),
                    positions: Positions::new(positions),
                    start: self.start.unwrap_or(pos),
                    problems: std::mem::take(&mut self.problems),
                });
                self.anchors.clear();
            }
            Event::Scalar(text, style, anchor, tag) => {
                self.start.get_or_insert(pos);
                if let Some(Frame::Map {
                    key: key @ None,
                    map,
                    first_pos,
                    ..
                }) = self.stack.last_mut()
                {
                    // A scalar in key position: remember it until its value arrives.
                    let entry_start = self.positions.len();
                    self.positions.push(pos);
                    let name = text.into_owned();
                    let duplicate_of = map.contains_key(&name).then(|| {
                        // Walk this mapping's entries to the first definition's key.
                        let mut i = *first_pos + 1;
                        for (k, v) in map.iter() {
                            if *k == name {
                                break;
                            }
                            i += 1 + Positions::subtree_len(v);
                        }
                        self.positions.get(i).copied().unwrap_or(pos)
                    });
                    *key = Some(PendingKey {
                        name,
                        pos,
                        entry_start,
                        duplicate_of,
                    });
                    return Ok(());
                }
                let first = self.positions.len();
                self.positions.push(pos);
                let value = resolve_scalar(&text, style, tag.as_deref());
                if anchor != 0 {
                    self.remember(anchor, &value, first)?;
                }
                self.complete(value)?;
            }
            Event::Alias(id) => {
                self.start.get_or_insert(pos);
                self.reject_complex_key(pos)?;
                let Some((value, positions)) = self.anchors.get(&id) else {
                    return Err(YamlProblem {
                        pos,
                        pointer: None,
                        message: "alias refers to an unknown anchor".into(),
                    });
                };
                // Counted before copying: the copy is what a "billion laughs" document
                // uses to exhaust memory.
                if let Err(message) = self.budget.alias(positions.len(), self.positions.len()) {
                    return Err(YamlProblem {
                        pos,
                        pointer: None,
                        message,
                    });
                }
                let value = value.clone();
                self.positions.extend_from_slice(positions);
                self.complete(value)?;
            }
            Event::SequenceStart(anchor, _) => {
                self.start.get_or_insert(pos);
                self.reject_complex_key(pos)?;
                self.check_depth(pos)?;
                let first_pos = self.positions.len();
                self.positions.push(pos);
                self.stack.push(Frame::Seq {
                    items: Vec::new(),
                    anchor,
                    first_pos,
                });
            }
            Event::MappingStart(anchor, _) => {
                self.start.get_or_insert(pos);
                self.reject_complex_key(pos)?;
                self.check_depth(pos)?;
                let first_pos = self.positions.len();
                self.positions.push(pos);
                self.stack.push(Frame::Map {
                    map: Map::new(),
                    anchor,
                    first_pos,
                    key: None,
                    merges: Vec::new(),
                });
            }
            Event::SequenceEnd => {
                if let Some(Frame::Seq {
                    items,
                    anchor,
                    first_pos,
                }) = self.stack.pop()
                {
                    let value = Value::Array(items);
                    if anchor != 0 {
                        self.remember(anchor, &value, first_pos)?;
                    }
                    self.complete(value)?;
                }
            }
            Event::MappingEnd => {
                if let Some(Frame::Map {
                    mut map,
                    anchor,
                    first_pos,
                    merges,
                    ..
                }) = self.stack.pop()
                {
                    for (source, positions) in merges {
                        self.merge(&mut map, source, &positions, pos)?;
                    }
                    let value = Value::Object(map);
                    if anchor != 0 {
                        self.remember(anchor, &value, first_pos)?;
                    }
                    self.complete(value)?;
                }
            }
            Event::StreamStart | Event::StreamEnd | Event::Nothing => {}
        }
        Ok(())
    }

    /// The open flow collections (`[`, `{`) at the top of the stack: how many, and the
    /// 0-based column of the outermost one's bracket. Only read after a syntax error.
    fn open_flow(&self, text: &str) -> Option<(usize, usize)> {
        let mut outermost = None;
        let mut depth = 0;
        let starts: Vec<Pos> = self
            .stack
            .iter()
            .map(|frame| match frame {
                Frame::Seq { first_pos, .. } | Frame::Map { first_pos, .. } => {
                    self.positions.get(*first_pos).copied()
                }
            })
            .collect::<Option<_>>()?;
        // The lines once, not once a frame: a deep stack over a long file made each repair
        // scan the file as many times as the stack is deep.
        let last = starts.iter().map(|p| p.line as usize).max().unwrap_or(0);
        let lines: Vec<&str> = text.lines().take(last).collect();
        for pos in &starts {
            let line = lines.get((pos.line as usize).checked_sub(1)?)?;
            let col = (pos.column as usize).checked_sub(1)?;
            if matches!(line.chars().nth(col), Some('[' | '{')) {
                outermost.get_or_insert(col);
                depth += 1;
            } else {
                outermost = None;
                depth = 0;
            }
        }
        outermost.map(|col| (col, depth))
    }

    /// Keeps a copy of an anchored node (its positions from index `first`) for its aliases.
    fn remember(&mut self, anchor: usize, value: &Value, first: usize) -> Result<(), YamlProblem> {
        let size = self.positions.len() - first;
        if let Err(message) = self.budget.anchor(size, self.positions.len()) {
            return Err(YamlProblem {
                pos: self.positions[first],
                pointer: None,
                message,
            });
        }
        self.anchors
            .insert(anchor, (value.clone(), self.positions[first..].to_vec()));
        Ok(())
    }

    /// Refuses one more level of nesting past the limit, before anything is built for it.
    fn check_depth(&self, pos: Pos) -> Result<(), YamlProblem> {
        if self.stack.len() >= MAX_DEPTH {
            return Err(YamlProblem {
                pos,
                pointer: None,
                message: limits::too_deep(),
            });
        }
        Ok(())
    }

    fn reject_complex_key(&self, pos: Pos) -> Result<(), YamlProblem> {
        if let Some(Frame::Map { key: None, .. }) = self.stack.last() {
            return Err(YamlProblem {
                pos,
                pointer: Some(self.pointer()),
                message: "mapping keys must be scalars".into(),
            });
        }
        Ok(())
    }

    /// The JSON pointer of the node being built, rebuilt from the stack: only errors need it,
    /// so the common path keeps no per-node path strings.
    fn pointer(&self) -> String {
        let mut out = String::new();
        for frame in &self.stack {
            match frame {
                Frame::Seq { items, .. } => {
                    out.push('/');
                    out.push_str(&items.len().to_string());
                }
                Frame::Map { key: Some(k), .. } => {
                    out.push('/');
                    out.push_str(&escape_pointer(&k.name));
                }
                Frame::Map { key: None, .. } => {}
            }
        }
        out
    }

    /// Attaches a finished value to its parent (or makes it the document root).
    fn complete(&mut self, value: Value) -> Result<(), YamlProblem> {
        match self.stack.last_mut() {
            None => self.root = Some(value),
            Some(Frame::Seq { items, .. }) => items.push(value),
            Some(Frame::Map {
                map, key, merges, ..
            }) => {
                let Some(k) = key.take() else {
                    return Ok(());
                };
                if k.name == "<<" {
                    let positions = self.positions.split_off(k.entry_start + 1);
                    self.positions.truncate(k.entry_start);
                    merges.push((value, positions));
                } else if let Some(first) = k.duplicate_of {
                    self.positions.truncate(k.entry_start);
                    let pointer = format!("{}/{}", self.pointer(), escape_pointer(&k.name));
                    self.problems.push(YamlProblem {
                        pos: k.pos,
                        pointer: Some(pointer),
                        message: format!(
                            "duplicate key {:?} (first defined at line {})",
                            k.name, first.line
                        ),
                    });
                } else {
                    map.insert(k.name, value);
                }
            }
        }
        Ok(())
    }

    /// Applies a `<<` merge: entries of the source mapping(s) whose keys are absent.
    fn merge(
        &mut self,
        map: &mut Map<String, Value>,
        source: Value,
        positions: &[Pos],
        at: Pos,
    ) -> Result<(), YamlProblem> {
        match source {
            Value::Object(entries) => {
                // positions: [mapping, (key, value subtree)*]
                let mut i = 1;
                for (k, v) in entries {
                    let len = 1 + Positions::subtree_len(&v);
                    if !map.contains_key(&k) {
                        self.positions.extend_from_slice(&positions[i..i + len]);
                        map.insert(k, v);
                    }
                    i += len;
                }
                Ok(())
            }
            Value::Array(items) => {
                let mut i = 1;
                for item in items {
                    let len = Positions::subtree_len(&item);
                    let slice = positions[i..i + len].to_vec();
                    self.merge(map, item, &slice, at)?;
                    i += len;
                }
                Ok(())
            }
            _ => Err(YamlProblem {
                pos: at,
                pointer: Some(self.pointer()),
                message: "a `<<` merge key needs a mapping or a list of mappings".into(),
            }),
        }
    }
}

#[cfg(test)]
mod tests;
