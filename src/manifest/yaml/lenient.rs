//! Reading what go-yaml v3 (sigs.k8s.io/yaml, so kubectl, kustomize and Config Sync) reads,
//! where `saphyr-parser` follows the YAML 1.2 spec more strictly, and going on after a broken
//! document.
//!
//! go-yaml, like libyaml, does not check indentation inside flow collections or quoted
//! scalars, so a multi-line `[ ... ]` whose closing bracket sits at its key's column, or a
//! `"..."` continued at column 1, are accepted there and refused by saphyr. The parser has no
//! option for this; instead, when it stops with one of those errors, the lines concerned are
//! indented (inside a flow collection or a quoted scalar leading white space carries no
//! meaning) and the text is parsed again. The added spaces are taken off the columns reported
//! afterwards, so positions still point into the file as written.
//!
//! After any other error, the broken document is reported and reading resumes at the next
//! `---` line, so one bad document does not hide the others.

use std::borrow::Cow;
use std::collections::HashMap;

use super::{Failure, Pass, Pos, Stream, parse_pass};

/// Re-parses allowed per file for indentation repairs; each fixes one flow collection or one
/// quoted scalar, so this only bounds the cost of pathological files.
const MAX_REPAIRS: usize = 64;

/// What to indent so that saphyr reads what go-yaml reads.
#[derive(Debug, Clone, Copy)]
pub enum Repair {
    /// A flow collection continued on an under-indented line (1-based), `depth` collections
    /// deep, the outermost opened at 0-based column `open`.
    Flow {
        line: usize,
        open: usize,
        depth: usize,
    },
    /// A quoted scalar starting at a 1-based line and 0-based column whose continuation lines
    /// are under-indented.
    Quoted { line: usize, col: usize },
}

/// The repair for a scanner error, if it is one go-yaml would not have raised. `open_flow`
/// gives the open flow collections (depth, column), read only when needed.
pub fn repair_for(
    info: &str,
    line: usize,
    col: usize,
    open_flow: impl FnOnce() -> Option<(usize, usize)>,
) -> Option<Repair> {
    match info {
        "invalid indentation in quoted scalar" => Some(Repair::Quoted { line, col }),
        // In block context these are real errors (a mis-indented key); only inside an open
        // flow collection is indentation meaningless.
        "invalid indentation" | "invalid indentation in flow construct" => {
            open_flow().map(|(open, depth)| Repair::Flow { line, open, depth })
        }
        _ => None,
    }
}

pub fn parse(text: &str) -> Stream {
    let mut stream = Stream::default();
    // Repairs and spaces keep ASCII text ASCII.
    let ascii = text.is_ascii();
    // The text as repaired so far, and where in it the segment being parsed starts: after an
    // error the next pass starts at the next document, a slice, never a copy (a copy per
    // error made a file of many broken documents quadratic).
    let mut base: Cow<str> = Cow::Borrowed(text);
    let mut start = 0usize;
    // Lines of the file before the segment being parsed.
    let mut offset = 0usize;
    // Spaces added at the start of a line (1-based, in the file).
    let mut pads: HashMap<usize, usize> = HashMap::new();
    let mut repairs = 0;
    loop {
        let segment = &base[start..];
        let Pass { documents, failure } = parse_pass(segment, ascii);
        if let Some(Failure {
            repair: Some(repair),
            ..
        }) = &failure
        {
            if repairs < MAX_REPAIRS {
                if let Some(fixed) = apply(segment, *repair, offset, &mut pads) {
                    base = Cow::Owned(fixed);
                    start = 0;
                    repairs += 1;
                    continue;
                }
            }
        }
        let adjust = |pos: Pos| file_pos(pos, offset, &pads);
        for mut doc in documents {
            if offset > 0 || !pads.is_empty() {
                doc.positions.map(adjust);
                doc.start = adjust(doc.start);
                for p in &mut doc.problems {
                    p.pos = adjust(p.pos);
                }
            }
            stream.documents.push(doc);
        }
        let Some(Failure {
            mut problem,
            syntax,
            boundary,
            ..
        }) = failure
        else {
            break;
        };
        problem.pos = adjust(problem.pos);
        let document = stream.documents.len() + stream.errors.len() + 1;
        problem.message = if syntax {
            format!(
                "yaml syntax error in document {document}: {}",
                problem.message
            )
        } else {
            format!("{} (document {document})", problem.message)
        };
        stream.errors.push(problem);
        // Resume at the next document.
        let Some((byte, lines)) = next_document(segment, boundary) else {
            break;
        };
        start += byte;
        offset += lines;
    }
    stream
}

