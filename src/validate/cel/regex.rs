//! Regular expressions as the API server evaluates them: CEL's `matches` and Kubernetes'
//! regex library, `<string>.find(re)` and `<string>.findAll(re[, n])` (Go's `MatchString`,
//! `FindString` and `FindAllString`). Patterns are read as Go reads them ([`re2`]), compiled
//! once per run and kept (rules are few, their patterns literal), not once per object.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use cel::common::types::{CelBool, CelInt, CelList, CelString, INT_TYPE, STRING_TYPE};
use cel::common::value::{CowVal, Val};
use cel::{DeclarationError, Env, ExecutionError};
use regex::Regex;

use super::env::{Args, Out, fail, string, take};
use super::re2;

/// More distinct patterns than this and the cache is cleared: patterns built from data. A
/// compiled pattern with a repeated Unicode class (`\pL{100}`) can take megabytes, so few
/// are kept.
const CACHE_LIMIT: usize = 32;

/// How a pattern Go takes but this engine cannot compile (past its nesting or size limits)
/// fails: the rule then gets a warning, it does not fail the object.
const BEYOND_THIS_ENGINE: &str = "pattern past the limits of kbundle's regex engine: ";

/// Whether a failure of a rule is a pattern kbundle cannot compile, not one Go refuses.
pub(super) fn beyond_this_engine(message: &str) -> bool {
    message.starts_with(BEYOND_THIS_ENGINE)
}

pub(super) fn register(env: &mut Env) -> Result<(), DeclarationError> {
    // CEL's own `matches`; the cel crate's (its `regex` feature, left off) reads patterns
    // as the regex crate does.
    env.add_overload(
        "matches",
        "matches",
        vec![STRING_TYPE, STRING_TYPE],
        matches,
    )?;
    env.add_member_overload(
        "matches",
        "matches_string",
        STRING_TYPE,
        vec![STRING_TYPE],
        matches,
    )?;
    env.add_member_overload(
        "find",
        "string_find_string",
        STRING_TYPE,
        vec![STRING_TYPE],
        find,
    )?;
    env.add_member_overload(
        "findAll",
        "string_find_all_string",
        STRING_TYPE,
        vec![STRING_TYPE],
        find_all,
    )?;
    env.add_member_overload(
        "findAll",
        "string_find_all_string_int",
        STRING_TYPE,
        vec![STRING_TYPE, INT_TYPE],
        find_all,
    )?;
    Ok(())
}

/// The compiled pattern, or the failure Go gives `function` for it.
pub(super) fn compiled(pattern: &str, function: &str) -> Result<Arc<Regex>, ExecutionError> {
    static CACHE: OnceLock<Mutex<HashMap<String, Arc<Regex>>>> = OnceLock::new();
    let cache = CACHE.get_or_init(Mutex::default);
    if let Some(re) = cache.lock().ok().and_then(|c| c.get(pattern).cloned()) {
        return Ok(re);
    }
    let translated = re2::translate(pattern).map_err(|e| match function {
        // cel-go returns Go's error; Kubernetes' library says more.
        "matches" => fail(function, e),
        _ => fail(function, format!("Illegal regex: {e}")),
    })?;
    let re = Arc::new(Regex::new(&translated).map_err(|e| {
        let why = match e {
            regex::Error::CompiledTooBig(limit) => format!("compiles past {limit} bytes"),
            other => other
                .to_string()
                .lines()
                .last()
                .unwrap_or_default()
                .to_owned(),
        };
        fail(function, format!("{BEYOND_THIS_ENGINE}{why}"))
    })?);
    if let Ok(mut c) = cache.lock() {
        if c.len() >= CACHE_LIMIT {
            c.clear();
        }
        c.insert(pattern.to_owned(), re.clone());
    }
    Ok(re)
}

fn matches<'b, 'v>(args: Args<'b, 'v>) -> Out<'b, 'v> {
    let [s, re] = take(args)?;
    let re = compiled(string(re.as_ref(), "matches")?, "matches")?;
    Ok(CowVal::owned(CelBool::from(
        re.is_match(string(s.as_ref(), "matches")?),
    )))
}

fn find<'b, 'v>(args: Args<'b, 'v>) -> Out<'b, 'v> {
    let [s, re] = take(args)?;
    let re = compiled(string(re.as_ref(), "find")?, "find")?;
    let found = re
        .find(string(s.as_ref(), "find")?)
        .map_or(String::new(), |m| m.as_str().to_owned());
    Ok(CowVal::owned(CelString::from(found)))
}

fn find_all<'b, 'v>(args: Args<'b, 'v>) -> Out<'b, 'v> {
    let n = args.len();
    let (s, re, limit) = match n {
        2 => {
            let [s, re] = take(args)?;
            (s, re, -1)
        }
        _ => {
            let [s, re, limit] = take(args)?;
            let limit = limit
                .downcast_ref::<CelInt>()
                .map(|i| *i.inner())
                .unwrap_or(-1);
            (s, re, limit)
        }
    };
    let re = compiled(string(re.as_ref(), "findAll")?, "findAll")?;
    let text = string(s.as_ref(), "findAll")?;
    // Go: a negative limit is all matches, zero none.
    let take_n = usize::try_from(limit).unwrap_or(usize::MAX);
    let found: Vec<Box<dyn Val + 'v>> = re
        .find_iter(text)
        .take(take_n)
        .map(|m| Box::new(CelString::from(m.as_str().to_owned())) as Box<dyn Val + 'v>)
        .collect();
    Ok(CowVal::owned(CelList::from(found)))
}
