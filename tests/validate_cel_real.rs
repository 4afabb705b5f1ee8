//! CEL rules of real public CRDs (excerpts in tests/fixtures/validate/cel-real, sources in
//! its README.md): Gateway API's (isIP, duration, format, regex raw strings, exists_one) and
//! OVN-Kubernetes' (isCIDR, cidr().ip().family(), prefixLength). Each resource that passes
//! the API server passes here; each that fails is reported with the rule's message at the
//! field's line and column, and no rule of these CRDs is left unchecked.

use std::process::Command;

const DIR: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/validate/cel-real"
);

fn validate(args: &[&str]) -> (i32, Vec<String>, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_kbundle"))
        .arg("validate")
        .args(args)
        .env_remove("RUST_LOG")
        .output()
        .expect("kbundle");
    let stdout = String::from_utf8_lossy(&out.stdout);
    (
        out.status.code().unwrap_or(-1),
        stdout.lines().map(|l| l.replacen(DIR, "", 1)).collect(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// One CRD excerpt and its resources, validated with `--crd`.
fn check(crd: &str, resources: &str, expected: &[&str]) {
    let crd = format!("{DIR}/{crd}");
    let file = format!("{DIR}/{resources}");
    let (code, lines, err) = validate(&["--crd", &crd, &file]);
    assert_eq!(lines, expected, "{err}");
    assert_eq!(code, if expected.is_empty() { 0 } else { 1 }, "{err}");
    // Every rule of the excerpt is evaluated: nothing is skipped with a warning.
    assert!(!err.contains("WARN"), "{err}");
}

#[test]
fn gateway_api_tlsroute_hostnames_may_not_be_ips() {
    check(
        "tlsroutes-crd.yaml",
        "tlsroutes.yaml",
        &[
            "/tlsroutes.yaml:17:5: TLSRoute by-address is invalid: /spec/hostnames: Hostnames cannot contain an IP",
        ],
    );
}

#[test]
fn gateway_api_httproute_timeouts_compare_durations() {
    check(
        "httproutes-crd.yaml",
        "httproutes.yaml",
        &[
            "/httproutes.yaml:25:9: HTTPRoute slow-backend is invalid: /spec/rules/0/timeouts: backendRequest timeout cannot be longer than request timeout",
            "/httproutes.yaml:28:17: HTTPRoute slow-backend is invalid: /spec/rules/1/matches/0/path: must not contain '//' when type one of ['Exact', 'PathPrefix']",
        ],
    );
}

#[test]
fn gateway_api_gateway_addresses_labels_and_listeners() {
    check(
        "gateways-crd.yaml",
        "gateways.yaml",
        &[
            "/gateways.yaml:21:5: Gateway twice is invalid: /spec/addresses: IPAddress values must be unique",
            "/gateways.yaml:23:7: Gateway twice is invalid: /spec/addresses/2: Hostname value must be empty or contain only valid characters (matching ^(\\*\\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$)",
            "/gateways.yaml:26:7: Gateway twice is invalid: /spec/infrastructure/labels: Label keys must be in the form of an optional DNS subdomain prefix followed by a required name segment of up to 63 characters.",
            "/gateways.yaml:29:5: Gateway twice is invalid: /spec/listeners: Listener name must be unique within the Gateway",
        ],
    );
}

#[test]
fn gateway_api_retry_intervals_are_bounded_durations() {
    check(
        "xbackendtrafficpolicies-crd.yaml",
        "xbackendtrafficpolicies.yaml",
        &[
            "/xbackendtrafficpolicies.yaml:21:37: XBackendTrafficPolicy too-long is invalid: /spec/retryConstraint/budget/interval: interval cannot be greater than one hour or less than one second",
            "/xbackendtrafficpolicies.yaml:22:41: XBackendTrafficPolicy too-long is invalid: /spec/retryConstraint/minRetryRate/interval: interval cannot be greater than one hour",
        ],
    );
}

/// Gateway API v1.6.1's XBackend compares `format...validate(self)`, an optional, with
/// `null`: never equal in cel-go, so the API server refuses every non-empty port name (its
/// own CEL environment gives `false` for `format.dns1123Label().validate('https') == null`,
/// see tests/fixtures/cel/k8s-oracle.tsv). kbundle reports what the API server would.
#[test]
fn gateway_api_xbackend_port_names_fail_as_on_the_api_server() {
    check(
        "xbackends-crd.yaml",
        "xbackends.yaml",
        &[
            "/xbackends.yaml:18:16: XBackend named-port is invalid: /spec/port/name: Name must be a valid DNS label",
            "/xbackends.yaml:26:32: XBackend in-cluster is invalid: /spec/externalHostname/hostname: hostname must not be an IP address or end with .cluster.local",
        ],
    );
}

#[test]
fn ovn_kubernetes_networks_check_cidrs_and_families() {
    check(
        "userdefinednetworks-crd.yaml",
        "userdefinednetworks.yaml",
        &[
            "/userdefinednetworks.yaml:26:7: UserDefinedNetwork tenant-red is invalid: /spec/layer2/subnets: When 2 CIDRs are set, they must be from different IP families",
            "/userdefinednetworks.yaml:37:5: UserDefinedNetwork tenant-green is invalid: /spec/layer3: JoinSubnets is only supported for Primary network",
            "/userdefinednetworks.yaml:40:16: UserDefinedNetwork tenant-green is invalid: /spec/layer3/subnets/0/cidr: CIDR is invalid",
            "/userdefinednetworks.yaml:41:9: UserDefinedNetwork tenant-green is invalid: /spec/layer3/subnets/1: HostSubnet must be smaller than CIDR subnet",
        ],
    );
}

/// The whole folder at once (CRDs found among the inputs) gives the same verdicts, and the
/// transition rule (`self == oldSelf`, OVN's "Spec is immutable") is noted, not passed.
#[test]
fn crds_among_the_inputs_and_transition_rules() {
    let (code, lines, err) = validate(&["-v", DIR]);
    assert_eq!(code, 1, "{err}");
    assert_eq!(lines.len(), 15, "{lines:#?}");
    assert!(
        lines.iter().all(|l| !l.contains(" edge ")
            && !l.contains("tenant-blue")
            && !l.contains("passthrough")),
        "{lines:#?}"
    );
    assert!(
        err.lines().any(|l| l.contains("UserDefinedNetwork")
            && l.contains("self == oldSelf")
            && l.contains("not checked offline")),
        "{err}"
    );
}
