use super::*;
use base64::engine::general_purpose::STANDARD;
use std::fs;

fn config(json: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("config.json"), json).unwrap();
    dir
}

fn basic(user: &str, pass: &str) -> Credential {
    Credential::Basic {
        username: user.into(),
        password: Secret::new(pass),
    }
}

fn auth_field(user_pass: &str) -> String {
    STANDARD.encode(user_pass)
}

/// Writes `docker-credential-<name>` into `dir`: it records its stdin in `<name>.in` and
/// prints `stdout`, exiting with `code`.
#[cfg(unix)]
fn fake_helper(dir: &Path, name: &str, stdout: &str, code: i32) {
    use std::os::unix::fs::PermissionsExt;
    let path = dir.join(format!("docker-credential-{name}"));
    let script = format!(
        "#!/bin/sh\n[ \"$1\" = get ] || exit 9\ncat > \"$(dirname \"$0\")/{name}.in\"\nprintf '%s' '{stdout}'\nexit {code}\n"
    );
    fs::write(&path, script).unwrap();
    fs::set_permissions(&path, fs::Permissions::from_mode(0o755)).unwrap();
    // Another test's fork may still hold the file open for writing (until its exec closes
    // it), and exec then fails with ETXTBSY: wait until the script can be run.
    while std::process::Command::new(&path)
        .output()
        .is_err_and(|e| e.raw_os_error() == Some(libc::ETXTBSY))
    {
        std::thread::yield_now();
    }
}

#[test]
fn missing_config_is_none() {
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(lookup_in(dir.path(), "ghcr.io").unwrap(), None);
    assert_eq!(
        lookup_in(&dir.path().join("nope"), "ghcr.io").unwrap(),
        None
    );
    let empty = config("\n");
    assert_eq!(lookup_in(empty.path(), "ghcr.io").unwrap(), None);
}

#[test]
fn auths_with_auth_field() {
    let json = format!(
        r#"{{"auths":{{"ghcr.io":{{"auth":"{}"}}}}}}"#,
        auth_field("me:pa:ss")
    );
    let dir = config(&json);
    assert_eq!(
        lookup_in(dir.path(), "ghcr.io").unwrap(),
        Some(basic("me", "pa:ss"))
    );
    assert_eq!(lookup_in(dir.path(), "quay.io").unwrap(), None);
}

