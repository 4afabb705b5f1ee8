//! CEL validation rules of CRDs (`x-kubernetes-validations`), evaluated as the API server
//! does on create: `rule` with `self` bound to the field, `message` or `messageExpression`,
//! `fieldPath`, `reason`.
//!
//! Built on the `cel` crate with the API server's environment ([`env`]): CEL's standard
//! library, cel-go's strings, lists and sets extensions, and Kubernetes' own libraries, one
//! module each (lists, regex, quantity, url, net for ip/cidr, format, duration, semver). Rules are
//! compiled once, when their CRD's schema is first needed. A rule that does not compile, or
//! calls a function left out here ([`env::UNSUPPORTED`], or any the interpreter lacks), is a
//! warning that names the CRD and the rule: never a silent pass. Transition rules (`oldSelf`)
//! need the object already in the cluster, so they are left out with a note.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use cel::{Context, ExecutionError, Program, Value as Cel};

mod budget;
mod duration;
mod env;
mod format;
mod limits;
mod lists;
mod net;
mod quantity;
pub mod re2;
mod regex;
mod semver;
mod url;

use env::env;
use serde_json::Value;

use crate::manifest::{Resource, escape_pointer};
use crate::report::Problem;

/// One compiled rule and where it applies.
pub struct Rule {
    /// Path of the schema node the rule sits on: property names, `*` for items and map
    /// values.
    path: Vec<String>,
    source: String,
    program: Program,
    message: Option<String>,
    message_expression: Option<Program>,
    field_path: Option<String>,
    reason: Option<String>,
    /// What the rules belong to (`CustomResourceDefinition for example.com/v1 Widget`).
    owner: Arc<str>,
    /// Whether an evaluation problem was already reported: once per rule and run.
    warned: AtomicBool,
}

impl std::fmt::Debug for Rule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Rule").field("rule", &self.source).finish()
    }
}

/// Compiles every `x-kubernetes-validations` rule of an `openAPIV3Schema`. Rules that cannot
/// run are reported (warnings) and left out.
pub fn compile(openapi: &Value, owner: &str) -> Vec<Rule> {
    let owner: Arc<str> = Arc::from(owner);
    let mut out = Vec::new();
    walk(openapi, &mut Vec::new(), &owner, &mut out);
    out
}

fn walk(node: &Value, path: &mut Vec<String>, owner: &Arc<str>, out: &mut Vec<Rule>) {
    let Value::Object(map) = node else {
        return;
    };
    if let Some(Value::Array(rules)) = map.get("x-kubernetes-validations") {
        for rule in rules {
            if let Some(r) = compile_rule(rule, path, owner) {
                out.push(r);
            }
        }
    }
    if let Some(Value::Object(props)) = map.get("properties") {
        for (name, child) in props {
            path.push(name.clone());
            walk(child, path, owner, out);
            path.pop();
        }
    }
    for key in ["items", "additionalProperties"] {
        if let Some(child @ Value::Object(_)) = map.get(key) {
            path.push("*".to_owned());
            walk(child, path, owner, out);
            path.pop();
        }
    }
}

fn compile_rule(rule: &Value, path: &[String], owner: &Arc<str>) -> Option<Rule> {
    let text = |k: &str| rule.get(k).and_then(Value::as_str).map(str::to_owned);
    let source = text("rule")?;
    let at = if path.is_empty() {
        "the root".to_owned()
    } else {
        format!(".{}", path.join("."))
    };
    let program = match parse(&source) {
        Ok(p) => p,
        Err(e) => {
            let shown = shown(&source);
            tracing::warn!(
                "{owner}: CEL rule {shown} at {at} does not compile here ({e}); it is not checked"
            );
            return None;
        }
    };
    let references = program.references();
    if let Some(name) = env::UNSUPPORTED
        .iter()
        .find(|name| references.has_function(name))
    {
        let shown = shown(&source);
        tracing::warn!(
            "{owner}: CEL rule {shown} at {at} calls {name}(), which kbundle does not evaluate; it is not checked"
        );
        return None;
    }
    if references.has_variable("oldSelf") {
        let shown = shown(&source);
        tracing::info!(
            "{owner}: CEL transition rule {shown} at {at} compares with the object in the cluster (oldSelf); not checked offline"
        );
        return None;
    }
    let message_expression = text("messageExpression").and_then(|m| parse(&m).ok());
    Some(Rule {
        path: path.to_vec(),
        source,
        program,
        message: text("message"),
        message_expression,
        field_path: text("fieldPath"),
        reason: text("reason"),
        owner: owner.clone(),
        warned: AtomicBool::new(false),
    })
}

