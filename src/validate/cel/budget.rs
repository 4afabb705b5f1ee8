//! A bound on the work one rule may do on one object, checked before the rule runs.
//!
//! The API server refuses a CRD whose rules' estimated cost passes its limit, and stops a
//! rule at run time past one million cost units. The interpreter here counts nothing, so a
//! 200-byte rule nesting comprehensions (`[0,…,9].all(a, [0,…,9].all(b, …))`, seven deep)
//! kept `validate` busy for minutes, and one level more for hours. Each comprehension is
//! bounded by its range: a literal list's length, a concatenation's sum, a map or filter's
//! input, `flatten()` the square of the largest collection, anything else the largest list,
//! map or string in the object; nested comprehensions multiply. Functions that grow strings
//! (`replace`, `+`) are not bounded: see the README's CEL section.

use cel::IdedExpr;
use cel::common::ast::{EntryExpr, Expr};
use serde_json::Value;

/// Loop iterations one evaluation may take: the API server's per-call cost limit, where an
/// iteration costs at least one unit.
pub(super) const MAX_ITERATIONS: u64 = 1_000_000;

/// The most elements any list, map or string in `value` has (at least 1).
pub(super) fn largest(value: &Value) -> u64 {
    let mut most = 1u64;
    let mut stack = vec![value];
    while let Some(v) = stack.pop() {
        let n = match v {
            Value::Array(items) => {
                stack.extend(items);
                items.len()
            }
            Value::Object(map) => {
                stack.extend(map.values());
                map.len()
            }
            Value::String(s) => s.len(),
            _ => 0,
        };
        most = most.max(n as u64);
    }
    most
}

/// An upper bound on the comprehension iterations `expr` takes when no collection is
/// longer than `largest`.
pub(super) fn iterations(expr: &IdedExpr, largest: u64) -> u64 {
    match &expr.expr {
        Expr::Comprehension(c) => {
            let per_item = 1u64
                .saturating_add(iterations(&c.loop_cond, largest))
                .saturating_add(iterations(&c.loop_step, largest));
            size(&c.iter_range, largest)
                .saturating_mul(per_item)
                .saturating_add(iterations(&c.iter_range, largest))
                .saturating_add(iterations(&c.accu_init, largest))
                .saturating_add(iterations(&c.result, largest))
        }
        _ => children(expr).into_iter().fold(0u64, |sum, child| {
            sum.saturating_add(iterations(child, largest))
        }),
    }
}

/// An upper bound on the elements `expr` gives a comprehension that ranges over it.
fn size(expr: &IdedExpr, largest: u64) -> u64 {
    match &expr.expr {
        Expr::List(list) => list.elements.len() as u64,
        Expr::Map(map) => map.entries.len() as u64,
        // map() and filter() give at most one element per input element.
        Expr::Comprehension(c) => size(&c.iter_range, largest),
        Expr::Call(call) if call.func_name == "_+_" && call.args.len() == 2 => {
            size(&call.args[0], largest).saturating_add(size(&call.args[1], largest))
        }
        Expr::Call(call) if call.func_name == "flatten" => largest.saturating_mul(largest),
        _ => largest,
    }
}

fn children(expr: &IdedExpr) -> Vec<&IdedExpr> {
    match &expr.expr {
        Expr::Call(call) => call
            .target
            .as_deref()
            .into_iter()
            .chain(&call.args)
            .collect(),
        Expr::List(list) => list.elements.iter().collect(),
        Expr::Map(map) => map.entries.iter().flat_map(|e| entry(&e.expr)).collect(),
        Expr::Struct(s) => s.entries.iter().flat_map(|e| entry(&e.expr)).collect(),
        Expr::Select(select) => vec![&select.operand],
        Expr::Comprehension(c) => vec![
            &c.iter_range,
            &c.accu_init,
            &c.loop_cond,
            &c.loop_step,
            &c.result,
        ],
        Expr::Ident(_) | Expr::Literal(_) | Expr::Unspecified => Vec::new(),
    }
}

fn entry(e: &EntryExpr) -> Vec<&IdedExpr> {
    match e {
        EntryExpr::StructField(f) => vec![&f.value],
        EntryExpr::MapEntry(m) => vec![&m.key, &m.value],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bound(rule: &str, largest: u64) -> u64 {
        let program = cel::Program::compile(rule).expect("compiles");
        iterations(program.expression(), largest)
    }

    #[test]
    fn nested_comprehensions_multiply_their_ranges() {
        let ten = "[0,1,2,3,4,5,6,7,8,9]";
        let mut rule = "true".to_owned();
        for v in ["a", "b", "c", "d", "e", "f", "g"] {
            rule = format!("{ten}.all({v}, {rule})");
        }
        assert!(bound(&rule, 1) > MAX_ITERATIONS, "{}", bound(&rule, 1));
        assert!(bound(&format!("{ten}.all(a, {ten}.all(b, true))"), 1) < 1_000);
        // Over the object: bounded by its largest list.
        assert!(bound("self.items.all(i, self.items.all(j, i != j))", 100) < 100_000);
        assert!(bound("self.items.all(i, self.items.all(j, i != j))", 10_000) > MAX_ITERATIONS);
        // flatten() of a map() is the square of the collection.
        assert!(bound("self.l.map(x, self.l).flatten().all(y, true)", 2_000) > MAX_ITERATIONS);
        assert_eq!(bound("self.a == 'b' && size(self.c) < 3", 1_000_000), 0);
    }

    #[test]
    fn the_largest_collection_anywhere_in_the_object() {
        let v = serde_json::json!({"a": [1, 2, 3], "b": {"c": "abcdefgh"}});
        assert_eq!(largest(&v), 8);
        assert_eq!(largest(&serde_json::json!(1)), 1);
    }
}
