//! Go's regular expression syntax, as the API server's `regexp.Compile` reads a CRD rule's
//! pattern, rewritten for the `regex` crate.
//!
//! The two dialects agree on most patterns, but not everywhere it decides whether an object
//! passes. Go's `\d`, `\w`, `\s` and `\b` are ASCII, the crate's are Unicode, so `^\d+$`
//! accepted `٣` here and the API server refused it. `[[a]]`, `[a&&b]` and `[a--b]` are plain
//! characters in Go and nested classes or set operations in the crate. `x{,3}` is literal text
//! in Go and an error in the crate; `\Q…\E` and `\123` are the other way round. And Go
//! refuses what the crate takes: `a**`, `\p{Alphabetic}`, counts past 1,000 (also nested:
//! `(a{100}){11}`), `(?x)`. So a pattern is read item by item as Go's parser
//! (`regexp/syntax/parse.go`, Go 1.26) reads it, refused with Go's message where Go refuses
//! it, and otherwise written out with each item spelled so that the crate reads it the same
//! way: literals escaped, classes of explicit ranges, Perl classes as ASCII ranges.
//!
//! Left to the crate: its Unicode tables (version 16, Go's are 15.0), and its own limits on
//! nesting (250) and compiled size, which are below Go's. A pattern past them is one kbundle
//! cannot evaluate, not one the API server refuses.

use std::fmt;
use std::fmt::Write;

/// A pattern Go refuses, with Go's words (`regexp/syntax.Error`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
    code: &'static str,
    expr: String,
}

impl fmt::Display for SyntaxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "error parsing regexp: {}: `{}`", self.code, self.expr)
    }
}

fn error(code: &'static str, expr: &str) -> SyntaxError {
    SyntaxError {
        code,
        expr: expr.to_owned(),
    }
}

const INVALID_CHAR_CLASS_RANGE: &str = "invalid character class range";
const INVALID_ESCAPE: &str = "invalid escape sequence";
const INVALID_NAMED_CAPTURE: &str = "invalid named capture";
const INVALID_PERL_OP: &str = "invalid or unsupported Perl syntax";
const INVALID_REPEAT_OP: &str = "invalid nested repetition operator";
const INVALID_REPEAT_SIZE: &str = "invalid repeat count";
const MISSING_BRACKET: &str = "missing closing ]";
const MISSING_PAREN: &str = "missing closing )";
const MISSING_REPEAT_ARGUMENT: &str = "missing argument to repetition operator";
const TRAILING_BACKSLASH: &str = "trailing backslash at end of expression";
const UNEXPECTED_PAREN: &str = "unexpected )";
const NESTS_TOO_DEEPLY: &str = "expression nests too deeply";

/// Go's largest repeat count, also for the product of nested counts (`repeatIsValid`).
const MAX_REPEAT: u32 = 1000;
/// Go's `maxHeight`, applied here to groups.
const MAX_GROUPS: usize = 1000;

/// Go's `\d`, `\s` and `\w`, as ranges for inside a class.
const DIGIT: &str = "0-9";
const SPACE: &str = r"\t\n\x0C\r ";
const WORD: &str = "0-9A-Za-z_";

/// Go's POSIX classes; the crate has the same ones, with the same (ASCII) members.
const POSIX: &[&str] = &[
    "alnum", "alpha", "ascii", "blank", "cntrl", "digit", "graph", "lower", "print", "punct",
    "space", "upper", "word", "xdigit",
];

/// `pattern` in the crate's syntax, or the error Go gives for it.
pub fn translate(pattern: &str) -> Result<String, SyntaxError> {
    Translator {
        whole: pattern,
        out: String::with_capacity(pattern.len() + 16),
        groups: vec![Group::default()],
        pending_flags: String::new(),
    }
    .run()
}

/// What a repetition would apply to, in one group: Go's parse stack, reduced to the weights
/// `repeatIsValid` multiplies.
#[derive(Default)]
struct Group {
    /// The largest product of counts over the items before `last`.
    before: u32,
    /// The item a repetition applies to: its product of counts. None at the start of the
    /// group or after `|`, where Go has no argument for a repetition.
    last: Option<u32>,
}

impl Group {
    fn item(&mut self, weight: u32) {
        self.settle();
        self.last = Some(weight);
    }

    fn settle(&mut self) {
        self.before = self.before.max(self.last.take().unwrap_or(0));
    }
}