/// Compiles an expression within cel-go's limits ([`limits`]). The error is the parser's
/// messages with their positions, not `ParseErrors`' display, which panics drawing a caret
/// past column 65,535.
fn parse(source: &str) -> Result<Program, String> {
    if let Some(why) = limits::check(source) {
        return Err(why);
    }
    env().compile(source).map_err(|errors| {
        let all: Vec<String> = errors
            .errors
            .iter()
            .map(|e| format!("{}:{}: {}", e.pos.0, e.pos.1, e.msg))
            .collect();
        all.join("; ")
    })
}

/// A rule as a warning quotes it: whole when short, else its start and its length.
fn shown(source: &str) -> String {
    const SHOWN: usize = 200;
    if source.chars().count() <= SHOWN {
        return format!("{source:?}");
    }
    let start: String = source.chars().take(SHOWN).collect();
    format!("{start:?}… ({} characters)", source.chars().count())
}

/// The JSON value as a CEL value.
fn to_cel(value: &Value) -> Cel {
    match value {
        Value::Null => Cel::Null,
        Value::Bool(b) => Cel::Bool(*b),
        Value::Number(n) => match (n.as_i64(), n.as_u64()) {
            (Some(i), _) => Cel::Int(i),
            (None, Some(u)) => Cel::UInt(u),
            _ => Cel::Float(n.as_f64().unwrap_or(0.0)),
        },
        Value::String(s) => Cel::String(Arc::new(s.clone())),
        Value::Array(items) => Cel::List(Arc::new(items.iter().map(to_cel).collect())),
        Value::Object(map) => {
            let entries: std::collections::HashMap<String, Cel> =
                map.iter().map(|(k, v)| (k.clone(), to_cel(v))).collect();
            Cel::Map(entries.into())
        }
    }
}

/// Every value at a rule's path in an object, with its JSON pointer.
fn instances<'v>(root: &'v Value, path: &[String]) -> Vec<(String, &'v Value)> {
    let mut current = vec![(String::new(), root)];
    for segment in path {
        let mut next = Vec::new();
        for (pointer, value) in current {
            match (segment.as_str(), value) {
                ("*", Value::Array(items)) => {
                    for (i, item) in items.iter().enumerate() {
                        next.push((format!("{pointer}/{i}"), item));
                    }
                }
                ("*", Value::Object(map)) => {
                    for (k, v) in map {
                        next.push((format!("{pointer}/{}", escape_pointer(k)), v));
                    }
                }
                (name, Value::Object(map)) => {
                    if let Some(v) = map.get(name) {
                        next.push((format!("{pointer}/{}", escape_pointer(name)), v));
                    }
                }
                _ => {}
            }
        }
        current = next;
    }
    // The API server does not run rules on absent or null fields.
    current.retain(|(_, v)| !v.is_null());
    current
}

/// `fieldPath` (`.spec.replicas`, `.items[0]`, `['a.b']`) as a JSON pointer suffix.
fn field_pointer(field_path: &str) -> String {
    let mut out = String::new();
    let mut rest = field_path;
    while !rest.is_empty() {
        if let Some(r) = rest.strip_prefix('.') {
            let end = r.find(['.', '[']).unwrap_or(r.len());
            out.push('/');
            out.push_str(&escape_pointer(&r[..end]));
            rest = &r[end..];
        } else if let Some(r) = rest.strip_prefix('[') {
            let end = r.find(']').unwrap_or(r.len());
            let key = r[..end].trim_matches(['\'', '"']);
            out.push('/');
            out.push_str(&escape_pointer(key));
            rest = r.get(end + 1..).unwrap_or("");
        } else {
            break;
        }
    }
    out
}

