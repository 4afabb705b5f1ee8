//! A small positioned tree built from `saphyr-parser` events.
//!
//! The edits must leave every other byte of the file alone, so instead of a YAML value model
//! this keeps, for each node, where it sits in the text (byte offsets, line, column) and, for
//! scalars, how they were written (plain or quoted). Nothing here ever re-serialises YAML.

use std::collections::HashMap;

use saphyr_parser::{Event, Parser, ScalarStyle, Span};

use super::BumpError;

/// Deeper nesting is not a Kubernetes manifest (validation refuses it too); refusing it keeps
/// the recursive builder from overflowing the stack on hostile input.
use crate::manifest::MAX_DEPTH;

/// A scalar as written in the file.
#[derive(Debug, Clone)]
pub(super) struct Scalar {
    pub value: String,
    pub style: ScalarStyle,
    /// Byte range of the scalar, quotes included, anchor and tag excluded.
    pub start: usize,
    pub end: usize,
    /// The scalar is empty and written right after its anchor or tag (`image: &a`): a new
    /// value needs a space before it.
    pub glued: bool,
    /// 1-based line and 0-based column (in characters) of the first character.
    pub line: usize,
    pub col: usize,
}

/// A mapping; `end` is the byte offset of `}` for a flow mapping and unused for block ones.
#[derive(Debug, Clone)]
pub(super) struct Map {
    pub entries: Vec<(Node, Node)>,
    pub flow: bool,
    pub start: usize,
    pub end: usize,
}

#[derive(Debug, Clone)]
pub(super) enum Node {
    Scalar(Scalar),
    Map(Map),
    Seq {
        items: Vec<Node>,
        end: usize,
    },
    /// An alias (`*name`): kbundle does not follow anchors, it only needs to know the extent.
    Alias {
        end: usize,
    },
}

impl Node {
    pub fn as_map(&self) -> Option<&Map> {
        match self {
            Node::Map(map) => Some(map),
            _ => None,
        }
    }

    pub fn as_scalar(&self) -> Option<&Scalar> {
        match self {
            Node::Scalar(scalar) => Some(scalar),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        self.as_scalar().map(|scalar| scalar.value.as_str())
    }

    /// Byte offset just past the last character that belongs to this node.
    pub fn end(&self) -> usize {
        match self {
            Node::Scalar(scalar) => scalar.end,
            Node::Alias { end, .. } => *end,
            // A flow mapping ends at its `}`; a block one at its last value, because the
            // parser's MappingEnd span points at the next token, possibly lines below.
            Node::Map(map) => map.content_end(),
            Node::Seq { end, .. } => *end,
        }
    }

    /// The text for error messages: what kind of node this is.
    pub fn describe(&self) -> &'static str {
        match self {
            Node::Scalar(scalar) => match scalar.style {
                ScalarStyle::Literal | ScalarStyle::Folded => "a block scalar",
                _ => "a scalar",
            },
            Node::Map(_) => "a mapping",
            Node::Seq { .. } => "a list",
            Node::Alias { .. } => "an alias",
        }
    }
}

impl Map {
    /// Byte offset just past the mapping: after `}` for a flow mapping, after its last value
    /// for a block one, because the parser's MappingEnd span points at the next token,
    /// possibly lines below.
    pub fn content_end(&self) -> usize {
        if self.flow {
            self.end + 1
        } else {
            self.entries
                .last()
                .map_or(self.start, |(key, value)| value.end().max(key.end()))
        }
    }

    /// The value of the first entry whose key is the plain string `key`.
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.entry(key).map(|(_, value)| value)
    }

    pub fn entry(&self, key: &str) -> Option<(&Node, &Node)> {
        self.entries
            .iter()
            .find(|(k, _)| k.as_str() == Some(key))
            .map(|(k, v)| (k, v))
    }

    /// Follows a path of keys through nested mappings.
    pub fn path(&self, keys: &[&str]) -> Option<&Node> {
        let (first, rest) = keys.split_first()?;
        let node = self.get(first)?;
        if rest.is_empty() {
            Some(node)
        } else {
            node.as_map()?.path(rest)
        }
    }

    pub fn path_str(&self, keys: &[&str]) -> Option<&str> {
        self.path(keys).and_then(Node::as_str)
    }
}

