//! TEMPORARY STUB (helper replaces)
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    Cluster,
    Namespaced,
}
pub fn builtin_scope(group: &str, kind: &str) -> Option<Scope> {
    match (group, kind) {
        ("", "Namespace") => Some(Scope::Cluster),
        _ => None,
    }
}
