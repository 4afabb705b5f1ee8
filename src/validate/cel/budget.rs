//! A bound on the work one rule may do on one object, checked before the rule runs.
//!
//! The API server refuses a CRD whose rules' estimated cost passes its limit, and stops a
//! rule at run time past one million cost units. The interpreter here counts nothing, so a
//! 200-byte rule nesting comprehensions (`[0,…,9].all(a, [0,…,9].all(b, …))`, seven deep)
//! kept `validate` busy for minutes, and one level more for hours. Each comprehension is
//! bounded by its range: a literal list's length, `lists.range(n)`'s n, a concatenation's sum,
//! a map or filter's input, a field of the object its largest list or map, a list a function
//! makes (`split`, `findAll`) the longer of that and the longest string, `flatten()` that
//! squared; nested comprehensions multiply. Strings alone do not bound a field's loops, so a
//! long annotation does not stop a rule. Strings are bounded too: `replace` nested 30 times
//! doubles a one-letter string into a gigabyte, so each subexpression's string is bounded
//! (a literal's length, the object's longest string, `+` a sum, `replace` the text times the
//! replacement, `join` the list times its strings) and kept under 16 MiB. A regex whose
//! pattern is not a literal is compiled at each call, and one such compile (Unicode `\w{100}`
//! builds 7 MB and takes 25 ms) costs [`REGEX_COMPILE`] iterations: a 30 KB object listing
//! 2,000 patterns for `self.l.all(p, 'a'.find(p) == '')` took 51 s and 7.8 GB.

use cel::IdedExpr;
use cel::common::ast::{EntryExpr, Expr, LiteralValue};
use serde_json::Value;

/// Loop iterations one evaluation may take: the API server's per-call cost limit, where an
/// iteration costs at least one unit.
pub(super) const MAX_ITERATIONS: u64 = 1_000_000;

/// What compiling a pattern taken from the object counts for, in iterations: at most ten
/// such compiles an evaluation.
pub(super) const REGEX_COMPILE: u64 = MAX_ITERATIONS / 10;

/// The longest string one evaluation may build: far past any object the API server takes
/// (3 MiB a request), far below what a run can hold.
pub(super) const MAX_STRING: u64 = 16 << 20;

/// Why `expr` may not run on the object at `at`, of `largest`: too many loops, or too long a
/// string.
pub(super) fn over_budget(expr: &IdedExpr, largest: Largest, at: &str) -> Option<String> {
    let loops = iterations(expr, largest);
    if loops > MAX_ITERATIONS {
        return Some(format!(
            "may loop {loops} times on {at}, more than the API server's limit of \
             {MAX_ITERATIONS} per call"
        ));
    }
    let bytes = longest_string(expr, largest);
    (bytes > MAX_STRING).then(|| {
        format!(
            "may build a string of {bytes} bytes on {at}, more than the {MAX_STRING} kbundle \
             allows"
        )
    })
}

/// The sizes the bound starts from: the most items of any list or map in the object, and
/// its longest string (each at least 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Largest {
    pub collection: u64,
    pub string: u64,
}

impl Largest {
    fn any(self) -> u64 {
        self.collection.max(self.string)
    }
}

/// The largest list or map, and the longest string, in `value`.
pub(super) fn largest(value: &Value) -> Largest {
    let mut most = Largest {
        collection: 1,
        string: 1,
    };
    let mut stack = vec![value];
    while let Some(v) = stack.pop() {
        match v {
            Value::Array(items) => {
                stack.extend(items);
                most.collection = most.collection.max(items.len() as u64);
            }
            Value::Object(map) => {
                stack.extend(map.values());
                most.collection = most.collection.max(map.len() as u64);
            }
            Value::String(s) => most.string = most.string.max(s.len() as u64),
            _ => {}
        }
    }
    most
}

