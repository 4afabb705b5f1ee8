//! Kubernetes' CEL libraries (`validate::cel`) as CRD rules call them on a resource's strings:
//! the hand-written quantity, URL, duration, IP/CIDR, format and semver parsers, and regexes
//! compiled from the object. The first byte picks a rule, the rest is the string `self.s`.
//!
//! Invariants: no panic, hang or blow-up whatever the string; every problem a failed rule
//! gives is at a position inside the resource.
#![no_main]

use kbundle::manifest::{parse_stream, resources_of};
use std::sync::OnceLock;

use kbundle::validate::cel::{Rule, check, compile};
use libfuzzer_sys::fuzz_target;

const RULES: &[&str] = &[
    "quantity(self.s).isInteger() && quantity(self.s).asInteger() >= 0",
    "quantity(self.s).add(quantity('1Ki')).sub(quantity(self.s)).compareTo(quantity('1k')) >= 0",
    "isQuantity(self.s) && quantity(self.s).asApproximateFloat() >= 0.0 && sign(quantity(self.s)) >= 0",
    "url(self.s).getScheme() != '' && url(self.s).getHost() != '' && url(self.s).getPort() != ''",
    "isURL(self.s) && url(self.s).getHostname() != '' && url(self.s).getEscapedPath() != '' && url(self.s).getQuery().size() >= 0",
    "ip(self.s).family() == 4 || ip(self.s).isLoopback() || ip(self.s).isGlobalUnicast() || ip.isCanonical(self.s)",
    "cidr(self.s).masked().prefixLength() >= 0 && cidr(self.s).containsIP(cidr(self.s).ip()) && cidr(self.s).containsCIDR(self.s)",
    "isIP(self.s) || isCIDR(self.s)",
    "!format.dns1123Label().validate(self.s).hasValue() || !format.dns1123Subdomain().validate(self.s).hasValue()",
    "!format.qualifiedName().validate(self.s).hasValue() || !format.labelValue().validate(self.s).hasValue() || !format.uri().validate(self.s).hasValue()",
    "!format.uuid().validate(self.s).hasValue() || !format.datetime().validate(self.s).hasValue() || !format.byte().validate(self.s).hasValue()",
    "format.named(self.s).hasValue()",
    "duration(self.s) > duration('1s')",
    "isSemver(self.s) && semver(self.s).major() >= 0 && semver(self.s).isGreaterThan(semver('1.0.0'))",
    "self.s.matches(self.s) || self.s.find(self.s) != '' || self.s.findAll(self.s).size() >= 0",
    "self.s.split(',').isSorted() && self.s.split(',').indexOf('a') <= self.s.split(',').lastIndexOf('b')",
    "self.s.indexOf('a') >= self.s.lastIndexOf('b') || self.s.charAt(0) != '' || self.s.lowerAscii() == self.s.upperAscii()",
    "self.s.substring(1, 3) != self.s.replace('a', 'b') && self.s.trim().size() >= 0",
];

/// Each rule compiled once: compiling is `cel_rule`'s job, and doing it for every input made
/// this target spend most of its time there.
fn compiled() -> &'static [Vec<Rule>] {
    static COMPILED: OnceLock<Vec<Vec<Rule>>> = OnceLock::new();
    COMPILED.get_or_init(|| {
        RULES
            .iter()
            .map(|rule| {
                let schema = serde_json::json!({
                    "type": "object",
                    "x-kubernetes-validations": [{"rule": rule, "messageExpression": "'got ' + self.s"}],
                    "properties": {"s": {"type": "string"}},
                });
                let rules = compile(&schema, "fuzz");
                assert_eq!(rules.len(), 1, "{rule} compiles");
                rules
            })
            .collect()
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let Ok(s) = std::str::from_utf8(rest) else {
        return;
    };
    let rules = &compiled()[pick as usize % RULES.len()];
    let text = serde_json::json!({
        "apiVersion": "example.com/v1",
        "kind": "Widget",
        "metadata": {"name": "w"},
        "s": s,
    })
    .to_string();
    let lines = 1;
    for doc in parse_stream(&text).documents {
        for resource in resources_of(doc) {
            for p in check(rules, &resource) {
                assert!(p.line <= lines + 1, "{p:?}");
            }
        }
    }
});
