//! GitHub refuses a pull request body or an issue comment over 65,536 characters (422
//! "body is too long"). kbundle cuts its own at a line boundary and says what it cut.

/// GitHub's cap on a pull request body and on a comment, in characters.
pub const BODY_LIMIT: usize = 65_536;

/// `text` as it is when it fits, else its first lines and a last line counting what was cut
/// and pointing to `rest` (where the whole text can be read). Measured in bytes, which is
/// never less than the characters GitHub counts (code points or UTF-16 units), so the result
/// fits whichever GitHub means.
pub fn fit(text: &str, rest: &str) -> String {
    if text.len() <= BODY_LIMIT {
        return text.to_owned();
    }
    // Room for the note: its longest form, counts included, is well under 300 bytes.
    let mut room = BODY_LIMIT - 300 - rest.len().min(BODY_LIMIT / 2);
    while !text.is_char_boundary(room) {
        room -= 1;
    }
    // At a line end; inside one enormous line when there is none.
    let cut = text[..room].rfind('\n').map_or(room, |i| i + 1);
    let dropped = &text[cut..];
    let lines = dropped.lines().count();
    let chars = dropped.chars().count();
    let mut out = text[..cut].to_owned();
    if !out.ends_with('\n') {
        out.push('\n');
    }
    out.push_str(&format!(
        "\n… {lines} more line(s), {chars} character(s), cut to fit GitHub's {BODY_LIMIT}-character \
         limit; {rest}\n"
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_text_is_kept_whole() {
        assert_eq!(fit("a\nb\n", "see x"), "a\nb\n");
    }

    #[test]
    fn long_text_is_cut_at_a_line_and_the_cut_is_counted() {
        let line = "| Deployment app | `spec.image` | `é` |\n";
        let text = line.repeat(4000);
        let out = fit(&text, "see the job summary");
        assert!(out.len() <= BODY_LIMIT, "{}", out.len());
        let kept = out.matches(line).count();
        let note = out.lines().last().expect("note");
        assert!(
            note.contains(&format!("{} more line(s)", 4000 - kept)),
            "{note}"
        );
        assert!(note.contains("see the job summary"), "{note}");
        let chars = (4000 - kept) * line.chars().count();
        assert!(note.contains(&format!("{chars} character(s)")), "{note}");
    }

    #[test]
    fn one_huge_line_is_cut_on_a_character_boundary() {
        let text = "é".repeat(40_000);
        let out = fit(&text, "x");
        assert!(out.len() <= BODY_LIMIT);
        assert!(out.contains("0 more line(s)") || out.contains("1 more line(s)"));
    }
}
