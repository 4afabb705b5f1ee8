//! The distribution reference grammar (distribution/reference's `reference.go`, ASCII as in Go)
//! and Docker's name normalisation (`docker.io`, `library/`), checked by hand.
//!
//! Why not `Reference::try_from`: oci-spec matches one regex whose tag part is a Unicode
//! `[\w][\w.-]{0,127}`; compiling it takes 50 to 150 ms and 45 MB on every run that names a
//! registry, which was most of a no-change push. It also takes non-ASCII tags no registry
//! serves. The tests below hold this parser to oci-spec's answers on ASCII input.

use oci_client::Reference;

const NAME_TOTAL_LENGTH_MAX: usize = 255;

fn alnum_lower(c: char) -> bool {
    c.is_ascii_lowercase() || c.is_ascii_digit()
}

/// `[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*`
fn path_component(s: &str) -> bool {
    let mut runs = Vec::new();
    let mut start = 0;
    let chars: Vec<char> = s.chars().collect();
    if chars.is_empty()
        || !chars
            .iter()
            .all(|c| alnum_lower(*c) || matches!(c, '.' | '_' | '-'))
    {
        return false;
    }
    for i in 1..=chars.len() {
        if i == chars.len() || alnum_lower(chars[i]) != alnum_lower(chars[start]) {
            runs.push((alnum_lower(chars[start]), &chars[start..i]));
            start = i;
        }
    }
    let first_last_alnum = runs.first().is_some_and(|r| r.0) && runs.last().is_some_and(|r| r.0);
    first_last_alnum
        && runs.iter().filter(|r| !r.0).all(|(_, sep)| {
            matches!(sep, ['.'] | ['_'] | ['_', '_']) || sep.iter().all(|c| *c == '-')
        })
}

fn path(s: &str) -> bool {
    s.split('/').all(path_component)
}

/// `label(\.label)*(:[0-9]+)?`, a label `[a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?`
fn domain(s: &str) -> bool {
    let (host, port) = match s.split_once(':') {
        Some((h, p)) => (h, Some(p)),
        None => (s, None),
    };
    let label = |l: &str| {
        let b = l.as_bytes();
        !b.is_empty()
            && b.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'-')
            && b[0] != b'-'
            && b[b.len() - 1] != b'-'
    };
    host.split('.').all(label)
        && port.is_none_or(|p| !p.is_empty() && p.bytes().all(|c| c.is_ascii_digit()))
}

/// `[\w][\w.-]{0,127}`, ASCII.
fn tag(s: &str) -> bool {
    let word = |c: u8| c.is_ascii_alphanumeric() || c == b'_';
    let b = s.as_bytes();
    !b.is_empty()
        && b.len() <= 128
        && word(b[0])
        && b.iter().all(|c| word(*c) || *c == b'.' || *c == b'-')
}

/// `[A-Za-z][A-Za-z0-9]*([-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}`
fn digest(s: &str) -> bool {
    let Some((algorithm, hex)) = s.split_once(':') else {
        return false;
    };
    let part = |p: &str| {
        let b = p.as_bytes();
        !b.is_empty() && b[0].is_ascii_alphabetic() && b.iter().all(|c| c.is_ascii_alphanumeric())
    };
    algorithm.split(['-', '_', '+', '.']).all(part)
        && hex.len() >= 32
        && hex.bytes().all(|c| c.is_ascii_hexdigit())
}

