//! The CEL environment of `x-kubernetes-validations`, as the API server builds it: CEL's
//! standard library with optional types, cel-go's strings (v2), lists and sets extensions,
//! and Kubernetes' own libraries (lists, regex, quantity, url, ip, cidr, format), plus
//! `duration()` and semver. What is left out is named in [`UNSUPPORTED`], so a rule calling it is a
//! warning when compiled, not a silent pass.

use std::sync::{Arc, OnceLock};

use cel::common::types::CelString;
use cel::common::value::{CowVal, Val};
use cel::{Env, ExecutionError};

/// Arguments and result of a hand-registered overload.
pub(super) type Args<'b, 'v> = Vec<CowVal<'b, 'v>>;
pub(super) type Out<'b, 'v> = Result<CowVal<'b, 'v>, ExecutionError>;

/// Functions of the API server's CEL environment that kbundle does not evaluate.
pub(super) const UNSUPPORTED: &[&str] = &[
    // timestamps (the cel crate's chrono feature is off)
    "timestamp",
    "getFullYear",
    "getMonth",
    "getDayOfYear",
    "getDayOfMonth",
    "getDate",
    "getDayOfWeek",
    "getHours",
    "getMinutes",
    "getSeconds",
    "getMilliseconds",
    // two-variable comprehensions (Kubernetes 1.32): the one-variable forms are macros and
    // never show as calls, so a call of these names is the two-variable form
    "all",
    "exists",
    "existsOne",
    "exists_one",
    "transformList",
    "transformMap",
    "transformMapEntry",
    // authorizer and admission-only libraries: never available to CRD rules either
    "authorizer",
    "serviceAccount",
    "jsonpatch",
];

pub(super) fn env() -> Arc<Env> {
    static ENV: OnceLock<Arc<Env>> = OnceLock::new();
    ENV.get_or_init(|| {
        let mut env = Env::stdlib();
        let registered = [
            cel::extensions::strings as fn(&mut Env) -> Result<(), cel::DeclarationError>,
            cel::extensions::lists,
            super::lists::register,
            super::regex::register,
            super::quantity::register,
            super::url::register,
            super::net::register,
            super::format::register,
            super::duration::register,
            super::semver::register,
        ];
        for library in registered {
            if let Err(e) = library(&mut env) {
                // A clash between two libraries is a bug here; the functions it left out
                // then show as unsupported when a rule calls them.
                tracing::debug!("CEL library not fully added: {e:?}");
            }
        }
        Arc::new(env)
    })
    .clone()
}

/// `value` as a string, or the overload error cel-go gives.
pub(super) fn string<'a>(value: &'a dyn Val, function: &str) -> Result<&'a str, ExecutionError> {
    value
        .downcast_ref::<CelString>()
        .map(|s| s.inner())
        .ok_or_else(|| no_overload(function, value))
}

pub(super) fn no_overload(function: &str, value: &dyn Val) -> ExecutionError {
    ExecutionError::no_such_overload(function, vec![value.get_type().name().to_owned()])
}

/// A failure of a library function: the rule fails with it, as in the API server.
pub(super) fn fail(function: &str, message: impl ToString) -> ExecutionError {
    ExecutionError::function_error(function, message)
}

/// The arguments of a call, exactly `N` of them.
pub(super) fn take<'b, 'v, const N: usize>(
    args: Args<'b, 'v>,
) -> Result<[CowVal<'b, 'v>; N], ExecutionError> {
    let n = args.len();
    args.try_into()
        .map_err(|_| ExecutionError::invalid_argument_count(N, n))
}

/// Makes an application type a CEL value: its type, equality (`PartialEq`), copies and
/// downcasts; `$extra` adds capabilities (a comparer, an adder).
macro_rules! opaque {
    ($ty:ty, $static:ident, $name:literal $(, { $($extra:tt)* })?) => {
        pub(super) static $static: cel::common::types::Type =
            cel::common::types::Type::new_unspecified_type($name);
        impl cel::common::value::Val for $ty {
            fn get_type(&self) -> &cel::common::types::Type {
                &$static
            }
            fn cel_type() -> &'static cel::common::types::Type {
                &$static
            }
            fn equals(&self, other: &dyn cel::common::value::Val) -> bool {
                other.downcast_ref::<$ty>().is_some_and(|o| o == self)
            }
            fn clone_as_boxed<'v>(&self) -> Box<dyn cel::common::value::Val + 'v>
            where
                Self: 'v,
            {
                Box::new(self.clone())
            }
            fn as_any(&self) -> Option<&dyn std::any::Any> {
                Some(self)
            }
            $($($extra)*)?
        }
        impl cel::common::value::StaticVal for $ty {}
    };
}
pub(super) use opaque;