/// Runs the rules on one object: a failed rule is a problem at its field.
pub fn check(rules: &[Rule], resource: &Resource) -> Vec<Problem> {
    let mut out = Vec::new();
    if rules.is_empty() {
        return out;
    }
    let env = env();
    for rule in rules {
        for (pointer, value) in instances(&resource.value, &rule.path) {
            let most = budget::largest(value);
            let at = if pointer.is_empty() { "/" } else { &pointer };
            if let Some(why) = budget::over_budget(rule.program.expression(), most, at) {
                rule.warn_once(&why);
                continue;
            }
            let mut context = Context::with_env(env.clone());
            context.add_variable_from_value("self", to_cel(value));
            match rule.program.execute(&context) {
                Ok(Cel::Bool(true)) => {}
                Ok(Cel::Bool(false)) => {
                    // A messageExpression past the bound is not run either: `message` instead.
                    let message_fits = rule
                        .message_expression
                        .as_ref()
                        .is_none_or(|m| budget::over_budget(m.expression(), most, at).is_none());
                    out.push(if message_fits {
                        failure(rule, &context, &pointer, resource)
                    } else {
                        failure_with(rule, rule_message(rule, None), &pointer, resource)
                    })
                }
                Ok(other) => rule.warn_once(&format!("gives {other:?}, not a bool")),
                Err(e) => match failure_of(&e) {
                    // The API server fails the object when a rule errs: "no such key",
                    // a bad quantity, an empty list's min()...
                    Some(why) => out.push(failure_with(
                        rule,
                        format!("{why} evaluating rule: {}", rule_error_string(rule)),
                        &pointer,
                        resource,
                    )),
                    None => rule.warn_once(&format!("cannot be evaluated here: {e}")),
                },
            }
        }
    }
    out
}

/// Why the object fails when evaluating a rule errs; None for what this interpreter lacks
/// (an undeclared function, an overload it does not have), which is a warning instead.
fn failure_of(e: &ExecutionError) -> Option<String> {
    match e {
        ExecutionError::NoSuchKey(key) => Some(format!("no such key: {key}")),
        ExecutionError::FunctionError { message, .. } if regex::beyond_this_engine(message) => None,
        ExecutionError::FunctionError { message, .. } => Some(message.clone()),
        ExecutionError::DivisionByZero(_) => Some("division by zero".to_owned()),
        ExecutionError::RemainderByZero(_) => Some("modulus by zero".to_owned()),
        ExecutionError::Overflow(..) => Some("integer overflow".to_owned()),
        ExecutionError::IndexOutOfBounds(i) => Some(format!("index out of bounds: {i:?}")),
        _ => None,
    }
}

/// The API server's `ruleErrorString`: the message, else the rule.
fn rule_error_string(rule: &Rule) -> &str {
    match &rule.message {
        Some(m) if !m.trim().is_empty() => m.trim(),
        _ => rule.source.trim(),
    }
}

impl Rule {
    fn warn_once(&self, what: &str) {
        if !self.warned.swap(true, Ordering::Relaxed) {
            tracing::warn!(
                "{}: CEL rule {:?} {what}; it is not checked",
                self.owner,
                self.source
            );
        }
    }
}

fn rule_message(rule: &Rule, context: Option<&Context>) -> String {
    if let (Some(expression), Some(context)) = (&rule.message_expression, context) {
        if let Ok(Cel::String(s)) = expression.execute(context) {
            return s.to_string();
        }
    }
    match &rule.message {
        Some(m) if !m.is_empty() => m.trim().to_owned(),
        _ => format!("failed rule: {}", rule.source.trim()),
    }
}

fn failure(rule: &Rule, context: &Context, pointer: &str, resource: &Resource) -> Problem {
    failure_with(rule, rule_message(rule, Some(context)), pointer, resource)
}

fn failure_with(rule: &Rule, message: String, pointer: &str, resource: &Resource) -> Problem {
    let mut at = pointer.to_owned();
    if let Some(field) = &rule.field_path {
        at.push_str(&field_pointer(field));
    }
    let location = resource.locate(&at);
    let reason = match rule.reason.as_deref() {
        Some(r) if r != "FieldValueInvalid" => format!(" ({r})"),
        _ => String::new(),
    };
    Problem {
        path: at,
        msg: format!("{message}{reason}"),
        line: location.value.line,
        column: location.value.column,
        code: None,
    }
}

#[cfg(test)]
mod tests;
