//! The size and nesting limits cel-go's parser puts on an expression, checked on the text
//! before the `cel` crate parses it.
//!
//! A rule comes from a CRD in the pull request, so it is hostile input. The `cel` crate's
//! parser counts only parenthesised nesting: a chain such as `self.x + self.x + …` or
//! `self.a.a.a…` builds a tree as deep as the chain is long, and parsing, evaluating and
//! dropping it recursed until the stack overflowed (20,000 links, 140 KB, aborted
//! `kbundle validate`). The API server refuses such rules when the CRD is created: cel-go's
//! parser stops at 100,000 code points and at 250 nested operators, selections, indexes,
//! member calls and conditionals (`&&` and `||` chains are balanced there, so they do not
//! nest). Here the nesting is bounded from the tokens: each operator of a chain adds one
//! level, each bracket one more; the bound is never below the parser's depth, so a rule it
//! lets through cannot run deeper than that.

/// cel-go's default `ExpressionSizeCodePointLimit`.
pub(super) const MAX_CODE_POINTS: usize = 100_000;

/// cel-go's default `MaxRecursionDepth`.
pub(super) const MAX_DEPTH: usize = 250;

/// Why a rule is refused before parsing, in cel-go's words; `None` when it is within both
/// limits.
pub(super) fn check(source: &str) -> Option<String> {
    let size = source.chars().count();
    if size > MAX_CODE_POINTS {
        return Some(format!(
            "expression code point size exceeds limit: size: {size}, limit {MAX_CODE_POINTS}"
        ));
    }
    (nesting(source) > MAX_DEPTH)
        .then(|| format!("expression recursion limit exceeded: {MAX_DEPTH}"))
}

/// One bracket being read: the links of the chain in the term being read (terms are
/// separated by commas, `&&` and `||`), the deepest bracket closed inside that term, the
/// deepest term read so far, and the `&&`/`||` terms of the element being read (elements
/// are separated by commas).
#[derive(Default)]
struct Group {
    links: usize,
    inner: usize,
    deepest: usize,
    terms: usize,
    logical: usize,
}

impl Group {
    fn end_term(&mut self) {
        self.deepest = self.deepest.max(self.links + self.inner);
        self.links = 0;
        self.inner = 0;
        self.terms += 1;
    }

    /// A comma: the `&&`/`||` tree of this element is balanced, as deep as the binary
    /// logarithm of its number of terms, rounded up.
    fn end_element(&mut self) {
        self.end_term();
        let balanced = usize::BITS - self.terms.saturating_sub(1).leading_zeros();
        self.logical = self.logical.max(balanced as usize);
        self.terms = 0;
    }

    fn depth(mut self) -> usize {
        self.end_element();
        self.deepest + self.logical + 1
    }
}

/// An upper bound of the expression's nesting. Unbalanced brackets are left to the parser.
fn nesting(source: &str) -> usize {
    let mut groups = vec![Group::default()];
    let chars: Vec<char> = source.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            '(' | '[' | '{' => {
                if c == '[' {
                    // An index is a link of the chain it continues.
                    if let Some(g) = groups.last_mut() {
                        g.links += 1;
                    }
                }
                groups.push(Group::default());
            }
            ')' | ']' | '}' if groups.len() > 1 => {
                let depth = groups.pop().map_or(0, Group::depth);
                if let Some(g) = groups.last_mut() {
                    g.inner = g.inner.max(depth);
                }
            }
            ',' => {
                if let Some(g) = groups.last_mut() {
                    g.end_element();
                }
            }
            '"' | '\'' => {
                i = skip_string(&chars, i);
                continue;
            }
            '/' if chars.get(i + 1) == Some(&'/') => {
                while i < chars.len() && chars[i] != '\n' {
                    i += 1;
                }
                continue;
            }
            '&' | '|' => {
                // `&&` and `||`: balanced by the parser, not links of the chain. Two
                // characters.
                if let Some(g) = groups.last_mut() {
                    g.end_term();
                }
                i += 2;
                continue;
            }
            '.' if chars.get(i + 1).is_some_and(char::is_ascii_digit)
                && i > 0
                && chars[i - 1].is_ascii_digit() =>
            {
                // The point of a number.
            }
            '.' | '+' | '-' | '*' | '/' | '%' | '<' | '>' | '=' | '!' | '?' => {
                if let Some(g) = groups.last_mut() {
                    g.links += 1;
                }
                // `==`, `!=`, `<=`, `>=`: one operator.
                if chars.get(i + 1) == Some(&'=') {
                    i += 1;
                }
            }
            c if c.is_alphabetic() || c == '_' => {
                let start = i;
                while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                    i += 1;
                }
                // A prefixed literal (r'…', b"…", rb'…') is a string.
                if i < chars.len()
                    && matches!(chars[i], '"' | '\'')
                    && i - start <= 2
                    && chars[start..i]
                        .iter()
                        .all(|p| matches!(p, 'r' | 'R' | 'b' | 'B'))
                {
                    let raw = chars[start..i].iter().any(|p| matches!(p, 'r' | 'R'));
                    i = if raw {
                        skip_raw_string(&chars, i)
                    } else {
                        skip_string(&chars, i)
                    };
                } else if chars[start..i] == ['i', 'n'] {
                    if let Some(g) = groups.last_mut() {
                        g.links += 1;
                    }
                }
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    // Brackets left open count as closed at the end.
    while groups.len() > 1 {
        let depth = groups.pop().map_or(0, Group::depth);
        if let Some(g) = groups.last_mut() {
            g.inner = g.inner.max(depth);
        }
    }
    groups.pop().map_or(0, Group::depth)
}

