//! kustomize's own files: `kustomization.yaml` (Kustomization, Component) is no cluster
//! resource, so it is judged against kustomize's schema (`schemas/kustomize/`) and reported
//! apart, not failed for having no Kubernetes schema.

use std::path::Path;
use std::sync::OnceLock;

use jsonschema::Validator;
use serde_json::Value;

use crate::manifest::Resource;
use crate::report::Problem;

const SCHEMA: &str = include_str!("../../schemas/kustomize/kustomization.json");

/// kustomize's API group; its files are reported under it.
pub const API_GROUP: &str = "kustomize.config.k8s.io";

const FILE_NAMES: [&str; 3] = ["kustomization.yaml", "kustomization.yml", "Kustomization"];

/// The kustomize kind of a document, if it is a kustomize file: by its apiVersion and kind,
/// or by the file's name (kustomize reads a kustomization.yaml without either).
pub fn kind_of(file: &str, value: &Value) -> Option<&'static str> {
    let get = |k: &str| value.get(k).and_then(Value::as_str).unwrap_or("");
    let (api_version, kind) = (get("apiVersion"), get("kind"));
    let kustomize_group = api_version.starts_with(&format!("{API_GROUP}/"));
    let named = Path::new(file)
        .file_name()
        .is_some_and(|n| FILE_NAMES.iter().any(|f| n == *f));
    match kind {
        "Kustomization" if kustomize_group || named => Some("Kustomization"),
        "Component" if kustomize_group || named => Some("Component"),
        "" if named && (api_version.is_empty() || kustomize_group) => Some("Kustomization"),
        _ => None,
    }
}

fn validator() -> Option<&'static Validator> {
    static VALIDATOR: OnceLock<Option<Validator>> = OnceLock::new();
    VALIDATOR
        .get_or_init(|| {
            let schema: Value = serde_json::from_str(SCHEMA).ok()?;
            jsonschema::options()
                .with_draft(jsonschema::Draft::Draft202012)
                .build(&schema)
                .ok()
        })
        .as_ref()
}

/// Problems of a kustomize file against kustomize's schema.
pub fn check(resource: &Resource) -> Vec<Problem> {
    match validator() {
        Some(v) => super::problems::schema_problems(v, resource),
        None => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn recognised_by_kind_or_file_name() {
        let k = json!({"apiVersion": "kustomize.config.k8s.io/v1beta1", "kind": "Kustomization"});
        assert_eq!(kind_of("a/base.yaml", &k), Some("Kustomization"));
        let c = json!({"apiVersion": "kustomize.config.k8s.io/v1alpha1", "kind": "Component"});
        assert_eq!(kind_of("c.yaml", &c), Some("Component"));
        assert_eq!(
            kind_of("x/kustomization.yaml", &json!({"resources": ["a.yaml"]})),
            Some("Kustomization")
        );
        let cm = json!({"apiVersion": "v1", "kind": "ConfigMap"});
        assert_eq!(kind_of("x/kustomization.yaml", &cm), None);
        assert_eq!(kind_of("x/values.yaml", &json!({"resources": []})), None);
        assert!(validator().is_some(), "the embedded schema compiles");
    }
}
