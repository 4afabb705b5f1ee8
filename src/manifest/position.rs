//! Source positions of the nodes of a JSON value read from YAML.

use serde_json::Value;

/// A 1-based line and column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default, serde::Serialize)]
pub struct Pos {
    pub line: u32,
    pub column: u32,
}

impl Pos {
    pub fn new(line: usize, column: usize) -> Pos {
        Pos {
            line: u32::try_from(line).unwrap_or(u32::MAX),
            column: u32::try_from(column).unwrap_or(u32::MAX),
        }
    }
}

/// Where a node is: its value, and for a mapping entry, its key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Location {
    pub value: Pos,
    pub key: Option<Pos>,
}

/// The positions of every node of a value, in pre-order: a mapping contributes its own
/// position, then for each entry the key's position followed by the value's subtree; a
/// sequence contributes its own position followed by its items' subtrees; a scalar, one.
///
/// This layout costs one push per node while parsing and needs no per-node allocation;
/// finding a node walks the value beside it, which only happens when reporting an error.
#[derive(Debug, Clone, Default)]
pub struct Positions(Vec<Pos>);

impl Positions {
    pub fn new(positions: Vec<Pos>) -> Positions {
        Positions(positions)
    }

    /// Moves every position (after the text was parsed with a different layout).
    pub(crate) fn map(&mut self, f: impl Fn(Pos) -> Pos) {
        for p in &mut self.0 {
            *p = f(*p);
        }
    }

    /// Number of position entries a value's subtree occupies.
    pub fn subtree_len(value: &Value) -> usize {
        match value {
            Value::Object(map) => {
                1 + map
                    .values()
                    .map(|v| 1 + Self::subtree_len(v))
                    .sum::<usize>()
            }
            Value::Array(items) => 1 + items.iter().map(Self::subtree_len).sum::<usize>(),
            _ => 1,
        }
    }

    /// The positions of one node's subtree, as positions of their own (for list items).
    pub fn subtree(&self, root: &Value, pointer: &str) -> Option<Positions> {
        let (start, _, value) = self.find(root, pointer)?;
        let len = Self::subtree_len(value);
        self.0
            .get(start..start + len)
            .map(|s| Positions(s.to_vec()))
    }

    /// Finds the node at a JSON pointer. Returns the closest existing ancestor's location when
    /// the pointer runs past the document (a missing property points at its parent).
    pub fn locate(&self, root: &Value, pointer: &str) -> Option<Location> {
        let (index, key, _) = self.find_closest(root, pointer);
        Some(Location {
            value: *self.0.get(index)?,
            key: key.and_then(|k| self.0.get(k).copied()),
        })
    }

    fn find<'v>(
        &self,
        root: &'v Value,
        pointer: &str,
    ) -> Option<(usize, Option<usize>, &'v Value)> {
        let mut index = 0;
        let mut key = None;
        let mut node = root;
        for segment in segments(pointer) {
            let (i, k, child) = step(node, index, &segment)?;
            index = i;
            key = k;
            node = child;
        }
        Some((index, key, node))
    }

    fn find_closest<'v>(
        &self,
        root: &'v Value,
        pointer: &str,
    ) -> (usize, Option<usize>, &'v Value) {
        let mut found = (0, None, root);
        for segment in segments(pointer) {
            match step(found.2, found.0, &segment) {
                Some(next) => found = next,
                None => break,
            }
        }
        found
    }
}

/// Moves from a node (at position `index`) to its child named by one pointer segment.
fn step<'v>(
    node: &'v Value,
    index: usize,
    segment: &str,
) -> Option<(usize, Option<usize>, &'v Value)> {
    match node {
        Value::Object(map) => {
            let mut i = index + 1;
            for (k, v) in map {
                if k == segment {
                    return Some((i + 1, Some(i), v));
                }
                i += 1 + Positions::subtree_len(v);
            }
            None
        }
        Value::Array(items) => {
            let n: usize = segment.parse().ok()?;
            let mut i = index + 1;
            for item in items.iter().take(n) {
                i += Positions::subtree_len(item);
            }
            items.get(n).map(|v| (i, None, v))
        }
        _ => None,
    }
}

/// Splits a JSON pointer into unescaped segments.
pub fn segments(pointer: &str) -> impl Iterator<Item = String> + '_ {
    pointer
        .split('/')
        .skip(1)
        .map(|s| s.replace("~1", "/").replace("~0", "~"))
}

/// Escapes one segment of a JSON pointer.
pub fn escape_pointer(segment: &str) -> String {
    if segment.contains(['~', '/']) {
        segment.replace('~', "~0").replace('/', "~1")
    } else {
        segment.to_owned()
    }
}