/// The index past the quoted string starting at `start` (single or triple quotes, with
/// backslash escapes).
fn skip_string(chars: &[char], start: usize) -> usize {
    let quote = chars[start];
    let triple = chars.get(start + 1) == Some(&quote) && chars.get(start + 2) == Some(&quote);
    let mut i = start + if triple { 3 } else { 1 };
    while i < chars.len() {
        match chars[i] {
            '\\' => i += 2,
            c if c == quote => {
                if !triple {
                    return i + 1;
                }
                if chars.get(i + 1) == Some(&quote) && chars.get(i + 2) == Some(&quote) {
                    return i + 3;
                }
                i += 1;
            }
            _ => i += 1,
        }
    }
    chars.len()
}

/// As [`skip_string`], for a raw string: a backslash escapes nothing.
fn skip_raw_string(chars: &[char], start: usize) -> usize {
    let quote = chars[start];
    let triple = chars.get(start + 1) == Some(&quote) && chars.get(start + 2) == Some(&quote);
    let close = if triple { 3 } else { 1 };
    let mut i = start + close;
    while i < chars.len() {
        if chars[i..].iter().take(close).all(|c| *c == quote) && i + close <= chars.len() {
            return i + close;
        }
        i += 1;
    }
    chars.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chains_count_one_level_a_link() {
        assert_eq!(nesting("self"), 1);
        assert_eq!(nesting("self.a.b"), 3);
        assert_eq!(nesting("self.x + self.y == 1"), 5);
        assert_eq!(nesting("a[0][1]"), 4);
        // Commas separate elements; the deepest counts.
        assert_eq!(nesting("f(a.b.c, d)"), 4);
        // A list literal's bracket counts as an index would: an upper bound.
        assert_eq!(nesting("[1, 2, [3, 4.5]]"), 5);
        // `&&` and `||` chains are balanced trees.
        assert_eq!(nesting("a && b || c && d"), 3);
        assert_eq!(nesting("a.b && c"), 3);
        // Nothing in strings or comments counts.
        assert_eq!(nesting("'a.b.c' + \"((\" + r'\\' + '''x.y'''"), 4);
        assert_eq!(nesting("a // .b.c.d\n"), 1);
        assert_eq!(nesting("x in y"), 2);
    }

    #[test]
    fn a_long_chain_is_refused_as_cel_go_refuses_it() {
        let plus = vec!["self.x"; 300].join(" + ");
        assert_eq!(
            check(&plus).as_deref(),
            Some("expression recursion limit exceeded: 250")
        );
        let member = format!("self{}", ".a".repeat(300));
        assert!(check(&member).is_some());
        let index = format!("self{}", "['a']".repeat(300));
        assert!(check(&index).is_some());
        // Long rules of real shape pass: many conditions joined by && are balanced.
        let wide = vec!["self.a.b.c == 'x'"; 2_000].join(" && ");
        assert_eq!(check(&wide), None);
        assert_eq!(
            check("self.replicas <= 10 && self.name.startsWith('a')"),
            None
        );
    }

    #[test]
    fn a_rule_past_the_size_limit_is_refused() {
        let big = format!("'{}' == self", "a".repeat(MAX_CODE_POINTS));
        assert_eq!(
            check(&big).as_deref(),
            Some("expression code point size exceeds limit: size: 100010, limit 100000")
        );
    }
}