struct Translator<'p> {
    whole: &'p str,
    out: String,
    groups: Vec<Group>,
    /// A flag change `(?i)` written after the repetition that follows it: in Go `a(?i)*`
    /// repeats `a`, and the crate refuses a repetition after a flag group.
    pending_flags: String,
}

impl<'p> Translator<'p> {
    fn run(mut self) -> Result<String, SyntaxError> {
        let mut t = self.whole;
        // The text from the previous repetition operator on, when the item just read was
        // one: Go refuses a repetition of a repetition.
        let mut last_repeat: Option<&str> = None;
        while let Some(c) = t.chars().next() {
            let mut repeat = None;
            // A repetition, a literal `{` and a group decide themselves.
            if !matches!(c, '*' | '+' | '?' | '{' | '(') {
                self.flush_flags();
            }
            match c {
                '(' if t.starts_with("(?") => t = self.perl_group(t)?,
                '(' => {
                    self.depth_check()?;
                    self.flush_flags();
                    self.open();
                    t = &t[1..];
                }
                '|' => {
                    self.top().settle();
                    self.out.push('|');
                    t = &t[1..];
                }
                ')' => {
                    if self.groups.len() < 2 {
                        return Err(error(UNEXPECTED_PAREN, self.whole));
                    }
                    let mut group = self.groups.pop().unwrap_or_default();
                    group.settle();
                    self.out.push(')');
                    self.top().item(group.before.max(1));
                    t = &t[1..];
                }
                '^' | '$' | '.' => {
                    self.out.push(c);
                    self.top().item(1);
                    t = &t[1..];
                }
                '[' => {
                    t = self.class(t)?;
                    self.top().item(1);
                }
                '*' | '+' | '?' => {
                    let after = non_greedy(&t[1..]);
                    self.check_repeat(t, after, last_repeat)?;
                    self.out.push_str(&t[..t.len() - after.len()]);
                    repeat = Some(t);
                    t = after;
                }
                '{' => match parse_repeat(t) {
                    None => {
                        self.flush_flags();
                        self.out.push_str(r"\{");
                        self.top().item(1);
                        t = &t[1..];
                    }
                    Some((min, max, rest)) => {
                        let count = &t[..t.len() - rest.len()];
                        let valid = |n: i64| (0..=i64::from(MAX_REPEAT)).contains(&n);
                        if !valid(min) || max > i64::from(MAX_REPEAT) || (max >= 0 && min > max) {
                            return Err(error(INVALID_REPEAT_SIZE, count));
                        }
                        let after = non_greedy(rest);
                        self.check_repeat(t, after, last_repeat)?;
                        self.repeat_count(min, max, &t[..t.len() - after.len()])?;
                        self.out.push_str(&t[..t.len() - after.len()]);
                        repeat = Some(t);
                        t = after;
                    }
                },
                '\\' => t = self.escape(t)?,
                _ => {
                    self.literal(c);
                    t = &t[c.len_utf8()..];
                }
            }
            last_repeat = repeat;
        }
        self.flush_flags();
        if self.groups.len() > 1 {
            return Err(error(MISSING_PAREN, self.whole));
        }
        Ok(self.out)
    }

    fn top(&mut self) -> &mut Group {
        if self.groups.is_empty() {
            self.groups.push(Group::default());
        }
        let last = self.groups.len() - 1;
        &mut self.groups[last]
    }

    fn flush_flags(&mut self) {
        if !self.pending_flags.is_empty() {
            self.out.push_str(&self.pending_flags);
            self.pending_flags.clear();
        }
    }

    fn open(&mut self) {
        self.out.push('(');
        self.groups.push(Group::default());
    }

    /// Go's checks before a repetition: not of a repetition, and of something.
    fn check_repeat(
        &mut self,
        before: &str,
        after: &str,
        last_repeat: Option<&str>,
    ) -> Result<(), SyntaxError> {
        if let Some(last) = last_repeat {
            return Err(error(INVALID_REPEAT_OP, &last[..last.len() - after.len()]));
        }
        if self.top().last.is_none() {
            return Err(error(
                MISSING_REPEAT_ARGUMENT,
                &before[..before.len() - after.len()],
            ));
        }
        Ok(())
    }

