//! The rules' plumbing, and every library against what the API server gives
//! (`tests/fixtures/cel/k8s-oracle.tsv`, produced by Kubernetes' own CEL environment).

use super::*;
use serde_json::json;

#[test]
fn field_paths_become_pointers() {
    assert_eq!(field_pointer(".spec.replicas"), "/spec/replicas");
    assert_eq!(field_pointer(".a['b.c'][0]"), "/a/b.c/0");
}

#[test]
fn rules_compile_once_and_find_their_fields() {
    let openapi = json!({"type": "object", "properties": {"spec": {"type": "object",
        "x-kubernetes-validations": [
            {"rule": "self.min <= self.max", "message": "min must not exceed max"},
            {"rule": "self.min == oldSelf.min"},
            {"rule": "self.(("}
        ],
        "properties": {"ports": {"type": "array", "items": {"type": "object",
            "x-kubernetes-validations": [{"rule": "self.port > 0 && self.port < 65536",
                "messageExpression": "'port ' + string(self.port) + ' is out of range'"}]}}}}}});
    let rules = compile(&openapi, "test");
    // The transition rule and the broken one are left out.
    assert_eq!(rules.len(), 2);
    assert_eq!(rules[1].path, ["spec", "ports", "*"]);
    let value = json!({"spec": {"min": 3, "max": 2, "ports": [{"port": 80}, {"port": 70000}]}});
    let doc = crate::manifest::parse_stream(&serde_json::to_string(&value).unwrap())
        .documents
        .remove(0);
    let resource = crate::manifest::resources_of(doc).remove(0);
    let problems = check(&rules, &resource);
    let found: Vec<(&str, &str)> = problems
        .iter()
        .map(|p| (p.path.as_str(), p.msg.as_str()))
        .collect();
    assert_eq!(
        found,
        [
            ("/spec", "min must not exceed max"),
            ("/spec/ports/1", "port 70000 is out of range"),
        ]
    );
}

/// Go's `%v` of a float64: shortest digits, `e` form below 1e-4 or from 1e6 on (fewer
/// digits than the exponent).
fn go_float(f: f64) -> String {
    if f.is_infinite() {
        return if f > 0.0 { "+Inf" } else { "-Inf" }.to_owned();
    }
    let e = format!("{f:e}");
    let (mantissa, exp) = e.split_once('e').unwrap_or((&e, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let digits = mantissa.trim_start_matches('-').replace('.', "").len() as i32;
    let dp = exp + 1;
    let eprec = if 6 > digits && digits >= dp {
        digits
    } else {
        6
    };
    if exp < -4 || exp >= eprec {
        let sign = if exp < 0 { '-' } else { '+' };
        format!("{mantissa}e{sign}{:02}", exp.abs())
    } else {
        format!("{f}")
    }
}

/// What kbundle gives for an expression, in the oracle's notation.
fn evaluate(expression: &str) -> String {
    let env = env();
    let program = match env.compile(expression) {
        Ok(p) => p,
        Err(e) => return format!("COMPILE: {e}"),
    };
    let references = program.references();
    if env::UNSUPPORTED.iter().any(|f| references.has_function(f)) {
        return "unsupported".to_owned();
    }
    let context = Context::with_env(env.clone());
    match program.execute(&context) {
        Ok(Cel::Bool(b)) => format!("bool {b}"),
        Ok(Cel::Int(i)) => format!("int {i}"),
        Ok(Cel::UInt(u)) => format!("uint {u}"),
        Ok(Cel::Float(f)) => format!("double {}", go_float(f)),
        Ok(Cel::String(s)) => format!("string {s}"),
        Ok(other) => format!("other {other:?}"),
        Err(e) => match failure_of(&e) {
            Some(why) => format!("ERR: {why}"),
            None => format!("unsupported ({e})"),
        },
    }
}

#[test]
fn libraries_agree_with_the_api_server() {
    let table = include_str!("../../../tests/fixtures/cel/k8s-oracle.tsv");
    let mut wrong = Vec::new();
    let mut rows = 0;
    for line in table
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
    {
        rows += 1;
        let cols: Vec<&str> = line.split('\t').collect();
        let (expression, server) = (cols[0], cols[1]);
        let ours = evaluate(expression);
        let fine = match cols.get(2) {
            Some(instead) => {
                ours == *instead || (*instead == "unsupported" && ours.starts_with("unsupported"))
            }
            None if server.starts_with("COMPILE:") => {
                !ours.starts_with("bool")
                    && !ours.starts_with("int")
                    && !ours.starts_with("string")
                    && !ours.starts_with("double")
            }
            None if server.starts_with("PROGRAM:") => ours.starts_with("ERR:"),
            None => ours == server,
        };
        if !fine {
            wrong.push(format!(
                "{expression}\n    api server: {server}\n    kbundle:    {ours}"
            ));
        }
    }
    assert!(rows > 250, "the table lost rows: {rows}");
    assert!(
        wrong.is_empty(),
        "{} of {rows} differ:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}

/// Whatever a field holds, the libraries answer or fail, never panic: byte-indexed parsers
/// (quantity, url, duration, format's prefix masking) fed strings with multi-byte
/// characters at every position.
#[test]
fn libraries_never_panic_on_odd_strings() {
    const ALPHABET: &[&str] = &[
        "0", "1", "9", ".", "%", "a", "F", "é", "€", ":", "/", "[", "]", "e", "E", "K", "i", "-",
        "+", " ", "h", "m", "s", "v", "@", "?", "#", "*", "µ", "\u{7f}",
    ];
    let expressions = [
        "isQuantity(self)",
        "isQuantity(self) && quantity(self).isInteger()",
        "isQuantity(self) && quantity(self).add(quantity('1Ki')).compareTo(quantity('-1.5m')) > 0",
        "isURL(self) && url(self).getHostname() + url(self).getPort() + url(self).getEscapedPath() != '' || true",
        "isURL(self) && url(self).getQuery().size() >= 0",
        "isIP(self) || isCIDR(self) || ip.isCanonical(self)",
        "isSemver(self) || isSemver(self, true)",
        "format.dns1123LabelPrefix().validate(self).hasValue() || format.qualifiedName().validate(self).hasValue() || format.uri().validate(self).hasValue()",
        "duration(self) > duration('0s')",
        "self.findAll('[0-9]+', 2).size() >= 0",
    ];
    let env = env();
    let programs: Vec<Program> = expressions
        .iter()
        .map(|e| env.compile(e).expect("compiles"))
        .collect();
    // A fixed linear congruential sequence: the same strings every run.
    let mut state: u64 = 0x2545_f491_4f6c_dd1d;
    for _ in 0..3000 {
        let mut s = String::new();
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let len = (state >> 60) as usize + 1;
        for _ in 0..len {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            s.push_str(ALPHABET[(state >> 33) as usize % ALPHABET.len()]);
        }
        for program in &programs {
            let mut context = Context::with_env(env.clone());
            context.add_variable_from_value("self", Cel::String(Arc::new(s.clone())));
            let _ = program.execute(&context);
        }
    }
}
