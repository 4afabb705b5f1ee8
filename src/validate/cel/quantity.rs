//! Kubernetes' quantity library: `quantity()`, `isQuantity()` and the methods of
//! `kubernetes.Quantity`, following `resource.ParseQuantity` of k8s.io/apimachinery.
//!
//! Written here: no maintained crate parses Kubernetes quantities with apimachinery's two
//! representations, and those show through CEL (`isInteger()` is true only for a quantity
//! held as a scaled int64, so `quantity('1.0').isInteger()` is false, as on the API server).

use std::cmp::Ordering;

use cel::common::types::{CelBool, CelDouble, CelInt, CelString};
use cel::{DeclarationError, Env, ExecutionError};
use num_bigint::BigInt;
use num_traits::{One, Signed, ToPrimitive, Zero};

use super::env::{fail, opaque};

/// apimachinery's errors.
const FORMAT_WRONG: &str =
    "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'";
const SUFFIX: &str = "unable to parse quantity's suffix";
/// Digits of an int64 that always fit (`maxInt64Factors`).
const INT64_DIGITS: i64 = 18;
/// More digits than this are refused (`isQuantity` false): a hostile string would make the
/// big-integer parse slow; Go takes them, no real quantity has them.
const MAX_DIGITS: usize = 4096;
/// Powers of ten beyond this are not expanded (a hostile `1e999999999`): such values still
/// parse; comparing or adding them is refused as unsupported here.
const MAX_ALIGN: i64 = 4096;

/// `value × 10^exp`, held as apimachinery holds it.
#[derive(Clone, Debug)]
pub(super) enum Quantity {
    /// The fast path: a scaled int64, `exp >= -9`.
    Int { value: i64, exp: i32 },
    /// inf.Dec: unbounded, rounded up to nano when parsed.
    Dec { unscaled: BigInt, exp: i64 },
}

impl PartialEq for Quantity {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Some(Ordering::Equal)
    }
}

opaque!(Quantity, QUANTITY_TYPE, "kubernetes.Quantity");

pub(super) fn register(env: &mut Env) -> Result<(), DeclarationError> {
    cel::add_overload!(env, fn quantity: (CelString) -> Result<Quantity>)?;
    cel::add_overload!(env, fn is_quantity: (CelString) -> CelBool)?;
    // Global, as the API server declares it: `sign(q)`; `q.sign()` does not compile there.
    cel::add_overload!(env, fn sign: (Quantity) -> CelInt)?;
    cel::add_member_overload!(env, fn is_integer: (Quantity) -> CelBool)?;
    cel::add_member_overload!(env, fn as_integer: (Quantity) -> Result<CelInt>)?;
    cel::add_member_overload!(env, fn as_approximate_float: (Quantity) -> CelDouble)?;
    cel::add_member_overload!(env, fn is_greater_than: (Quantity, Quantity) -> Result<CelBool>)?;
    cel::add_member_overload!(env, fn is_less_than: (Quantity, Quantity) -> Result<CelBool>)?;
    cel::add_member_overload!(env, fn compare_to: (Quantity, Quantity) -> Result<CelInt>)?;
    cel::add_member_overload!(env, fn add: (Quantity, Quantity) -> Result<Quantity>)?;
    cel::add_member_overload!(env, fn add_int: (Quantity, CelInt) -> Result<Quantity>, name = "add")?;
    cel::add_member_overload!(env, fn sub: (Quantity, Quantity) -> Result<Quantity>)?;
    cel::add_member_overload!(env, fn sub_int: (Quantity, CelInt) -> Result<Quantity>, name = "sub")?;
    Ok(())
}

fn quantity(s: &CelString<'_>) -> Result<Quantity, ExecutionError> {
    parse(s.inner()).map_err(|e| fail("quantity", e))
}

fn is_quantity(s: &CelString<'_>) -> CelBool {
    parse(s.inner()).is_ok().into()
}

fn sign(q: &Quantity) -> CelInt {
    let s = match q {
        Quantity::Int { value, .. } => value.signum(),
        Quantity::Dec { unscaled, .. } => match unscaled.sign() {
            num_bigint::Sign::Minus => -1,
            num_bigint::Sign::NoSign => 0,
            num_bigint::Sign::Plus => 1,
        },
    };
    s.into()
}

fn as_i64(q: &Quantity) -> Option<i64> {
    match *q {
        Quantity::Int { value, exp: 0 } => Some(value),
        Quantity::Int { value, exp } if exp > 0 => scale_i64(value, exp as u32),
        _ => None,
    }
}

fn scale_i64(value: i64, by: u32) -> Option<i64> {
    10i64.checked_pow(by).and_then(|p| value.checked_mul(p))
}

fn is_integer(q: &Quantity) -> CelBool {
    as_i64(q).is_some().into()
}

fn as_integer(q: &Quantity) -> Result<CelInt, ExecutionError> {
    as_i64(q)
        .map(CelInt::from)
        .ok_or_else(|| fail("asInteger", "cannot convert value to integer"))
}

