//! Kubernetes' lists library (`isSorted`, `sum`, `min`, `max`, `indexOf`, `lastIndexOf`,
//! `includes`) and cel-go's sets extension (`sets.contains`, `sets.equivalent`,
//! `sets.intersects`), as the API server registers them.

use std::cmp::Ordering;

use cel::common::types::{CelBool, CelInt, DYN_TYPE, LIST_TYPE};
use cel::common::value::{CowVal, Val};
use cel::{DeclarationError, Env, ExecutionError};

use super::env::{Args, Out, fail, no_overload, take};

pub(super) fn register(env: &mut Env) -> Result<(), DeclarationError> {
    env.add_member_overload("isSorted", "list_is_sorted", LIST_TYPE, vec![], is_sorted)?;
    env.add_member_overload("sum", "list_sum", LIST_TYPE, vec![], sum)?;
    env.add_member_overload("min", "list_min", LIST_TYPE, vec![], min)?;
    env.add_member_overload("max", "list_max", LIST_TYPE, vec![], max)?;
    env.add_member_overload(
        "indexOf",
        "list_index_of",
        LIST_TYPE,
        vec![DYN_TYPE],
        index_of,
    )?;
    env.add_member_overload(
        "lastIndexOf",
        "list_last_index_of",
        LIST_TYPE,
        vec![DYN_TYPE],
        last_index_of,
    )?;
    env.add_member_overload(
        "includes",
        "dyn_includes",
        DYN_TYPE,
        vec![DYN_TYPE],
        includes,
    )?;
    for (name, op) in [
        (
            "sets.contains",
            sets_contains as cel::common::functions::Function,
        ),
        ("sets.equivalent", sets_equivalent),
        ("sets.intersects", sets_intersects),
    ] {
        env.add_overload(name, name, vec![LIST_TYPE, LIST_TYPE], op)?;
    }
    Ok(())
}

/// The elements of a list, borrowed.
pub(super) fn elements<'b, 'v>(
    list: &'b (dyn Val + 'v),
    function: &str,
) -> Result<Vec<&'b (dyn Val + 'v)>, ExecutionError> {
    let iterable = list
        .as_iterable()
        .ok_or_else(|| no_overload(function, list))?;
    let mut items = iterable.iter();
    let mut out = Vec::new();
    while let Some(item) = items.next() {
        out.push(item);
    }
    Ok(out)
}

fn compare(a: &dyn Val, b: &dyn Val, function: &str) -> Result<Ordering, ExecutionError> {
    a.as_comparer()
        .ok_or_else(|| no_overload(function, a))?
        .compare(b)
}

fn is_sorted<'b, 'v>(args: Args<'b, 'v>) -> Out<'b, 'v> {
    let [list] = take(args)?;
    let items = elements(list.as_ref(), "isSorted")?;
    for pair in items.windows(2) {
        if compare(pair[0], pair[1], "isSorted")? == Ordering::Greater {
            return Ok(CowVal::owned(CelBool::from(false)));
        }
    }
    Ok(CowVal::owned(CelBool::from(true)))
}

fn sum<'b, 'v>(args: Args<'b, 'v>) -> Out<'b, 'v> {
    let [list] = take(args)?;
    let items = elements(list.as_ref(), "sum")?;
    let Some((first, rest)) = items.split_first() else {
        // An empty list of unknown element type sums to int 0, as cel-go's dyn overload.
        return Ok(CowVal::owned(CelInt::from(0)));
    };
    let mut total: Box<dyn Val + 'v> = first.clone_as_boxed();
    for item in rest {
        let adder = total.as_adder().ok_or_else(|| no_overload("sum", *item))?;
        let next = adder.add(*item)?.into_owned();
        total = next;
    }
    Ok(CowVal::Owned(total))
}

fn extreme<'b, 'v>(args: Args<'b, 'v>, name: &str, prefer: Ordering) -> Out<'b, 'v> {
    let [list] = take(args)?;
    let items = elements(list.as_ref(), name)?;
    let mut best: Option<&(dyn Val + 'v)> = None;
    for item in items {
        best = match best {
            Some(current) if compare(current, item, name)? != prefer => Some(current),
            _ => Some(item),
        };
    }
    match best {
        Some(b) => Ok(CowVal::Owned(b.clone_as_boxed())),
        None => Err(fail(name, format!("{name} called on empty list"))),
    }
}

fn min<'b, 'v>(args: Args<'b, 'v>) -> Out<'b, 'v> {
    extreme(args, "min", Ordering::Greater)
}

fn max<'b, 'v>(args: Args<'b, 'v>) -> Out<'b, 'v> {
    extreme(args, "max", Ordering::Less)
}

fn position<'b, 'v>(args: Args<'b, 'v>, name: &str, last: bool) -> Out<'b, 'v> {
    let [list, item] = take(args)?;
    let items = elements(list.as_ref(), name)?;
    let found = if last {
        items.iter().rposition(|x| x.equals(item.as_ref()))
    } else {
        items.iter().position(|x| x.equals(item.as_ref()))
    };
    Ok(CowVal::owned(CelInt::from(found.map_or(-1, |i| i as i64))))
}

fn index_of<'b, 'v>(args: Args<'b, 'v>) -> Out<'b, 'v> {
    position(args, "indexOf", false)
}

fn last_index_of<'b, 'v>(args: Args<'b, 'v>) -> Out<'b, 'v> {
    position(args, "lastIndexOf", true)
}

fn includes<'b, 'v>(args: Args<'b, 'v>) -> Out<'b, 'v> {
    let [target, item] = take(args)?;
    let found = match target.as_ref().as_iterable() {
        Some(_) if target.get_type().kind() == cel::common::types::Kind::List => {
            elements(target.as_ref(), "includes")?
                .iter()
                .any(|x| x.equals(item.as_ref()))
        }
        _ => target.equals(item.as_ref()),
    };
    Ok(CowVal::owned(CelBool::from(found)))
}

fn contains_all(outer: &dyn Val, inner: &dyn Val, name: &str) -> Result<bool, ExecutionError> {
    let outer = elements(outer, name)?;
    Ok(elements(inner, name)?
        .iter()
        .all(|x| outer.iter().any(|y| y.equals(*x))))
}

fn sets_contains<'b, 'v>(args: Args<'b, 'v>) -> Out<'b, 'v> {
    let [a, b] = take(args)?;
    let r = contains_all(a.as_ref(), b.as_ref(), "sets.contains")?;
    Ok(CowVal::owned(CelBool::from(r)))
}

fn sets_equivalent<'b, 'v>(args: Args<'b, 'v>) -> Out<'b, 'v> {
    let [a, b] = take(args)?;
    let r = contains_all(a.as_ref(), b.as_ref(), "sets.equivalent")?
        && contains_all(b.as_ref(), a.as_ref(), "sets.equivalent")?;
    Ok(CowVal::owned(CelBool::from(r)))
}

fn sets_intersects<'b, 'v>(args: Args<'b, 'v>) -> Out<'b, 'v> {
    let [a, b] = take(args)?;
    let a = elements(a.as_ref(), "sets.intersects")?;
    let r = elements(b.as_ref(), "sets.intersects")?
        .iter()
        .any(|x| a.iter().any(|y| y.equals(*x)));
    Ok(CowVal::owned(CelBool::from(r)))
}