/// Parses `[DOMAIN/]PATH[:TAG][@DIGEST]` as docker and oci-spec do (no tag and no digest
/// means `latest`).
pub fn parse(s: &str) -> Result<Reference, String> {
    if s.is_empty() {
        return Err("repository name must have at least one component".to_owned());
    }
    let invalid = || "invalid reference format".to_owned();
    let (rest, digest_part) = match s.split_once('@') {
        Some((r, d)) => (r, Some(d)),
        None => (s, None),
    };
    if let Some(d) = digest_part {
        if !digest(d) {
            return Err(invalid());
        }
    }
    let slash = rest.rfind('/');
    let (name, tag_part) = match rest.rfind(':') {
        Some(colon) if slash.is_none_or(|s| colon > s) => {
            (&rest[..colon], Some(&rest[colon + 1..]))
        }
        _ => (rest, None),
    };
    if let Some(t) = tag_part {
        if !tag(t) {
            return Err(invalid());
        }
    }
    let valid = path(name)
        || name
            .split_once('/')
            .is_some_and(|(d, p)| domain(d) && path(p));
    if !valid {
        return Err(invalid());
    }
    // Docker's normalisation (reference/normalize.go splitDockerDomain), as oci-spec does it.
    let (mut registry, mut repository) = match name.split_once('/') {
        Some((left, right)) if left.contains(['.', ':']) || left == "localhost" => {
            (left.to_owned(), right.to_owned())
        }
        _ => ("docker.io".to_owned(), name.to_owned()),
    };
    if registry == "index.docker.io" {
        registry = "docker.io".to_owned();
    }
    if registry == "docker.io" && !repository.contains('/') {
        repository = format!("library/{repository}");
    }
    if repository.len() > NAME_TOTAL_LENGTH_MAX {
        return Err(format!(
            "repository name must not be more than {NAME_TOTAL_LENGTH_MAX} characters"
        ));
    }
    if let Some(d) = digest_part {
        let expected = match d.split_once(':').map(|(a, _)| a) {
            Some("sha256") => 64,
            Some("sha384") => 96,
            Some("sha512") => 128,
            _ => return Err("unsupported digest algorithm".to_owned()),
        };
        if d.len() - d.find(':').map_or(0, |i| i + 1) != expected {
            return Err("invalid checksum digest length".to_owned());
        }
    }
    Ok(match (tag_part, digest_part) {
        (Some(t), Some(d)) => {
            Reference::with_tag_and_digest(registry, repository, t.to_owned(), d.to_owned())
        }
        (None, Some(d)) => Reference::with_digest(registry, repository, d.to_owned()),
        (t, None) => Reference::with_tag(registry, repository, t.unwrap_or("latest").to_owned()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Differential: the same verdict and the same parts as oci-spec's regex parser.
    #[test]
    fn agrees_with_oci_spec() {
        let sha = format!("sha256:{}", "a".repeat(64));
        let inputs = [
            "us-docker.pkg.dev/proj/repo/root:v2".to_owned(),
            "localhost:5000/x".into(),
            "localhost/x:1".into(),
            "127.0.0.1:41234/a/b:c".into(),
            "busybox".into(),
            "busybox:1.36".into(),
            "library/busybox".into(),
            "docker.io/busybox".into(),
            "index.docker.io/org/app:v1".into(),
            "ghcr.io/org/app".into(),
            format!("ghcr.io/org/app@{sha}"),
            format!("ghcr.io/org/app:v1@{sha}"),
            "ghcr.io/org/app@sha256:abc".into(),
            format!("ghcr.io/org/app@sha999:{}", "a".repeat(64)),
            format!("ghcr.io/org/app@sha512:{}", "b".repeat(128)),
            "a.b.c/d__e/f--g/h.i/j_k".into(),
            "host/a-.b".into(),
            "host/a._b".into(),
            "host/a___b".into(),
            "host/-a".into(),
            "host/a-".into(),
            "host/A".into(),
            "Host.io/a".into(),
            "host-.io/a".into(),
            "host..io/a".into(),
            "host.io:/a".into(),
            "host.io:x/a".into(),
            "host/repo:bad tag".into(),
            "host/repo:".into(),
            "host/repo:-x".into(),
            "host/repo:_x.y-z".into(),
            format!("host/repo:{}", "t".repeat(128)),
            format!("host/repo:{}", "t".repeat(129)),
            "host/repo@".into(),
            "host/repo@@x".into(),
            "not a reference".into(),
            "/x".into(),
            "x/".into(),
            "x//y".into(),
            ":tag".into(),
            "localhost:5000".into(),
            format!("h.io/{}", "a".repeat(256)),
            format!("h.io/{}", "a".repeat(255)),
            "h.io/a/b:c:d".into(),
        ];
        for input in &inputs {
            let ours = parse(input);
            let theirs = Reference::try_from(input.as_str());
            match (&ours, &theirs) {
                (Ok(a), Ok(b)) => {
                    assert_eq!(a.registry(), b.registry(), "{input}");
                    assert_eq!(a.repository(), b.repository(), "{input}");
                    assert_eq!(a.tag(), b.tag(), "{input}");
                    assert_eq!(a.digest(), b.digest(), "{input}");
                }
                (Err(_), Err(_)) => {}
                _ => panic!("{input}: ours {ours:?}, oci-spec {theirs:?}"),
            }
        }
    }

    #[test]
    fn non_ascii_tags_are_refused_as_go_does() {
        assert!(parse("host.io/repo:é").is_err());
    }
}