/// A position in the parsed segment as a position in the file.
fn file_pos(pos: Pos, offset: usize, pads: &HashMap<usize, usize>) -> Pos {
    let line = pos.line as usize + offset;
    let pad = pads.get(&line).copied().unwrap_or(0);
    let column = (pos.column as usize).saturating_sub(pad).max(1);
    Pos::new(line, column)
}

/// The byte offset and line count (lines before it) of the first `---` line after 1-based
/// line `after`.
fn next_document(text: &str, after: usize) -> Option<(usize, usize)> {
    let mut byte = 0;
    for (i, line) in text.split_inclusive('\n').enumerate() {
        let number = i + 1;
        if number > after {
            let rest = line.strip_prefix("---");
            if rest.is_some_and(|r| r.is_empty() || r.starts_with([' ', '\t', '\r', '\n'])) {
                return Some((byte, i));
            }
        }
        byte += line.len();
    }
    None
}

/// Indents the lines a repair names; `None` when there is nothing to indent (so the error
/// stands).
fn apply(
    text: &str,
    repair: Repair,
    offset: usize,
    pads: &mut HashMap<usize, usize>,
) -> Option<String> {
    // 1-based lines to bring to at least `column` leading blanks.
    let (first, last, column) = match repair {
        Repair::Quoted { line, col } => {
            let last = quoted_end(text, line, col)?;
            (line + 1, last, col + 1)
        }
        Repair::Flow { line, open, depth } => (line, flow_end(text, line, depth)?, open + 1),
    };
    let mut out = String::with_capacity(text.len() + 64);
    let mut changed = false;
    for (i, line) in text.split_inclusive('\n').enumerate() {
        let number = i + 1;
        if (first..=last).contains(&number) {
            let blanks = line.chars().take_while(|c| *c == ' ' || *c == '\t').count();
            if blanks < column {
                let add = column - blanks;
                out.extend(std::iter::repeat_n(' ', add));
                *pads.entry(number + offset).or_insert(0) += add;
                changed = true;
            }
        }
        out.push_str(line);
    }
    changed.then_some(out)
}

/// The 1-based line where the quoted scalar starting at (line, col) ends.
fn quoted_end(text: &str, line: usize, col: usize) -> Option<usize> {
    let mut lines = text.split_inclusive('\n').enumerate().skip(line - 1);
    let (_, first) = lines.next()?;
    let mut chars = first.chars().skip(col);
    let quote = chars.next().filter(|c| matches!(c, '"' | '\''))?;
    let mut rest: Vec<(usize, String)> = vec![(line, chars.collect())];
    rest.extend(lines.map(|(i, l)| (i + 1, l.to_owned())));
    for (number, text) in rest {
        let mut it = text.chars().peekable();
        while let Some(c) = it.next() {
            match c {
                '\\' if quote == '"' => {
                    it.next();
                }
                '\'' if quote == '\'' && it.peek() == Some(&'\'') => {
                    it.next();
                }
                c if c == quote => return Some(number),
                _ => {}
            }
        }
    }
    None
}

/// The 1-based line where the flow collections open at the start of `line` (`depth` deep)
/// close.
fn flow_end(text: &str, line: usize, depth: usize) -> Option<usize> {
    let mut depth = depth;
    for (i, text) in text.split_inclusive('\n').enumerate().skip(line - 1) {
        let mut it = text.chars().peekable();
        let mut previous = ' ';
        while let Some(c) = it.next() {
            match c {
                '#' if previous.is_whitespace() => break,
                '"' => {
                    while let Some(c) = it.next() {
                        match c {
                            '\\' => {
                                it.next();
                            }
                            '"' => break,
                            _ => {}
                        }
                    }
                }
                '\'' => {
                    while let Some(c) = it.next() {
                        if c == '\'' {
                            if it.peek() == Some(&'\'') {
                                it.next();
                            } else {
                                break;
                            }
                        }
                    }
                }
                '[' | '{' => depth += 1,
                ']' | '}' => {
                    depth = depth.saturating_sub(1);
                    if depth == 0 {
                        return Some(i + 1);
                    }
                }
                _ => {}
            }
            previous = c;
        }
    }
    None
}
