//! The fake's OAuth side: Google's checks of a service account's JWT assertion and of a user's
//! refresh token, and the rotating short-lived tokens of the refresh tests.

use std::collections::BTreeMap;

use super::{
    ACCESS_TOKEN, CLIENT_ID, CLIENT_SECRET, REFRESH_TOKEN, SCOPE, SERVICE_ACCOUNT_KEY,
    SERVICE_ACCOUNT_KEY_ID, State, oauth_error,
};

fn unbase64(part: &str) -> Option<Vec<u8>> {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(part)
        .ok()
}

/// The public half of `SERVICE_ACCOUNT_KEY` (PKCS#8 PEM), as Google holds it for the account.
fn service_account_public_key() -> rsa::PublicKey {
    use base64::Engine as _;
    use rsa::pkcs8::DecodePrivateKey as _;
    let body: String = SERVICE_ACCOUNT_KEY
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect();
    let der = base64::engine::general_purpose::STANDARD
        .decode(body)
        .expect("fixture key is base64");
    rsa::PrivateKey::from_pkcs8_der(&der)
        .expect("fixture key is PKCS#8 RSA")
        .to_public_key()
}

/// Google's checks of a service account's JWT assertion: RS256 signed by the account's key,
/// issued by the account, for the cloud-platform scope, addressed to this token endpoint, and
/// living at most an hour around now. Each refusal is Google's answer.
pub(super) fn check_assertion(jwt: &str, state: &State) -> Result<(), String> {
    use rsa::signature::Verifier as _;
    let invalid = |what: &str| Err(oauth_error("invalid_grant", what));
    let parts: Vec<&str> = jwt.split('.').collect();
    let [header, claims, signature] = parts[..] else {
        return invalid("Invalid JWT: malformed.");
    };
    let (Some(header_json), Some(claims_json), Some(signature)) =
        (unbase64(header), unbase64(claims), unbase64(signature))
    else {
        return invalid("Invalid JWT: malformed.");
    };
    let header: serde_json::Value = serde_json::from_slice(&header_json).unwrap_or_default();
    let claims: serde_json::Value = serde_json::from_slice(&claims_json).unwrap_or_default();
    if header["alg"] != "RS256" || header["kid"] != SERVICE_ACCOUNT_KEY_ID {
        return invalid("Invalid JWT Signature.");
    }
    if claims["iss"] != state.behaviour.service_account {
        return invalid("Invalid grant: account not found");
    }
    let verifier = rsa::pkcs1v15::VerifyingKey::<sha2::Sha256>::new(service_account_public_key());
    let signed = format!("{}.{}", parts[0], parts[1]);
    let valid = rsa::pkcs1v15::Signature::try_from(signature.as_slice())
        .is_ok_and(|sig| verifier.verify(signed.as_bytes(), &sig).is_ok());
    if !valid {
        return invalid("Invalid JWT Signature.");
    }
    if claims["scope"] != SCOPE {
        return Err(oauth_error(
            "invalid_scope",
            "Invalid OAuth scope or ID token audience provided.",
        ));
    }
    if claims["aud"] != format!("{}/token", state.url) {
        return invalid("Invalid JWT: Failed audience check.");
    }
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs();
    let (Some(iat), Some(exp)) = (claims["iat"].as_u64(), claims["exp"].as_u64()) else {
        return invalid("Invalid JWT: iat and exp are required.");
    };
    if iat > now + 60 || exp < now || exp - iat > 3600 {
        return invalid(
            "Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. Check your iat and exp values in the JWT claim.",
        );
    }
    Ok(())
}

/// The refresh_token grant of an `authorized_user` file.
pub(super) fn check_refresh(form: &BTreeMap<String, String>) -> Result<(), String> {
    let field = |k: &str| form.get(k).map_or("", String::as_str);
    if field("client_id") != CLIENT_ID || field("client_secret") != CLIENT_SECRET {
        return Err(oauth_error(
            "invalid_client",
            "The OAuth client was not found.",
        ));
    }
    if field("refresh_token") != REFRESH_TOKEN {
        return Err(oauth_error("invalid_grant", "Bad Request"));
    }
    Ok(())
}

/// The access token to hand out, and its lifetime. With `rotate`, a new token each time, made
/// the registry's only valid password before the answer leaves.
pub(super) fn issue(state: &State) -> (String, u64) {
    let Some(rotate) = &state.behaviour.rotate else {
        return (ACCESS_TOKEN.to_owned(), 3599);
    };
    let mut issued = state.issued.lock().unwrap();
    let n = issued.len() as u64;
    let token = format!("ya29.fake-rotating-token-{n}");
    let line = std::process::Command::new("htpasswd")
        .args(["-Bbn", "oauth2accesstoken", &token])
        .output()
        .expect("htpasswd");
    // Written beside and renamed over, so the registry never reads half a file; the registry
    // reloads when the modification time differs, so each version gets its own.
    let tmp = rotate.htpasswd.with_extension(format!("new{n}"));
    std::fs::write(&tmp, line.stdout).expect("write htpasswd");
    let mtime = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_600_000_000 + n);
    std::fs::File::options()
        .write(true)
        .open(&tmp)
        .and_then(|f| f.set_modified(mtime))
        .expect("set htpasswd mtime");
    std::fs::rename(&tmp, &rotate.htpasswd).expect("replace htpasswd");
    issued.push(token.clone());
    (token, rotate.expires_in)
}
