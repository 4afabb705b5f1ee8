//! The translation against Go itself: `tests/fixtures/cel/re2-oracle.tsv` holds what Go's
//! `regexp` gives for 3,000 pairs of pattern and input (an error, or every match).

use super::*;
use serde_json::{Value, json};

/// What kbundle gives for a pattern on an input, in the oracle's notation.
fn ours(pattern: &str, input: &str) -> Value {
    match translate(pattern) {
        Err(e) => json!({"error": e.to_string()}),
        Ok(translated) => match regex::Regex::new(&translated) {
            Err(e) => json!({"refused by the regex crate": translated, "why": e.to_string()}),
            Ok(re) => json!(re.find_iter(input).map(|m| m.as_str()).collect::<Vec<_>>()),
        },
    }
}

#[test]
fn patterns_mean_what_they_mean_to_go() {
    let table = include_str!("../../../../tests/fixtures/cel/re2-oracle.tsv");
    let (rows, wrong) = compare(table);
    assert!(rows > 3000, "{rows} rows");
    assert!(
        wrong.is_empty(),
        "{} of {rows} differ:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}

/// The same against a table made elsewhere, e.g. from the `regex` fuzz target's corpus
/// (see tests/fixtures/cel/README.md): `KBUNDLE_RE2_ORACLE=FILE cargo test -- --ignored`.
#[test]
#[ignore = "needs a table made by Go: KBUNDLE_RE2_ORACLE"]
fn patterns_of_a_go_table_mean_what_they_mean_to_go() {
    let path = std::env::var("KBUNDLE_RE2_ORACLE").expect("KBUNDLE_RE2_ORACLE");
    let table = std::fs::read_to_string(&path).expect("the table");
    let (rows, wrong) = compare(&table);
    assert!(
        wrong.is_empty(),
        "{} of {rows} differ:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}

/// Rows compared, and the differences.
fn compare(table: &str) -> (usize, Vec<String>) {
    let mut wrong = Vec::new();
    let mut rows = 0;
    for line in table
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
    {
        rows += 1;
        let cols: Vec<Value> = line
            .split('\t')
            .map(|c| serde_json::from_str(c).unwrap())
            .collect();
        let (pattern, input) = (cols[0].as_str().unwrap(), cols[1].as_str().unwrap());
        let got = ours(pattern, input);
        if got != cols[2] {
            wrong.push(format!(
                "{pattern:?} on {input:?}: Go {}, kbundle {got}",
                cols[2]
            ));
        }
    }
    (rows, wrong)
}

#[test]
fn perl_classes_and_word_boundaries_are_ascii() {
    assert_eq!(translate(r"^\d+$").unwrap(), "^[0-9]+$");
    assert_eq!(translate(r"[\w.-]").unwrap(), r"[0-9A-Za-z_\x{2E}\x{2D}]");
    assert_eq!(translate(r"\bx").unwrap(), r"(?-u:\b)x");
    assert_eq!(translate(r"[^\S]").unwrap(), r"[^[^\t\n\x0C\r ]]");
}

#[test]
fn a_flag_change_waits_for_the_repetition_of_the_item_before_it() {
    assert_eq!(translate("a(?i)*b").unwrap(), "a*(?i)b");
}

#[test]
fn flags_said_twice_are_said_once() {
    assert_eq!(translate("(?mm)x").unwrap(), "(?m)x");
    assert_eq!(translate("(?i-i:x)").unwrap(), "(?-i:x)");
    assert_eq!(translate("(?is-ss:x)").unwrap(), "(?i-s:x)");
}

#[test]
fn flag_changes_in_a_row_all_wait() {
    assert_eq!(translate("B(?i)(?m)+x").unwrap(), "B+(?i)(?m)x");
    assert_eq!(translate("B(?i){x").unwrap(), r"B(?i)\{x");
}