/// Maps the parser's character indices to byte offsets in the text.
struct Offsets {
    /// Empty when the text is ASCII: then both are the same and no table is needed.
    bytes: Vec<usize>,
    len: usize,
}

impl Offsets {
    fn new(text: &str) -> Offsets {
        let bytes = if text.is_ascii() {
            Vec::new()
        } else {
            text.char_indices().map(|(byte, _)| byte).collect()
        };
        Offsets {
            bytes,
            len: text.len(),
        }
    }

    fn byte(&self, char_index: usize) -> usize {
        if self.bytes.is_empty() {
            char_index.min(self.len)
        } else {
            self.bytes.get(char_index).copied().unwrap_or(self.len)
        }
    }
}

/// Parses every document of `text`; an empty document yields an empty plain scalar.
pub(super) fn parse(text: &str) -> Result<Vec<Node>, BumpError> {
    let mut builder = Builder {
        text,
        events: Parser::new_from_str(text),
        offsets: Offsets::new(text),
    };
    let mut documents = Vec::new();
    while let Some((event, span)) = builder.next()? {
        match event {
            Event::DocumentStart(_) => {
                let (first, first_span) = builder.expect()?;
                if matches!(first, Event::DocumentEnd) {
                    documents.push(builder.empty(first_span));
                } else {
                    documents.push(builder.node(first, first_span, 0)?);
                    // The DocumentEnd event after the root; nothing else can come there.
                    builder.expect()?;
                }
            }
            Event::StreamStart => {}
            Event::StreamEnd => break,
            _ => return Err(builder.unexpected(span)),
        }
    }
    Ok(documents)
}

struct Builder<'a> {
    text: &'a str,
    events: Parser<'a, saphyr_parser::StrInput<'a>>,
    offsets: Offsets,
}

impl<'a> Builder<'a> {
    fn next(&mut self) -> Result<Option<(Event<'a>, Span)>, BumpError> {
        match self.events.next() {
            None => Ok(None),
            Some(Ok(item)) => Ok(Some(item)),
            Some(Err(error)) => Err(BumpError::Syntax {
                line: error.marker().line(),
                column: error.marker().col() + 1,
                message: error.info().to_owned(),
            }),
        }
    }

    /// The next event, where the grammar guarantees there is one.
    fn expect(&mut self) -> Result<(Event<'a>, Span), BumpError> {
        self.next()?.ok_or(BumpError::Syntax {
            line: 0,
            column: 0,
            message: "unexpected end of the event stream".to_owned(),
        })
    }

    fn unexpected(&self, span: Span) -> BumpError {
        BumpError::Syntax {
            line: span.start.line(),
            column: span.start.col() + 1,
            message: "unexpected YAML structure".to_owned(),
        }
    }

    fn empty(&self, span: Span) -> Node {
        let at = self.offsets.byte(span.start.index());
        Node::Scalar(Scalar {
            value: String::new(),
            style: ScalarStyle::Plain,
            start: at,
            end: at,
            glued: false,
            line: span.start.line(),
            col: span.start.col(),
        })
    }

