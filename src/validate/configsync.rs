//! TEMPORARY STUB (helper replaces)
use super::scope::Scope;
use crate::manifest::{Gvk, Location, Resource};
use crate::report::Problem;
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Identity {
    pub group: String,
    pub kind: String,
    pub namespace: String,
    pub name: String,
}
pub fn check(_resource: &Resource, _scope: Option<Scope>) -> Vec<Problem> {
    Vec::new()
}
pub fn identity(_resource: &Resource) -> Option<Identity> {
    None
}
pub fn collision(_id: &Identity, first_file: &str, first_line: u32, at: Location) -> Problem {
    Problem {
        path: String::new(),
        msg: format!("KNV1029: dup of {first_file}:{first_line}"),
        line: at.value.line,
        column: at.value.column,
        code: Some("KNV1029"),
    }
}
pub fn is_sync_kind(gvk: &Gvk) -> bool {
    gvk.group == "configsync.gke.io" && (gvk.kind == "RootSync" || gvk.kind == "RepoSync")
}