#[test]
fn auths_with_username_and_password_fields() {
    let dir = config(r#"{"auths":{"localhost:5000":{"username":"u","password":"p"}}}"#);
    assert_eq!(
        lookup_in(dir.path(), "localhost:5000").unwrap(),
        Some(basic("u", "p"))
    );
    assert_eq!(lookup_in(dir.path(), "localhost:5001").unwrap(), None);
}

#[test]
fn auths_with_identity_token() {
    let json = format!(
        r#"{{"auths":{{"myregistry.azurecr.io":{{"auth":"{}","identitytoken":"refresh"}}}}}}"#,
        auth_field("00000000-0000-0000-0000-000000000000:")
    );
    let dir = config(&json);
    assert_eq!(
        lookup_in(dir.path(), "myregistry.azurecr.io").unwrap(),
        Some(Credential::IdentityToken(Secret::new("refresh")))
    );
}

#[test]
fn auths_key_variants_match_the_host() {
    for key in [
        "https://reg.example",
        "http://reg.example",
        "https://reg.example/v1/",
        "REG.example",
    ] {
        let dir = config(&format!(
            r#"{{"auths":{{"{key}":{{"auth":"{}"}}}}}}"#,
            auth_field("a:b")
        ));
        assert_eq!(
            lookup_in(dir.path(), "reg.example").unwrap(),
            Some(basic("a", "b")),
            "{key}"
        );
        assert_eq!(
            lookup_in(dir.path(), "reg.example.org").unwrap(),
            None,
            "{key}"
        );
    }
    // The exact key wins over a variant.
    let json = format!(
        r#"{{"auths":{{"http://reg.example":{{"auth":"{}"}},"reg.example":{{"auth":"{}"}}}}}}"#,
        auth_field("old:x"),
        auth_field("new:y")
    );
    assert_eq!(
        lookup_in(config(&json).path(), "reg.example").unwrap(),
        Some(basic("new", "y"))
    );
}

#[test]
fn docker_io_matches_the_index_url() {
    let json = format!(
        r#"{{"auths":{{"https://index.docker.io/v1/":{{"auth":"{}"}}}}}}"#,
        auth_field("hub:pw")
    );
    let dir = config(&json);
    for host in ["docker.io", "index.docker.io", "registry-1.docker.io"] {
        assert_eq!(
            lookup_in(dir.path(), host).unwrap(),
            Some(basic("hub", "pw")),
            "{host}"
        );
    }
}

#[test]
fn bad_auth_field_names_key_without_the_secret() {
    let dir = config(r#"{"auths":{"ghcr.io":{"auth":"not base64 s3cret!"}}}"#);
    let err = lookup_in(dir.path(), "ghcr.io").unwrap_err().to_string();
    assert!(
        err.contains("ghcr.io") && err.contains("config.json"),
        "{err}"
    );
    assert!(!err.contains("s3cret"), "{err}");
}

#[test]
fn malformed_config_names_file_and_line() {
    let dir = config("{\n  \"auths\": {\n    \"ghcr.io\": {\"auth\": \"x\"\n  }\n");
    let err = lookup_in(dir.path(), "ghcr.io").unwrap_err().to_string();
    assert!(
        err.contains("config.json") && err.contains("line 5"),
        "{err}"
    );
    // A wrong type is reported by position only, since the value may be a secret.
    let dir = config("{\"auths\": {\"ghcr.io\": {\"password\": 123456}}}");
    let err = lookup_in(dir.path(), "ghcr.io").unwrap_err().to_string();
    assert!(err.contains("line 1") && !err.contains("123456"), "{err}");
}

#[test]
fn debug_does_not_leak_the_password() {
    let text = format!(
        "{:?} {:?}",
        basic("user", "hunter2"),
        Credential::IdentityToken(Secret::new("tok3n"))
    );
    assert!(
        !text.contains("hunter2") && !text.contains("tok3n"),
        "{text}"
    );
    assert!(
        text.contains("user") && text.contains("[redacted]"),
        "{text}"
    );
}

#[cfg(unix)]
#[test]
fn cred_helpers_run_the_helper_for_that_host() {
    let dir =
        config(r#"{"credHelpers":{"us-docker.pkg.dev":"fake"},"auths":{"us-docker.pkg.dev":{}}}"#);
    let bin = tempfile::tempdir().unwrap();
    fake_helper(
        bin.path(),
        "fake",
        r#"{"ServerURL":"x","Username":"oauth2accesstoken","Secret":"ya29"}"#,
        0,
    );
    let found = lookup_with(dir.path(), "us-docker.pkg.dev", Some(bin.path())).unwrap();
    assert_eq!(found, Some(basic("oauth2accesstoken", "ya29")));
    assert_eq!(
        fs::read_to_string(bin.path().join("fake.in")).unwrap(),
        "us-docker.pkg.dev"
    );
    // Other hosts do not use it.
    assert_eq!(
        lookup_with(dir.path(), "ghcr.io", Some(bin.path())).unwrap(),
        None
    );
}

#[cfg(unix)]
#[test]
fn creds_store_serves_all_hosts_and_token_username_means_identity_token() {
    let dir = config(r#"{"auths":{"https://index.docker.io/v1/":{}},"credsStore":"store"}"#);
    let bin = tempfile::tempdir().unwrap();
    fake_helper(
        bin.path(),
        "store",
        r#"{"Username":"<token>","Secret":"refresh"}"#,
        0,
    );
    let found = lookup_with(dir.path(), "docker.io", Some(bin.path())).unwrap();
    assert_eq!(
        found,
        Some(Credential::IdentityToken(Secret::new("refresh")))
    );
    let url = fs::read_to_string(bin.path().join("store.in")).unwrap();
    assert_eq!(url, "https://index.docker.io/v1/");
    assert!(
        lookup_with(dir.path(), "quay.io", Some(bin.path()))
            .unwrap()
            .is_some()
    );
}

#[cfg(unix)]
#[test]
fn credentials_not_found_is_none_and_falls_through() {
    let bin = tempfile::tempdir().unwrap();
    fake_helper(
        bin.path(),
        "empty",
        "credentials not found in native keychain",
        1,
    );
    let dir = config(r#"{"credsStore":"empty"}"#);
    assert_eq!(
        lookup_with(dir.path(), "ghcr.io", Some(bin.path())).unwrap(),
        None
    );
    let json = format!(
        r#"{{"credHelpers":{{"ghcr.io":"empty"}},"auths":{{"ghcr.io":{{"auth":"{}"}}}}}}"#,
        auth_field("a:b")
    );
    let dir = config(&json);
    assert_eq!(
        lookup_with(dir.path(), "ghcr.io", Some(bin.path())).unwrap(),
        Some(basic("a", "b"))
    );
}

#[cfg(unix)]
#[test]
fn helper_failures_name_program_and_host() {
    let bin = tempfile::tempdir().unwrap();
    fake_helper(bin.path(), "broken", "keychain locked", 3);
    fake_helper(
        bin.path(),
        "garbled",
        r#"{"Username":"u","Secret":12345678}"#,
        0,
    );
    for (helper, expect) in [
        ("broken", "keychain locked"),
        ("garbled", "not {\"Username\""),
        ("absent", "not installed"),
    ] {
        let dir = config(&format!(r#"{{"credHelpers":{{"ghcr.io":"{helper}"}}}}"#));
        let err = lookup_with(dir.path(), "ghcr.io", Some(bin.path()))
            .unwrap_err()
            .to_string();
        let program = format!("docker-credential-{helper}");
        assert!(
            err.contains(&program) && err.contains("ghcr.io") && err.contains(expect),
            "{err}"
        );
        assert!(!err.contains("12345678"), "{err}");
    }
}
