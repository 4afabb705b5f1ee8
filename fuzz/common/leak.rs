//! Whether an error message quotes a secret, told apart from a secret that only happens to
//! match the message's own words: the input is read again with each secret scrambled (same
//! length, letters and digits rotated), and a message that quoted the secret quotes the
//! scrambled one the second time.

/// Secrets with fewer letters and digits than this are not checked (too easily a word).
const MIN_ALNUM: usize = 6;

pub fn scramble(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            'a'..='z' => (((c as u8 - b'a' + 13) % 26) + b'a') as char,
            'A'..='Z' => (((c as u8 - b'A' + 13) % 26) + b'A') as char,
            '0'..='9' => (((c as u8 - b'0' + 5) % 10) + b'0') as char,
            c => c,
        })
        .collect()
}

/// `first` is the message for the input, `second` for the input with `secret` replaced by
/// `scrambled`. Where the message's own words already hold either, nothing can be told.
pub fn quoted(first: &str, second: &str, secret: &str, scrambled: &str) -> bool {
    secret.chars().filter(char::is_ascii_alphanumeric).count() >= MIN_ALNUM
        && !first.contains(scrambled)
        && !second.contains(secret)
        && first.contains(secret)
        && second.contains(scrambled)
}