/// An upper bound on the comprehension iterations `expr` takes on an object of `largest`.
pub(super) fn iterations(expr: &IdedExpr, largest: Largest) -> u64 {
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
        _ => children(expr)
            .into_iter()
            .fold(compiles(expr), |sum, child| {
                sum.saturating_add(iterations(child, largest))
            }),
    }
}

/// The cost of the regex `expr` compiles when it runs: nothing for a literal pattern.
fn compiles(expr: &IdedExpr) -> u64 {
    let Expr::Call(call) = &expr.expr else {
        return 0;
    };
    if !matches!(call.func_name.as_str(), "matches" | "find" | "findAll") {
        return 0;
    }
    // `s.matches(re)`, `s.find(re)`, `s.findAll(re[, n])`, or the global `matches(s, re)`.
    let pattern = if call.target.is_some() {
        call.args.first()
    } else {
        call.args.get(1)
    };
    match pattern.map(|p| &p.expr) {
        Some(Expr::Literal(LiteralValue::String(_))) => 0,
        _ => REGEX_COMPILE,
    }
}

/// An upper bound on the elements `expr` gives a comprehension that ranges over it.
fn size(expr: &IdedExpr, largest: Largest) -> u64 {
    match &expr.expr {
        Expr::List(list) => list.elements.len() as u64,
        Expr::Map(map) => map.entries.len() as u64,
        // map() and filter() give at most one element per input element.
        Expr::Comprehension(c) => size(&c.iter_range, largest),
        Expr::Call(call) => match (call.func_name.as_str(), call.args.as_slice()) {
            ("_+_", [a, b]) => size(a, largest).saturating_add(size(b, largest)),
            ("_[_]", _) => largest.collection,
            ("lists.range" | "range", [n]) if is_lists_range(call) => match &n.expr {
                Expr::Literal(LiteralValue::Int(n)) => u64::try_from(*n.inner()).unwrap_or(0),
                _ => largest.any(),
            },
            ("flatten", _) => largest.any().saturating_mul(largest.any()),
            _ => largest.any(),
        },
        // A field or variable: a list or map of the object.
        _ => largest.collection,
    }
}

/// The longest string any part of `expr` may build.
fn longest_string(expr: &IdedExpr, largest: Largest) -> u64 {
    children(expr)
        .into_iter()
        .map(|child| longest_string(child, largest))
        .fold(string_size(expr, largest), u64::max)
}

/// An upper bound on the length of the string `expr` gives, if it gives one.
fn string_size(expr: &IdedExpr, largest: Largest) -> u64 {
    let of = |e: &IdedExpr| string_size(e, largest);
    match &expr.expr {
        Expr::Literal(LiteralValue::String(s)) => s.inner().len() as u64,
        Expr::Literal(LiteralValue::Bytes(b)) => b.inner().len() as u64,
        // Numbers, bools and null as text.
        Expr::Literal(_) => 32,
        Expr::Call(call) => {
            let target = call.target.as_deref();
            match (call.func_name.as_str(), call.args.as_slice()) {
                ("_+_", [a, b]) => of(a).saturating_add(of(b)),
                ("replace", [_, new, ..]) => {
                    let text = target.map_or(largest.string, of);
                    // Each character may become the replacement, and the text stays.
                    text.saturating_mul(of(new).max(1)).saturating_add(text)
                }
                ("join", args) => {
                    let list = target.map_or(largest.collection, |t| size(t, largest));
                    let each = target.map_or(largest.string, of).max(largest.string);
                    let separator = args.first().map_or(0, of);
                    list.saturating_mul(each.saturating_add(separator))
                }
                ("format", args) => args
                    .iter()
                    .map(|a| match &a.expr {
                        Expr::List(l) => l.elements.iter().map(of).fold(0, u64::saturating_add),
                        _ => size(a, largest).saturating_mul(largest.string.max(32)),
                    })
                    .fold(target.map_or(0, of), u64::saturating_add),
                ("strings.quote", [a]) => of(a).saturating_mul(6).saturating_add(2),
                // Anything else gives back at most what it was given, or a string of the object.
                _ => target
                    .into_iter()
                    .chain(&call.args)
                    .map(of)
                    .fold(largest.string, u64::max),
            }
        }
        Expr::List(l) => l.elements.iter().map(of).fold(0, u64::max),
        Expr::Map(m) => m
            .entries
            .iter()
            .flat_map(|e| entry(&e.expr))
            .map(of)
            .fold(0, u64::max),
        Expr::Comprehension(c) => of(&c.loop_step).max(of(&c.result)),
        _ => largest.string,
    }
}

