//! The message for a keyless signature refused for who signed it: what the certificate
//! actually holds (its SAN, the OIDC issuer, the GitHub workflow it ran in, from Fulcio's
//! extensions) and the exact flags that would accept this signer, so that nobody falls back
//! to `--certificate-identity-regexp '.+'` to find out.

use super::cert::Certificate;

/// What did not match.
pub enum Refused<'a> {
    /// The identity flag, described (`--certificate-identity x` or `…-regexp re`).
    Identity(&'a str),
    /// The issuer flag, described.
    Issuer(&'a str),
}

/// `certificate identity A does not match --certificate-identity B; the certificate holds
/// SAN A, issuer I, workflow ref R (repository O/N, trigger T); to accept this signer:
/// --certificate-identity 'A' --certificate-oidc-issuer 'I'`
pub fn message(leaf: &Certificate, refused: Refused<'_>) -> String {
    let identities = leaf.identities();
    let issuer = leaf.issuer_claim();
    let shown_identities = if identities.is_empty() {
        "(none)".to_owned()
    } else {
        identities.join(", ")
    };
    let head = match refused {
        Refused::Identity(want) => {
            format!("certificate identity {shown_identities} does not match {want}")
        }
        Refused::Issuer(want) => format!(
            "certificate oidc issuer {} does not match {want}",
            issuer.as_deref().unwrap_or("(none)")
        ),
    };
    let mut holds = vec![format!("SAN {shown_identities}")];
    holds.push(format!("issuer {}", issuer.as_deref().unwrap_or("(none)")));
    let workflow = leaf.github_workflow();
    let get = |name: &str| {
        workflow
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    };
    if let Some(r) = get("githubWorkflowRef") {
        let mut w = format!("workflow ref {r}");
        let more: Vec<String> = [
            ("repository", get("githubWorkflowRepository")),
            ("trigger", get("githubWorkflowTrigger")),
            ("commit", get("githubWorkflowSha")),
        ]
        .into_iter()
        .filter_map(|(k, v)| v.map(|v| format!("{k} {v}")))
        .collect();
        if !more.is_empty() {
            w.push_str(&format!(" ({})", more.join(", ")));
        }
        holds.push(w);
    }
    let accept = match (identities.first(), &issuer) {
        (Some(identity), Some(issuer)) => format!(
            "; to accept this signer: --certificate-identity {} --certificate-oidc-issuer {}",
            quote(identity),
            quote(issuer)
        ),
        _ => String::new(),
    };
    format!("{head}; the certificate holds {}{accept}", holds.join(", "))
}

/// A value as one shell word: bare when it is plainly safe, else single-quoted.
fn quote(value: &str) -> String {
    let safe = !value.is_empty()
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"@%+=:,./-_".contains(&b));
    if safe {
        value.to_owned()
    } else {
        format!("'{}'", value.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::quote;

    #[test]
    fn values_are_quoted_for_a_shell_only_when_needed() {
        assert_eq!(
            quote("https://github.com/o/r/.github/workflows/p.yml@refs/heads/main"),
            "https://github.com/o/r/.github/workflows/p.yml@refs/heads/main"
        );
        assert_eq!(quote("a b"), "'a b'");
        assert_eq!(quote("it's"), r"'it'\''s'");
    }
}