fn as_approximate_float(q: &Quantity) -> CelDouble {
    let (base, exp) = match q {
        Quantity::Int { value, exp } => (*value as f64, i64::from(*exp)),
        Quantity::Dec { unscaled, exp } => (unscaled.to_f64().unwrap_or(f64::NAN), *exp),
    };
    if exp == 0 {
        return base.into();
    }
    // Go's math.Pow10: exact powers, 0 below 1e-323, +Inf above 1e308.
    let pow = format!("1e{exp}").parse::<f64>().unwrap_or(f64::INFINITY);
    (base * pow).into()
}

fn ordering(a: &Quantity, b: &Quantity) -> Result<Ordering, ExecutionError> {
    a.cmp(b)
        .ok_or_else(|| ExecutionError::InternalError("quantity exponent too large".into()))
}

fn is_greater_than(a: &Quantity, b: &Quantity) -> Result<CelBool, ExecutionError> {
    Ok((ordering(a, b)? == Ordering::Greater).into())
}

fn is_less_than(a: &Quantity, b: &Quantity) -> Result<CelBool, ExecutionError> {
    Ok((ordering(a, b)? == Ordering::Less).into())
}

fn compare_to(a: &Quantity, b: &Quantity) -> Result<CelInt, ExecutionError> {
    Ok(match ordering(a, b)? {
        Ordering::Less => -1,
        Ordering::Equal => 0,
        Ordering::Greater => 1,
    }
    .into())
}

fn add(a: &Quantity, b: &Quantity) -> Result<Quantity, ExecutionError> {
    a.plus(b, false)
}

fn add_int(a: &Quantity, b: &CelInt) -> Result<Quantity, ExecutionError> {
    a.plus(
        &Quantity::Int {
            value: *b.inner(),
            exp: 0,
        },
        false,
    )
}

fn sub(a: &Quantity, b: &Quantity) -> Result<Quantity, ExecutionError> {
    a.plus(b, true)
}

fn sub_int(a: &Quantity, b: &CelInt) -> Result<Quantity, ExecutionError> {
    a.plus(
        &Quantity::Int {
            value: *b.inner(),
            exp: 0,
        },
        true,
    )
}

impl Quantity {
    fn as_dec(&self) -> (BigInt, i64) {
        match self {
            Quantity::Int { value, exp } => (BigInt::from(*value), i64::from(*exp)),
            Quantity::Dec { unscaled, exp } => (unscaled.clone(), *exp),
        }
    }

    /// Both as unscaled integers at the smaller exponent, or None past [`MAX_ALIGN`].
    fn aligned(&self, other: &Self) -> Option<(BigInt, BigInt, i64)> {
        let (a, ea) = self.as_dec();
        let (b, eb) = other.as_dec();
        let e = ea.min(eb);
        Some((a * pow10(ea - e)?, b * pow10(eb - e)?, e))
    }

    fn cmp(&self, other: &Self) -> Option<Ordering> {
        let (a, ea) = self.as_dec();
        let (b, eb) = other.as_dec();
        let (sa, sb) = (a.signum(), b.signum());
        if sa != sb || a.is_zero() {
            return Some(sa.cmp(&sb));
        }
        // Same sign, both non-zero: compare magnitudes by order first, so huge exponents
        // need no expansion unless the orders meet.
        let order = |m: &BigInt, e: i64| m.abs().to_string().len() as i64 + e;
        let (oa, ob) = (order(&a, ea), order(&b, eb));
        let magnitude = if oa != ob {
            oa.cmp(&ob)
        } else {
            let (x, y, _) = self.aligned(other)?;
            x.abs().cmp(&y.abs())
        };
        Some(if sa.is_negative() {
            magnitude.reverse()
        } else {
            magnitude
        })
    }

    fn plus(&self, other: &Self, negate: bool) -> Result<Quantity, ExecutionError> {
        if let (Quantity::Int { value: a, exp: ea }, Quantity::Int { value: b, exp: eb }) =
            (self, other)
        {
            let b = if negate { b.checked_neg() } else { Some(*b) };
            if let Some(b) = b {
                if let Some(q) = int_add(*a, *ea, b, *eb) {
                    return Ok(q);
                }
            }
        }
        let (a, b, exp) = self
            .aligned(other)
            .ok_or_else(|| ExecutionError::InternalError("quantity exponent too large".into()))?;
        let unscaled = if negate { a - b } else { a + b };
        Ok(Quantity::Dec { unscaled, exp })
    }
}

/// int64Amount.Add: at the smaller scale, or None on overflow.
fn int_add(a: i64, ea: i32, b: i64, eb: i32) -> Option<Quantity> {
    if b == 0 {
        return Some(Quantity::Int { value: a, exp: ea });
    }
    if a == 0 {
        return Some(Quantity::Int { value: b, exp: eb });
    }
    let (a, b, exp) = match ea.cmp(&eb) {
        Ordering::Equal => (a, b, ea),
        Ordering::Greater => (scale_i64(a, (ea - eb) as u32)?, b, eb),
        Ordering::Less => (a, scale_i64(b, (eb - ea) as u32)?, ea),
    };
    Some(Quantity::Int {
        value: a.checked_add(b)?,
        exp,
    })
}

