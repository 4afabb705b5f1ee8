//! `duration(string)`: CEL's duration, parsed as Go's `time.ParseDuration` (`1h30m`,
//! `500ms`, `-1.5s`), compared, added and summed. The `cel` crate's own duration needs its
//! `chrono` feature and the time-zone database with it; rules on CRDs (Gateway API's
//! timeouts) only parse and compare.

use std::cmp::Ordering;

use cel::common::traits::{Adder, Comparer, Subtractor};
use cel::common::types::CelString;
use cel::common::value::{CowVal, Val};
use cel::{DeclarationError, Env, ExecutionError};

use super::env::{fail, opaque};

/// Nanoseconds, as Go's time.Duration.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(super) struct Duration(i64);

opaque!(Duration, DURATION_TYPE, "google.protobuf.Duration", {
    fn as_comparer(&self) -> Option<&dyn Comparer> {
        Some(self)
    }
    fn as_adder<'b, 'v>(&'b self) -> Option<&'b (dyn Adder + 'v)>
    where
        Self: 'v,
    {
        Some(self)
    }
    fn as_subtractor<'b, 'v>(&'b self) -> Option<&'b (dyn Subtractor + 'v)>
    where
        Self: 'v,
    {
        Some(self)
    }
});

impl Comparer for Duration {
    fn compare(&self, rhs: &dyn Val) -> Result<Ordering, ExecutionError> {
        rhs.downcast_ref::<Duration>()
            .map(|o| self.cmp(o))
            .ok_or_else(|| {
                ExecutionError::no_such_overload("_<_", vec![rhs.get_type().name().to_owned()])
            })
    }
}

fn combine<'b, 'v>(
    a: &Duration,
    rhs: &dyn Val,
    sign: i64,
    op: &'static str,
) -> Result<CowVal<'b, 'v>, ExecutionError> {
    let Some(b) = rhs.downcast_ref::<Duration>() else {
        return Err(ExecutionError::no_such_overload(
            op,
            vec![rhs.get_type().name().to_owned()],
        ));
    };
    b.0.checked_mul(sign)
        .and_then(|b| a.0.checked_add(b))
        .map(|n| CowVal::owned(Duration(n)))
        .ok_or_else(|| fail(op, "integer overflow"))
}

impl Adder for Duration {
    fn add<'b, 'v>(&'b self, rhs: &(dyn Val + 'v)) -> Result<CowVal<'b, 'v>, ExecutionError>
    where
        Self: 'v,
    {
        combine(self, rhs, 1, "_+_")
    }
}

impl Subtractor for Duration {
    fn sub<'b, 'v>(&'b self, rhs: &(dyn Val + 'v)) -> Result<CowVal<'b, 'v>, ExecutionError>
    where
        Self: 'v,
    {
        combine(self, rhs, -1, "_-_")
    }
}

pub(super) fn register(env: &mut Env) -> Result<(), DeclarationError> {
    cel::add_overload!(env, fn duration: (CelString) -> Result<Duration>)?;
    Ok(())
}

fn duration(s: &CelString<'_>) -> Result<Duration, ExecutionError> {
    parse(s.inner())
        .map(Duration)
        .map_err(|e| fail("duration", e))
}

/// Go's `time.ParseDuration`, in nanoseconds.
pub(super) fn parse(s: &str) -> Result<i64, String> {
    let invalid = || format!("time: invalid duration {s:?}");
    let (negative, mut rest) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    if rest == "0" {
        return Ok(0);
    }
    if rest.is_empty() {
        return Err(invalid());
    }
    let mut total: u128 = 0;
    while !rest.is_empty() {
        let int_len = rest.bytes().take_while(u8::is_ascii_digit).count();
        let (int, after) = rest.split_at(int_len);
        let (frac, after) = match after.strip_prefix('.') {
            Some(a) => {
                let n = a.bytes().take_while(u8::is_ascii_digit).count();
                a.split_at(n)
            }
            None => ("", after),
        };
        if int.is_empty() && frac.is_empty() {
            return Err(invalid());
        }
        let unit_len = after
            .find(|c: char| c == '.' || c.is_ascii_digit())
            .unwrap_or(after.len());
        let (unit, next) = after.split_at(unit_len);
        let scale: u128 = match unit {
            "ns" => 1,
            "us" | "µs" | "μs" => 1_000,
            "ms" => 1_000_000,
            "s" => 1_000_000_000,
            "m" => 60_000_000_000,
            "h" => 3_600_000_000_000,
            "" => return Err(format!("time: missing unit in duration {s:?}")),
            other => return Err(format!("time: unknown unit {other:?} in duration {s:?}")),
        };
        let whole: u128 = if int.is_empty() {
            0
        } else {
            int.parse().map_err(|_| invalid())?
        };
        let mut value = whole.checked_mul(scale).ok_or_else(invalid)?;
        // The fraction, to the nanosecond, truncated as Go does.
        let mut unit_part = scale;
        for d in frac.bytes().take(30) {
            unit_part /= 10;
            value += u128::from(d - b'0') * unit_part;
        }
        total = total.checked_add(value).ok_or_else(invalid)?;
        if total > i64::MAX as u128 + u128::from(negative) {
            return Err(invalid());
        }
        rest = next;
    }
    let total = total as i128;
    Ok((if negative { -total } else { total }) as i64)
}
