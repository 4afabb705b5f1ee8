//! Kubernetes' semver library (1.33): `semver(s[, normalize])`, `isSemver(s[, normalize])`,
//! `major()`, `minor()`, `patch()`, `isGreaterThan`, `isLessThan`, `compareTo` and `==`, by
//! SemVer 2.0 precedence (build metadata ignored), with the `semver` crate's strict parser
//! standing in for blang/semver's `Parse`.

use std::cmp::Ordering;

use cel::common::types::{CelBool, CelInt, CelString};
use cel::{DeclarationError, Env, ExecutionError};

use super::env::{fail, opaque};

#[derive(Clone, Debug)]
pub(super) struct Semver(semver::Version);

impl PartialEq for Semver {
    fn eq(&self, other: &Self) -> bool {
        self.0.cmp_precedence(&other.0) == Ordering::Equal
    }
}

opaque!(Semver, SEMVER_TYPE, "kubernetes.Semver");

pub(super) fn register(env: &mut Env) -> Result<(), DeclarationError> {
    cel::add_overload!(env, fn semver: (CelString) -> Result<Semver>)?;
    cel::add_overload!(env, fn semver_normalize: (CelString, CelBool) -> Result<Semver>,
        name = "semver")?;
    cel::add_overload!(env, fn is_semver: (CelString) -> CelBool)?;
    cel::add_overload!(env, fn is_semver_normalize: (CelString, CelBool) -> CelBool,
        name = "isSemver")?;
    cel::add_member_overload!(env, fn major: (Semver) -> CelInt)?;
    cel::add_member_overload!(env, fn minor: (Semver) -> CelInt)?;
    cel::add_member_overload!(env, fn patch: (Semver) -> CelInt)?;
    cel::add_member_overload!(env, fn is_greater_than: (Semver, Semver) -> CelBool)?;
    cel::add_member_overload!(env, fn is_less_than: (Semver, Semver) -> CelBool)?;
    cel::add_member_overload!(env, fn compare_to: (Semver, Semver) -> CelInt)?;
    Ok(())
}

fn parse(s: &str, normalize: bool) -> Result<semver::Version, String> {
    if !normalize {
        return semver::Version::parse(s).map_err(|e| e.to_string());
    }
    // The API server's normalisation: no `v`, no leading zeros, missing minor/patch as 0.
    let s = s.strip_prefix('v').unwrap_or(s);
    let mut parts: Vec<String> = s.splitn(3, '.').map(str::to_owned).collect();
    for p in &mut parts {
        if p.len() > 1 {
            let trimmed = p.trim_start_matches('0');
            *p = if trimmed.is_empty() || !trimmed.starts_with(|c: char| c.is_ascii_digit()) {
                format!("0{trimmed}")
            } else {
                trimmed.to_owned()
            };
        }
    }
    if parts.len() < 3 {
        if parts.last().is_some_and(|p| p.contains(['+', '-'])) {
            return Err("short version cannot contain PreRelease/Build meta data".to_owned());
        }
        parts.resize(3, "0".to_owned());
    }
    semver::Version::parse(&parts.join(".")).map_err(|e| e.to_string())
}

fn semver(s: &CelString<'_>) -> Result<Semver, ExecutionError> {
    parse(s.inner(), false)
        .map(Semver)
        .map_err(|e| fail("semver", e))
}

fn semver_normalize(s: &CelString<'_>, normalize: &CelBool) -> Result<Semver, ExecutionError> {
    parse(s.inner(), *normalize.inner())
        .map(Semver)
        .map_err(|e| fail("semver", e))
}

fn is_semver(s: &CelString<'_>) -> CelBool {
    parse(s.inner(), false).is_ok().into()
}

fn is_semver_normalize(s: &CelString<'_>, normalize: &CelBool) -> CelBool {
    parse(s.inner(), *normalize.inner()).is_ok().into()
}

fn part(n: u64) -> CelInt {
    i64::try_from(n).unwrap_or(i64::MAX).into()
}

fn major(v: &Semver) -> CelInt {
    part(v.0.major)
}

fn minor(v: &Semver) -> CelInt {
    part(v.0.minor)
}

fn patch(v: &Semver) -> CelInt {
    part(v.0.patch)
}

fn is_greater_than(a: &Semver, b: &Semver) -> CelBool {
    (a.0.cmp_precedence(&b.0) == Ordering::Greater).into()
}

fn is_less_than(a: &Semver, b: &Semver) -> CelBool {
    (a.0.cmp_precedence(&b.0) == Ordering::Less).into()
}

fn compare_to(a: &Semver, b: &Semver) -> CelInt {
    match a.0.cmp_precedence(&b.0) {
        Ordering::Less => -1,
        Ordering::Equal => 0,
        Ordering::Greater => 1,
    }
    .into()
}