    fn node(&mut self, event: Event<'a>, span: Span, depth: usize) -> Result<Node, BumpError> {
        // `depth` counts the collections around this node, as validation does.
        let collection = matches!(event, Event::MappingStart(..) | Event::SequenceStart(..));
        if collection && depth >= MAX_DEPTH {
            return Err(BumpError::Syntax {
                line: span.start.line(),
                column: span.start.col() + 1,
                message: format!("nesting deeper than {MAX_DEPTH} levels"),
            });
        }
        let start = self.offsets.byte(span.start.index());
        match event {
            Event::Scalar(value, style, anchor, tag) => {
                let end = self.offsets.byte(span.end.index());
                // The span starts at the node's properties (`&anchor`, `!tag`): the value
                // itself, the part an edit replaces, starts after them.
                let (start, glued) = if anchor != 0 || tag.is_some() {
                    after_properties(self.text, start, end)
                } else {
                    (start, false)
                };
                Ok(Node::Scalar(Scalar {
                    value: value.into_owned(),
                    style,
                    start,
                    end,
                    glued,
                    line: span.start.line(),
                    col: span.start.col(),
                }))
            }
            Event::Alias(_) => Ok(Node::Alias {
                end: self.offsets.byte(span.end.index()),
            }),
            Event::MappingStart(..) => {
                // A flow mapping's start span covers its `{`; a block mapping's is empty.
                let flow = span.end.index() > span.start.index();
                let mut entries = Vec::new();
                let mut seen: HashMap<String, usize> = HashMap::new();
                loop {
                    let (event, span) = self.expect()?;
                    if let Event::MappingEnd = event {
                        let end = self.offsets.byte(span.start.index());
                        return Ok(Node::Map(Map {
                            entries,
                            flow,
                            start,
                            end,
                        }));
                    }
                    let key = self.node(event, span, depth + 1)?;
                    let (event, span) = self.expect()?;
                    let value = self.node(event, span, depth + 1)?;
                    if let Some(name) = key.as_scalar().map(|k| k.value.as_str()) {
                        // Which of two equal keys counts differs between YAML readers; an
                        // edit of either one could be the one Config Sync ignores.
                        if let Some(first) = seen.insert(name.to_owned(), key_line(&key)) {
                            if name != "<<" {
                                return Err(BumpError::DuplicateKey {
                                    key: name.to_owned(),
                                    line: key_line(&key),
                                    first,
                                });
                            }
                        }
                    }
                    entries.push((key, value));
                }
            }
            Event::SequenceStart(..) => {
                let flow = span.end.index() > span.start.index();
                let mut items = Vec::new();
                loop {
                    let (event, span) = self.expect()?;
                    if let Event::SequenceEnd = event {
                        let end = if flow {
                            self.offsets.byte(span.end.index())
                        } else {
                            items.last().map_or(start, Node::end)
                        };
                        return Ok(Node::Seq { items, end });
                    }
                    items.push(self.node(event, span, depth + 1)?);
                }
            }
            _ => Err(self.unexpected(span)),
        }
    }
}

fn key_line(key: &Node) -> usize {
    key.as_scalar().map_or(0, |key| key.line)
}

/// Where a scalar's value starts when its span (bytes `start..end`) begins with properties:
/// `&anchor` and `!tag` in either order, separated by blanks, line breaks and comments. Also
/// whether the value is empty and touches the last property.
fn after_properties(text: &str, start: usize, end: usize) -> (usize, bool) {
    let bytes = text.as_bytes();
    let mut at = start;
    let mut property_end = start;
    loop {
        while at < end && matches!(bytes[at], b' ' | b'\t' | b'\r' | b'\n') {
            at += 1;
        }
        match bytes.get(at) {
            Some(b'#') if at < end => {
                while at < end && bytes[at] != b'\n' {
                    at += 1;
                }
            }
            Some(b'!') if bytes.get(at + 1) == Some(&b'<') => {
                // A verbatim tag, `!<tag:yaml.org,2002:str>`, may hold flow indicators.
                while at < end && bytes[at] != b'>' {
                    at += 1;
                }
                at = (at + 1).min(end);
                property_end = at;
            }
            Some(b'&' | b'!') if at < end => {
                while at < end
                    && !matches!(
                        bytes[at],
                        b' ' | b'\t' | b'\r' | b'\n' | b',' | b'[' | b']' | b'{' | b'}'
                    )
                {
                    at += 1;
                }
                property_end = at;
            }
            _ => break,
        }
    }
    let at = at.min(end);
    (at, at == end && at == property_end)
}
