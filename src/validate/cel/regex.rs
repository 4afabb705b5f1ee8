//! Kubernetes' regex library: `<string>.find(re)` and `<string>.findAll(re[, n])`, Go's
//! `FindString`/`FindAllString`. Patterns are compiled once per run and kept (rules are few,
//! their patterns literal), not once per object.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use cel::common::types::{CelInt, CelList, CelString, INT_TYPE, STRING_TYPE};
use cel::common::value::{CowVal, Val};
use cel::{DeclarationError, Env, ExecutionError};
use regex::Regex;

use super::env::{Args, Out, fail, string, take};

/// More distinct patterns than this and the cache is cleared: patterns built from data. A
/// compiled Unicode pattern can take megabytes (`\w{100}`: 7 MB), so few are kept.
const CACHE_LIMIT: usize = 32;

pub(super) fn register(env: &mut Env) -> Result<(), DeclarationError> {
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

/// The compiled pattern, or Go's "Illegal regex" failure.
pub(super) fn compiled(pattern: &str, function: &str) -> Result<Arc<Regex>, ExecutionError> {
    static CACHE: OnceLock<Mutex<HashMap<String, Arc<Regex>>>> = OnceLock::new();
    let cache = CACHE.get_or_init(Mutex::default);
    if let Some(re) = cache.lock().ok().and_then(|c| c.get(pattern).cloned()) {
        return Ok(re);
    }
    let re =
        Arc::new(Regex::new(pattern).map_err(|e| fail(function, format!("Illegal regex: {e}")))?);
    if let Ok(mut c) = cache.lock() {
        if c.len() >= CACHE_LIMIT {
            c.clear();
        }
        c.insert(pattern.to_owned(), re.clone());
    }
    Ok(re)
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