    /// Go's `repeatIsValid`: the counts nested in an item multiply, and their product is at
    /// most 1,000 (`x{0}` drops what it repeats).
    fn repeat_count(&mut self, min: i64, max: i64, text: &str) -> Result<(), SyntaxError> {
        let group = self.top();
        let inner = group.last.unwrap_or(1);
        let weight = match max {
            0 => 1,
            -1 if min == 0 => inner,
            -1 => inner.saturating_mul(min as u32),
            m => inner.saturating_mul(m as u32),
        };
        if (min >= 2 || max >= 2) && weight > MAX_REPEAT {
            return Err(error(INVALID_REPEAT_SIZE, text));
        }
        group.last = Some(weight);
        Ok(())
    }

    /// `(?flags)`, `(?flags:`, `(?P<name>` and `(?<name>` (Go's `parsePerlFlags`).
    fn perl_group(&mut self, s: &'p str) -> Result<&'p str, SyntaxError> {
        let named = if s.starts_with("(?P<") && s.len() > 4 {
            Some(4)
        } else if s.starts_with("(?<") && s.len() > 3 {
            Some(3)
        } else {
            None
        };
        if let Some(start) = named {
            let Some(end) = s.find('>') else {
                return Err(error(INVALID_NAMED_CAPTURE, s));
            };
            let name = &s[start..end];
            if name.is_empty() || !name.chars().all(|c| c == '_' || c.is_ascii_alphanumeric()) {
                return Err(error(INVALID_NAMED_CAPTURE, &s[..=end]));
            }
            // Names do not change what matches, and Go's (`1`) are not all the crate's.
            self.depth_check()?;
            self.flush_flags();
            self.open();
            return Ok(&s[end + 1..]);
        }
        let mut t = &s[2..];
        let (mut on, mut off) = (String::new(), String::new());
        let mut negated = false;
        let mut saw_flag = false;
        while let Some(c) = t.chars().next() {
            t = &t[c.len_utf8()..];
            match c {
                'i' | 'm' | 's' | 'U' => {
                    // Go takes `(?ii)` and `(?i-i)` (the last word wins); the crate does not.
                    if negated {
                        on.retain(|f| f != c);
                        if !off.contains(c) {
                            off.push(c);
                        }
                    } else if !on.contains(c) {
                        on.push(c);
                    }
                    saw_flag = true;
                }
                '-' if !negated => {
                    negated = true;
                    saw_flag = false;
                }
                ':' | ')' if !negated || saw_flag => {
                    let flags = if off.is_empty() {
                        on
                    } else {
                        format!("{on}-{off}")
                    };
                    if c == ':' {
                        self.depth_check()?;
                        self.flush_flags();
                        self.out.push_str("(?");
                        self.out.push_str(&flags);
                        self.out.push(':');
                        self.groups.push(Group::default());
                    } else if !flags.is_empty() {
                        let _ = write!(self.pending_flags, "(?{flags})");
                    }
                    return Ok(t);
                }
                _ => break,
            }
        }
        Err(error(INVALID_PERL_OP, &s[..s.len() - t.len()]))
    }

    fn depth_check(&self) -> Result<(), SyntaxError> {
        if self.groups.len() > MAX_GROUPS {
            return Err(error(NESTS_TOO_DEEPLY, self.whole));
        }
        Ok(())
    }

    /// A backslash outside a class.
    fn escape(&mut self, t: &'p str) -> Result<&'p str, SyntaxError> {
        let assertion = match t.as_bytes().get(1) {
            Some(b'A') => Some(r"\A"),
            Some(b'z') => Some(r"\z"),
            // Go's word boundaries are ASCII.
            Some(b'b') => Some(r"(?-u:\b)"),
            Some(b'B') => Some(r"(?-u:\B)"),
            Some(b'C') => return Err(error(INVALID_ESCAPE, &t[..2])),
            Some(b'Q') => {
                let (literal, rest) = t[2..].split_once(r"\E").unwrap_or((&t[2..], ""));
                for c in literal.chars() {
                    self.literal(c);
                }
                return Ok(rest);
            }
            _ => None,
        };
        if let Some(assertion) = assertion {
            self.out.push_str(assertion);
            self.top().item(1);
            return Ok(&t[2..]);
        }
        if let Some(rest) = self.unicode_class(t)? {
            self.top().item(1);
            return Ok(rest);
        }
        if let Some((negated, members)) = perl_class(t) {
            let _ = write!(self.out, "[{}{members}]", if negated { "^" } else { "" });
            self.top().item(1);
            return Ok(&t[2..]);
        }
        let (c, rest) = parse_escape(t)?;
        match char::from_u32(c) {
            Some(c) => self.literal(c),
            // A surrogate (`\x{D800}`): Go takes it, and no valid string holds it.
            None => {
                self.out.push_str(NOTHING);
                self.top().item(1);
            }
        }
        Ok(rest)
    }

    fn literal(&mut self, c: char) {
        push_char(&mut self.out, c);
        self.top().item(1);
    }

    /// `\pN`, `\p{Name}`, `\PN`, `\P{^Name}` at the start of `s`, written out; None when `s`
    /// does not start with one. The same spelling serves inside a class.
    fn unicode_class(&mut self, s: &'p str) -> Result<Option<&'p str>, SyntaxError> {
        let mut negated = match s.as_bytes() {
            [b'\\', b'p', ..] => false,
            [b'\\', b'P', ..] => true,
            _ => return Ok(None),
        };
        let t = &s[2..];
        let (seq, name, rest) = match t.chars().next() {
            None => return Err(error(INVALID_CHAR_CLASS_RANGE, s)),
            Some('{') => {
                let Some(end) = s.find('}') else {
                    return Err(error(INVALID_CHAR_CLASS_RANGE, s));
                };
                (&s[..=end], &s[3..end], &s[end + 1..])
            }
            Some(c) => {
                let seq = &s[..2 + c.len_utf8()];
                (seq, &seq[2..], &s[seq.len()..])
            }
        };
        let name = match name.strip_prefix('^') {
            Some(n) => {
                negated = !negated;
                n
            }
            None => name,
        };
        let Some(class) = unicode_table(name) else {
            return Err(error(INVALID_CHAR_CLASS_RANGE, seq));
        };
        let (class, inverted) = match class {
            Table::Assigned => ("gc=Cn".to_owned(), true),
            // Surrogates are never in a valid string; the crate has no class of them.
            Table::Surrogates => ("Any".to_owned(), true),
            Table::Named(c) => (c, false),
        };
        let p = if negated != inverted { 'P' } else { 'p' };
        let _ = write!(self.out, r"\{p}{{{class}}}");
        Ok(Some(rest))
    }

    /// A bracketed class at the start of `s` (Go's `parseClass`), written as a class of
    /// explicit ranges; the rest of the pattern.
    fn class(&mut self, s: &'p str) -> Result<&'p str, SyntaxError> {
        let mut t = &s[1..];
        self.out.push('[');
        if let Some(rest) = t.strip_prefix('^') {
            self.out.push('^');
            t = rest;
        }
        let mut first = true;
        loop {
            match t.chars().next() {
                None => return Err(error(MISSING_BRACKET, s)),
                Some(']') if !first => break,
                _ => {}
            }
            first = false;
            if t.starts_with("[:") {
                if let Some(i) = t[2..].find(":]") {
                    let name = &t[..i + 4];
                    let inner = &t[2..i + 2];
                    if !POSIX.contains(&inner.strip_prefix('^').unwrap_or(inner)) {
                        return Err(error(INVALID_CHAR_CLASS_RANGE, name));
                    }
                    self.out.push_str(name);
                    t = &t[name.len()..];
                    continue;
                }
            }
            if let Some(rest) = self.unicode_class(t)? {
                t = rest;
                continue;
            }
            if let Some((negated, members)) = perl_class(t) {
                if negated {
                    let _ = write!(self.out, "[^{members}]");
                } else {
                    self.out.push_str(members);
                }
                t = &t[2..];
                continue;
            }
            let range = t;
            let (lo, rest) = class_char(t, s)?;
            t = rest;
            let mut hi = lo;
            // `[a-]` is `a` and `-`.
            if t.len() >= 2 && t.starts_with('-') && !t[1..].starts_with(']') {
                let (h, rest) = class_char(&t[1..], s)?;
                t = rest;
                hi = h;
                if hi < lo {
                    return Err(error(
                        INVALID_CHAR_CLASS_RANGE,
                        &range[..range.len() - t.len()],
                    ));
                }
            }
            push_range(&mut self.out, lo, hi);
        }
        self.out.push(']');
        Ok(&t[1..])
    }
}

/// Skips the `?` that makes a repetition lazy.
fn non_greedy(after: &str) -> &str {
    after.strip_prefix('?').unwrap_or(after)
}

/// A class that matches nothing.
const NOTHING: &str = r"[^\x{0}-\x{10FFFF}]";

/// The code points `lo..=hi` as members of a class, without surrogates, which the crate
/// cannot name and no valid string holds.
fn push_range(out: &mut String, lo: u32, hi: u32) {
    const SURROGATES: std::ops::RangeInclusive<u32> = 0xD800..=0xDFFF;
    let mut parts = Vec::with_capacity(2);
    if lo < *SURROGATES.start() {
        parts.push((lo, hi.min(SURROGATES.start() - 1)));
    }
    if hi > *SURROGATES.end() {
        parts.push((lo.max(SURROGATES.end() + 1), hi));
    }
    if parts.is_empty() {
        out.push_str(NOTHING);
    }
    for (lo, hi) in parts {
        let _ = write!(out, r"\x{{{lo:X}}}");
        if hi != lo {
            let _ = write!(out, r"-\x{{{hi:X}}}");
        }
    }
}

/// `c` as a literal for the crate.
fn push_char(out: &mut String, c: char) {
    // `\<` and `\>` are word boundaries to the crate; `<` and `>` are not special.
    if c.is_ascii_punctuation() && c != '<' && c != '>' {
        out.push('\\');
        out.push(c);
    } else if c.is_control() || c.is_whitespace() {
        let _ = write!(out, r"\x{{{:X}}}", c as u32);
    } else {
        out.push(c);
    }
}

/// `\d`, `\D`, `\s`, `\S`, `\w`, `\W` at the start of `s`: negated, and Go's ASCII members.
fn perl_class(s: &str) -> Option<(bool, &'static str)> {
    let class = match s.as_bytes() {
        [b'\\', c, ..] => *c,
        _ => return None,
    };
    let members = match class.to_ascii_lowercase() {
        b'd' => DIGIT,
        b's' => SPACE,
        b'w' => WORD,
        _ => return None,
    };
    Some((class.is_ascii_uppercase(), members))
}

/// A character inside a class: itself, or an escape.
fn class_char<'s>(s: &'s str, whole_class: &str) -> Result<(u32, &'s str), SyntaxError> {
    match s.chars().next() {
        None => Err(error(MISSING_BRACKET, whole_class)),
        Some('\\') => parse_escape(s),
        Some(c) => Ok((c as u32, &s[c.len_utf8()..])),
    }
}

/// A single-character escape at the start of `s` (Go's `parseEscape`).
fn parse_escape(s: &str) -> Result<(u32, &str), SyntaxError> {
    let t = &s[1..];
    let Some(c) = t.chars().next() else {
        return Err(error(TRAILING_BACKSLASH, ""));
    };
    let mut t = &t[c.len_utf8()..];
    let invalid = |t: &str| error(INVALID_ESCAPE, &s[..s.len() - t.len()]);
    let octal = |t: &str| {
        t.as_bytes()
            .first()
            .is_some_and(|b| (b'0'..=b'7').contains(b))
    };
    let simple = match c {
        'a' => '\u{7}',
        'f' => '\u{c}',
        'n' => '\n',
        'r' => '\r',
        't' => '\t',
        'v' => '\u{b}',
        // A lone `\1`…`\7` is a backreference, which Go does not have.
        '1'..='7' if !octal(t) => return Err(invalid(t)),
        '0'..='7' => {
            let mut r = c as u32 - '0' as u32;
            for _ in 1..3 {
                if !octal(t) {
                    break;
                }
                r = r * 8 + u32::from(t.as_bytes()[0] - b'0');
                t = &t[1..];
            }
            return Ok((r, t));
        }
        'x' => return hex_escape(s, t),
        c if c.is_ascii() && !c.is_ascii_alphanumeric() => c,
        _ => return Err(invalid(t)),
    };
    Ok((simple as u32, t))
}

/// `\xHH` or `\x{H…}`; `t` follows the `x`.
fn hex_escape<'s>(s: &'s str, t: &'s str) -> Result<(u32, &'s str), SyntaxError> {
    let invalid = |t: &str| error(INVALID_ESCAPE, &s[..s.len() - t.len()]);
    if let Some(mut rest) = t.strip_prefix('{') {
        let mut r: u32 = 0;
        let mut digits = 0;
        loop {
            let Some(c) = rest.chars().next() else {
                return Err(invalid(rest));
            };
            rest = &rest[c.len_utf8()..];
            if c == '}' {
                break;
            }
            let Some(v) = c.to_digit(16) else {
                return Err(invalid(rest));
            };
            r = r * 16 + v;
            if r > char::MAX as u32 {
                return Err(invalid(rest));
            }
            digits += 1;
        }
        return if digits == 0 {
            Err(invalid(rest))
        } else {
            Ok((r, rest))
        };
    }
    let mut chars = t.chars();
    let (Some(a), Some(b)) = (chars.next(), chars.next()) else {
        return Err(invalid(""));
    };
    let rest = chars.as_str();
    match (a.to_digit(16), b.to_digit(16)) {
        (Some(x), Some(y)) => Ok((x * 16 + y, rest)),
        _ => Err(invalid(rest)),
    }
}

/// `{min}`, `{min,}` or `{min,max}` at the start of `s` (max -1 for none), with Go's rule that
/// anything else is a literal `{`. A count past 10^8 makes min -1, which the caller refuses.
fn parse_repeat(s: &str) -> Option<(i64, i64, &str)> {
    let s = s.strip_prefix('{')?;
    let (mut min, s) = parse_int(s)?;
    let (max, s) = match s.strip_prefix(',') {
        None => (min, s),
        Some(rest) if rest.starts_with('}') => (-1, rest),
        Some(rest) => {
            let (max, rest) = parse_int(rest)?;
            if max < 0 {
                min = -1;
            }
            (max, rest)
        }
    };
    Some((min, max, s.strip_prefix('}')?))
}

/// Go's `parseInt`: digits without a leading zero; -1 when too big.
fn parse_int(s: &str) -> Option<(i64, &str)> {
    let digits = s.bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 || (digits >= 2 && s.starts_with('0')) {
        return None;
    }
    let value = s[..digits]
        .parse::<i64>()
        .ok()
        .filter(|n| *n < 100_000_000)
        .unwrap_or(-1);
    Some((value, &s[digits..]))
}

enum Table {
    Named(String),
    Assigned,
    Surrogates,
}

/// The class Go's `unicodeTable` finds for `name`, in the crate's spelling.
fn unicode_table(name: &str) -> Option<Table> {
    let name = canonical_name(name);
    match name.as_str() {
        "Any" => return Some(Table::Named("Any".to_owned())),
        "Assigned" => return Some(Table::Assigned),
        "Ascii" => return Some(Table::Named("ASCII".to_owned())),
        "Lc" => return Some(Table::Named("gc=LC".to_owned())),
        "Cs" => return Some(Table::Surrogates),
        _ => {}
    }
    if CATEGORIES.contains(&name.as_str()) {
        return Some(Table::Named(format!("gc={name}")));
    }
    if SCRIPTS.contains(&name.as_str()) {
        return Some(Table::Named(format!("sc={name}")));
    }
    CATEGORY_ALIASES
        .iter()
        .find(|(alias, _)| canonical_name(alias) == name)
        .map(|(_, actual)| match *actual {
            "Cs" => Table::Surrogates,
            a => Table::Named(format!("gc={a}")),
        })
}

/// Go's `canonicalName`: a capital, then lower case, without `_`, `-` and spaces.
fn canonical_name(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for c in name.chars().filter(|c| !matches!(c, '_' | '-' | ' ')) {
        if out.is_empty() {
            out.push(c.to_ascii_uppercase());
        } else {
            out.push(c.to_ascii_lowercase());
        }
    }
    out
}

/// Go 1.26's `unicode.Categories` (Unicode 15.0), without `LC` and `Cs` (handled above).
const CATEGORIES: &[&str] = &[
    "C", "Cc", "Cf", "Cn", "Co", "L", "Ll", "Lm", "Lo", "Lt", "Lu", "M", "Mc", "Me", "Mn", "N",
    "Nd", "Nl", "No", "P", "Pc", "Pd", "Pe", "Pf", "Pi", "Po", "Ps", "S", "Sc", "Sk", "Sm", "So",
    "Z", "Zl", "Zp", "Zs",
];

/// Go 1.26's `unicode.Scripts` whose names survive `canonicalName` (Go looks the canonical
/// name up, so `Old_Italic` and the other names with an underscore are not found).
const SCRIPTS: &[&str] = &[
    "Adlam",
    "Ahom",
    "Arabic",
    "Armenian",
    "Avestan",
    "Balinese",
    "Bamum",
    "Batak",
    "Bengali",
    "Bhaiksuki",
    "Bopomofo",
    "Brahmi",
    "Braille",
    "Buginese",
    "Buhid",
    "Carian",
    "Chakma",
    "Cham",
    "Cherokee",
    "Chorasmian",
    "Common",
    "Coptic",
    "Cuneiform",
    "Cypriot",
    "Cyrillic",
    "Deseret",
    "Devanagari",
    "Dogra",
    "Duployan",
    "Elbasan",
    "Elymaic",
    "Ethiopic",
    "Georgian",
    "Glagolitic",
    "Gothic",
    "Grantha",
    "Greek",
    "Gujarati",
    "Gurmukhi",
    "Han",
    "Hangul",
    "Hanunoo",
    "Hatran",
    "Hebrew",
    "Hiragana",
    "Inherited",
    "Javanese",
    "Kaithi",
    "Kannada",
    "Katakana",
    "Kawi",
    "Kharoshthi",
    "Khmer",
    "Khojki",
    "Khudawadi",
    "Lao",
    "Latin",
    "Lepcha",
    "Limbu",
    "Lisu",
    "Lycian",
    "Lydian",
    "Mahajani",
    "Makasar",
    "Malayalam",
    "Mandaic",
    "Manichaean",
    "Marchen",
    "Medefaidrin",
    "Miao",
    "Modi",
    "Mongolian",
    "Mro",
    "Multani",
    "Myanmar",
    "Nabataean",
    "Nandinagari",
    "Newa",
    "Nko",
    "Nushu",
    "Ogham",
    "Oriya",
    "Osage",
    "Osmanya",
    "Palmyrene",
    "Phoenician",
    "Rejang",
    "Runic",
    "Samaritan",
    "Saurashtra",
    "Sharada",
    "Shavian",
    "Siddham",
    "Sinhala",
    "Sogdian",
    "Soyombo",
    "Sundanese",
    "Syriac",
    "Tagalog",
    "Tagbanwa",
    "Takri",
    "Tamil",
    "Tangsa",
    "Tangut",
    "Telugu",
    "Thaana",
    "Thai",
    "Tibetan",
    "Tifinagh",
    "Tirhuta",
    "Toto",
    "Ugaritic",
    "Vai",
    "Vithkuqi",
    "Wancho",
    "Yezidi",
    "Yi",
];

/// Go 1.26's `unicode.CategoryAliases`.
const CATEGORY_ALIASES: &[(&str, &str)] = &[
    ("Cased_Letter", "LC"),
    ("Close_Punctuation", "Pe"),
    ("Combining_Mark", "M"),
    ("Connector_Punctuation", "Pc"),
    ("Control", "Cc"),
    ("Currency_Symbol", "Sc"),
    ("Dash_Punctuation", "Pd"),
    ("Decimal_Number", "Nd"),
    ("Enclosing_Mark", "Me"),
    ("Final_Punctuation", "Pf"),
    ("Format", "Cf"),
    ("Initial_Punctuation", "Pi"),
    ("Letter", "L"),
    ("Letter_Number", "Nl"),
    ("Line_Separator", "Zl"),
    ("Lowercase_Letter", "Ll"),
    ("Mark", "M"),
    ("Math_Symbol", "Sm"),
    ("Modifier_Letter", "Lm"),
    ("Modifier_Symbol", "Sk"),
    ("Nonspacing_Mark", "Mn"),
    ("Number", "N"),
    ("Open_Punctuation", "Ps"),
    ("Other", "C"),
    ("Other_Letter", "Lo"),
    ("Other_Number", "No"),
    ("Other_Punctuation", "Po"),
    ("Other_Symbol", "So"),
    ("Paragraph_Separator", "Zp"),
    ("Private_Use", "Co"),
    ("Punctuation", "P"),
    ("Separator", "Z"),
    ("Space_Separator", "Zs"),
    ("Spacing_Mark", "Mc"),
    ("Surrogate", "Cs"),
    ("Symbol", "S"),
    ("Titlecase_Letter", "Lt"),
    ("Unassigned", "Cn"),
    ("Uppercase_Letter", "Lu"),
    ("cntrl", "Cc"),
    ("digit", "Nd"),
    ("punct", "P"),
];

#[cfg(test)]
mod tests;