/// `lists.range(n)`: resolved to one name, or still a call of `range` on `lists`.
fn is_lists_range(call: &cel::common::ast::CallExpr) -> bool {
    call.func_name == "lists.range"
        || call
            .target
            .as_deref()
            .is_some_and(|t| matches!(&t.expr, Expr::Ident(name) if name == "lists"))
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

    fn bound(rule: &str, collection: u64) -> u64 {
        let program = cel::Program::compile(rule).expect("compiles");
        let largest = Largest {
            collection,
            string: 1,
        };
        iterations(program.expression(), largest)
    }

    #[test]
    fn patterns_from_the_object_cost_a_compile_each_literal_ones_nothing() {
        assert_eq!(bound("self.s.matches('^a+$')", 3), 0);
        assert_eq!(bound("self.s.find(self.p) != ''", 3), REGEX_COMPILE);
        assert_eq!(bound("matches(self.s, self.p)", 3), REGEX_COMPILE);
        // One compile an item: 2,000 patterns are over budget, a few are not.
        assert!(bound("self.l.all(p, 'a'.find(p) == '')", 2_000) > MAX_ITERATIONS);
        assert!(bound("self.l.all(p, 'a'.findAll(p).size() == 0)", 5) < MAX_ITERATIONS);
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
        assert!(
            bound(
                "lists.range(100000).all(a, lists.range(100000).all(b, true))",
                1
            ) > MAX_ITERATIONS
        );
    }

    #[test]
    fn a_long_string_bounds_what_is_split_from_it_not_the_fields_loops() {
        let rule = "self.items.all(i, self.items.all(j, i != j))";
        let program = cel::Program::compile(rule).expect("compiles");
        let object = serde_json::json!({
            "items": [1, 2, 3],
            "metadata": {"annotations": {"last-applied": "x".repeat(100_000)}},
        });
        assert!(iterations(program.expression(), largest(&object)) < 100);
        let split = cel::Program::compile("self.s.split('').all(a, self.s.split('').all(b, true))")
            .expect("compiles");
        let object = serde_json::json!({"s": "x".repeat(10_000)});
        assert!(iterations(split.expression(), largest(&object)) > MAX_ITERATIONS);
    }

    #[test]
    fn strings_doubled_by_nested_replace_are_over_budget() {
        let mut rule = "self.s".to_owned();
        for _ in 0..28 {
            rule = format!("{rule}.replace('a', 'aa')");
        }
        let program = cel::Program::compile(&format!("size({rule}) > 0")).expect("compiles");
        let object = serde_json::json!({"s": "a"});
        let why = over_budget(program.expression(), largest(&object), "/").expect("over");
        assert!(why.contains("may build a string of"), "{why}");
        let plain = cel::Program::compile("self.s.replace('a', 'b') + '-x' == 'y'").expect("ok");
        assert_eq!(over_budget(plain.expression(), largest(&object), "/"), None);
    }

    #[test]
    fn the_largest_collection_anywhere_in_the_object() {
        let v = serde_json::json!({"a": [1, 2, 3], "b": {"c": "abcdefgh"}});
        assert_eq!(
            largest(&v),
            Largest {
                collection: 3,
                string: 8
            }
        );
        assert_eq!(largest(&serde_json::json!(1)).any(), 1);
    }
}