fn pow10(n: i64) -> Option<BigInt> {
    if !(0..=MAX_ALIGN).contains(&n) {
        return None;
    }
    Some(num_traits::pow(BigInt::from(10), n as usize))
}

/// `resource.ParseQuantity`.
pub(super) fn parse(s: &str) -> Result<Quantity, &'static str> {
    if s.is_empty() {
        return Err(FORMAT_WRONG);
    }
    let b = s.as_bytes();
    let mut pos = 0;
    let negative = match b[0] {
        b'-' => {
            pos = 1;
            true
        }
        b'+' => {
            pos = 1;
            false
        }
        _ => false,
    };
    let digits_from =
        |from: usize| from + b[from..].iter().take_while(|c| c.is_ascii_digit()).count();
    // Leading zeros are dropped; nothing but zeros is "0".
    while pos < b.len() && b[pos] == b'0' {
        pos += 1;
    }
    let num_end = digits_from(pos);
    let mut num = &s[pos..num_end];
    if num.is_empty() {
        num = "0";
    }
    pos = num_end;
    let mut denom = "";
    if pos < b.len() && b[pos] == b'.' {
        let end = digits_from(pos + 1);
        denom = &s[pos + 1..end];
        pos = end;
    }
    let suffix_start = pos;
    while pos < b.len() && b"eEinumkKMGTP".contains(&b[pos]) {
        pos += 1;
    }
    if pos < b.len() && (b[pos] == b'-' || b[pos] == b'+') {
        pos += 1;
    }
    if digits_from(pos) != b.len() {
        return Err(FORMAT_WRONG);
    }
    let (base, exponent) = suffix(&s[suffix_start..]).ok_or(SUFFIX)?;
    if num.len() + denom.len() > MAX_DIGITS {
        return Err("quantity has more than 4096 digits, more than kbundle evaluates");
    }

    // The fast path: a scaled int64 when the digits surely fit.
    let (precision, mut scale, mantissa) = if base == 10 {
        (
            INT64_DIGITS - (num.len() + denom.len()) as i64,
            exponent,
            1i64,
        )
    } else if exponent >= 0 && denom.is_empty() {
        let p = 15 - num.len() as i64 - (exponent as f32 * 3.0 / 10.0) as i64 - 1;
        (p, 0, 1i64 << exponent)
    } else {
        (-1, 0, 1)
    };
    if precision >= 0 {
        scale -= denom.len() as i32;
        if scale >= -9 {
            let value: i64 = format!("{num}{denom}").parse().map_err(|_| FORMAT_WRONG)?;
            if let Some(v) = value.checked_mul(mantissa) {
                return Ok(Quantity::Int {
                    value: if negative { -v } else { v },
                    exp: scale,
                });
            }
        }
    }

    // inf.Dec: exact, then rounded up (away from zero) to nano, then at scale nano.
    let digits = format!("{num}{denom}");
    let mut unscaled: BigInt = digits.parse().map_err(|_| FORMAT_WRONG)?;
    let mut exp = -(denom.len() as i64);
    if base == 10 {
        exp += i64::from(exponent);
    } else {
        unscaled *= BigInt::one() << exponent as usize;
    }
    if !unscaled.is_zero() {
        if exp < -9 {
            let drop = pow10(-9 - exp).ok_or(FORMAT_WRONG)?;
            let (q, r) = (&unscaled / &drop, &unscaled % &drop);
            unscaled = if r.is_zero() { q } else { q + 1 };
            exp = -9;
        } else if exp - (-9) <= MAX_ALIGN {
            unscaled *= pow10(exp + 9).unwrap_or_else(BigInt::one);
            exp = -9;
        }
    }
    if base == 2 {
        let max = BigInt::from(i64::MAX) * pow10(exp.abs()).unwrap_or_else(BigInt::one);
        if exp == -9 && unscaled > max {
            unscaled = max;
        }
    }
    if negative {
        unscaled = -unscaled;
    }
    Ok(Quantity::Dec { unscaled, exp })
}

/// The suffix as base and exponent: `Ki` is (2, 10), `k` (10, 3), `e-3` (10, -3).
fn suffix(s: &str) -> Option<(u32, i32)> {
    Some(match s {
        "" => (10, 0),
        "n" => (10, -9),
        "u" => (10, -6),
        "m" => (10, -3),
        "k" => (10, 3),
        "M" => (10, 6),
        "G" => (10, 9),
        "T" => (10, 12),
        "P" => (10, 15),
        "E" => (10, 18),
        "Ki" => (2, 10),
        "Mi" => (2, 20),
        "Gi" => (2, 30),
        "Ti" => (2, 40),
        "Pi" => (2, 50),
        "Ei" => (2, 60),
        _ => {
            let rest = s.strip_prefix(['e', 'E'])?;
            // Go parses an int64 and keeps its low 32 bits.
            (10, rest.parse::<i64>().ok()? as i32)
        }
    })
}
