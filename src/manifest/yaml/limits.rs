//! What one YAML document may cost to read, so hostile input gets an error instead of
//! exhausting memory or the stack.
//!
//! - Nesting is capped at [`MAX_DEPTH`] levels: the reader itself is iterative, but what
//!   consumes its values (dropping, cloning and validating a `serde_json::Value`, converting
//!   and compiling a CRD schema) recurses once per level.
//! - Alias expansion follows go-yaml's rule (v2.2.8+ and v3, so also `sigs.k8s.io/yaml`):
//!   nodes produced through aliases may be almost all of a small document, but their share
//!   allowed shrinks as the document grows, so the total stays proportional to what was
//!   written. A "billion laughs" document is refused after a few thousand nodes.
//! - Each anchor keeps a copy of its node until the document ends (a JSON value cannot be
//!   shared), so anchors nested inside anchors would copy the same nodes over and over; the
//!   copies are capped at a multiple of the document's size.

/// Deepest nesting of mappings and sequences accepted: serde_json's default recursion limit,
/// which every JSON input already gets. Real manifests nest a few dozen levels (a CRD schema
/// embedding a pod template, about forty). The tightest consumer is schema compilation of a
/// hostile CRD (jsonschema recurses once per subschema, about 9 KiB a level unoptimised): at
/// this depth the worst shape still fits a 1.5 MiB stack in a debug build, inside the 2 MiB
/// of a validation worker (`tests/hostile_yaml.rs` checks the shapes at the limit).
pub const MAX_DEPTH: usize = 128;

/// go-yaml's thresholds: below `ALIAS_RATIO_LOW` nodes, 99% of them may come from aliases;
/// above `ALIAS_RATIO_HIGH`, 10%; linearly in between.
const ALIAS_RATIO_LOW: u64 = 400_000;
const ALIAS_RATIO_HIGH: u64 = 4_000_000;
/// Aliasing this small is never refused, whatever the ratio.
const ALIAS_FREE_NODES: u64 = 1_000;
const ALIAS_FREE_ALIASED: u64 = 100;

/// Anchor copies may total this many times the document's nodes, plus [`COPY_FREE`].
const COPY_FACTOR: u64 = 4;
const COPY_FREE: u64 = 100_000;

/// The share of a document's nodes that may come from aliases when it has `nodes`.
fn allowed_alias_ratio(nodes: u64) -> f64 {
    if nodes <= ALIAS_RATIO_LOW {
        0.99
    } else if nodes >= ALIAS_RATIO_HIGH {
        0.10
    } else {
        let span = (ALIAS_RATIO_HIGH - ALIAS_RATIO_LOW) as f64;
        0.99 - 0.89 * ((nodes - ALIAS_RATIO_LOW) as f64 / span)
    }
}

/// Counts for the document being read.
#[derive(Debug, Default)]
pub(super) struct Budget {
    /// Nodes produced through aliases so far.
    aliased: u64,
    /// Nodes copied to remember anchors so far.
    copied: u64,
}

impl Budget {
    pub fn reset(&mut self) {
        *self = Budget::default();
    }

    /// Before an alias standing for `size` nodes is expanded into a document that has
    /// `nodes` so far.
    pub fn alias(&mut self, size: usize, nodes: usize) -> Result<(), String> {
        let size = size as u64;
        let nodes = nodes as u64 + size;
        self.aliased += size;
        let ratio = allowed_alias_ratio(nodes);
        if self.aliased > ALIAS_FREE_ALIASED
            && nodes > ALIAS_FREE_NODES
            && self.aliased as f64 / nodes as f64 > ratio
        {
            return Err(format!(
                "excessive aliasing: aliases would expand to {} of the document's {nodes} \
                 nodes, more than the {:.0}% allowed at that size (go-yaml's limit); write \
                 the repeated values out instead of nesting aliases",
                self.aliased,
                ratio * 100.0
            ));
        }
        Ok(())
    }

    /// Before an anchored node of `size` nodes is copied, in a document of `nodes` so far.
    pub fn anchor(&mut self, size: usize, nodes: usize) -> Result<(), String> {
        self.copied += size as u64;
        let allowed = COPY_FACTOR * nodes as u64 + COPY_FREE;
        if self.copied > allowed {
            return Err(format!(
                "anchors nested too deeply: keeping them would copy {} nodes for a document \
                 of {nodes} (the limit is {COPY_FACTOR} times the document plus {COPY_FREE}); \
                 drop the anchors on enclosing nodes",
                self.copied
            ));
        }
        Ok(())
    }
}

pub(super) fn too_deep() -> String {
    format!(
        "nesting deeper than {MAX_DEPTH} levels (the limit); no Kubernetes manifest needs \
         that, flatten the document"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ratio_follows_go_yaml() {
        assert_eq!(allowed_alias_ratio(1), 0.99);
        assert_eq!(allowed_alias_ratio(ALIAS_RATIO_LOW), 0.99);
        assert!((allowed_alias_ratio(2_200_000) - 0.545).abs() < 1e-9);
        assert_eq!(allowed_alias_ratio(ALIAS_RATIO_HIGH), 0.10);
        assert_eq!(allowed_alias_ratio(u64::MAX), 0.10);
    }

    #[test]
    fn small_documents_may_alias_freely() {
        let mut budget = Budget::default();
        // 100 aliases of 9 nodes in a document that stays under 1,000 nodes.
        for i in 0..100 {
            budget.alias(9, 10 + i * 9).unwrap();
        }
        let mut budget = Budget::default();
        assert!(budget.alias(1_000_000, 10).is_err());
    }
}
