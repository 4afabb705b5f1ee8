//! CustomResourceDefinitions to JSON schemas, the conversion `--crd` offers and that the
//! embedded Config Sync schemas are made with.
//!
//! A CRD's `openAPIV3Schema` is OpenAPI, not JSON Schema: `nullable` and the
//! `x-kubernetes-*` extensions change what is valid, so they are rewritten into plain
//! JSON Schema here.

use serde_json::{Map, Value, json};

use crate::manifest::Gvk;
use crate::validate::scope::Scope;

/// One served version of a CRD: what it validates and its raw OpenAPI schema.
#[derive(Debug, Clone)]
pub struct CrdVersion {
    pub gvk: Gvk,
    pub scope: Scope,
    /// The `openAPIV3Schema`, unconverted; [`to_json_schema`] converts it when first used.
    pub openapi: Value,
}

/// Lists the versions a CustomResourceDefinition declares (apiextensions.k8s.io v1 and
/// v1beta1). A version without a schema accepts anything of its kind.
pub fn versions(crd: &Value) -> Result<Vec<CrdVersion>, String> {
    let spec = crd
        .get("spec")
        .ok_or("the CustomResourceDefinition has no spec")?;
    let group = spec
        .get("group")
        .and_then(Value::as_str)
        .ok_or("spec.group is missing")?;
    let kind = spec
        .pointer("/names/kind")
        .and_then(Value::as_str)
        .ok_or("spec.names.kind is missing")?;
    let scope = match spec.get("scope").and_then(Value::as_str) {
        Some("Cluster") => Scope::Cluster,
        _ => Scope::Namespaced,
    };
    // v1beta1 allowed one schema for all versions.
    let shared = spec.pointer("/validation/openAPIV3Schema");
    let any = json!({"type": "object", "x-kubernetes-preserve-unknown-fields": true});
    let mut out = Vec::new();
    match spec.get("versions").and_then(Value::as_array) {
        Some(list) => {
            for v in list {
                let name = v
                    .get("name")
                    .and_then(Value::as_str)
                    .ok_or("spec.versions[].name is missing")?;
                let openapi = v
                    .pointer("/schema/openAPIV3Schema")
                    .or(shared)
                    .unwrap_or(&any);
                out.push(CrdVersion {
                    gvk: Gvk::new(&format!("{group}/{name}"), kind),
                    scope,
                    openapi: openapi.clone(),
                });
            }
        }
        None => {
            let name = spec
                .get("version")
                .and_then(Value::as_str)
                .ok_or("spec.versions is missing")?;
            out.push(CrdVersion {
                gvk: Gvk::new(&format!("{group}/{name}"), kind),
                scope,
                openapi: shared.unwrap_or(&any).clone(),
            });
        }
    }
    Ok(out)
}

/// Converts an `openAPIV3Schema` into a JSON schema for the whole object. With `strict`,
/// objects that list their properties refuse others, except where the CRD preserves
/// unknown fields.
///
/// `object_meta` is the URI of the ObjectMeta schema: the API server checks a custom
/// resource's `metadata` as ObjectMeta whatever the CRD declares (a CRD may only narrow
/// `name` and `generateName`), so `metadata` is ObjectMeta plus what the CRD adds.
pub fn to_json_schema(openapi: &Value, strict: bool, object_meta: &str) -> Value {
    let mut schema = convert(openapi, strict);
    if let Value::Object(map) = &mut schema {
        // The API server always accepts these, even when the CRD does not list them.
        if let Some(Value::Object(props)) = map.get_mut("properties") {
            props
                .entry("apiVersion")
                .or_insert_with(|| json!({"type": "string"}));
            props
                .entry("kind")
                .or_insert_with(|| json!({"type": "string"}));
            let meta = json!({"$ref": object_meta});
            let declared = openapi.pointer("/properties/metadata").map(|m| {
                // Without strictness: ObjectMeta decides which fields exist.
                let mut m = convert(m, false);
                if let Value::Object(o) = &mut m {
                    o.remove("additionalProperties");
                    o.remove("type");
                }
                m
            });
            let metadata = match declared {
                Some(Value::Object(d)) if !d.is_empty() => json!({"allOf": [meta, d]}),
                _ => meta,
            };
            props.insert("metadata".into(), metadata);
        }
    }
    schema
}

fn convert(node: &Value, strict: bool) -> Value {
    let Value::Object(src) = node else {
        return node.clone();
    };
    let mut out = Map::with_capacity(src.len() + 1);
    for (k, v) in src {
        let converted = match k.as_str() {
            "properties" | "patternProperties" | "definitions" => match v {
                Value::Object(props) => Value::Object(
                    props
                        .iter()
                        .map(|(name, s)| (name.clone(), convert(s, strict)))
                        .collect(),
                ),
                other => other.clone(),
            },
            "items" | "additionalProperties" | "not" => convert(v, strict),
            "allOf" | "anyOf" | "oneOf" => match v {
                Value::Array(list) => {
                    Value::Array(list.iter().map(|s| convert(s, strict)).collect())
                }
                other => other.clone(),
            },
            "nullable" | "description" | "example" | "externalDocs" => continue,
            _ => v.clone(),
        };
        out.insert(k.clone(), converted);
    }

    let flag = |name: &str| src.get(name).and_then(Value::as_bool).unwrap_or(false);
    let nullable = flag("nullable");
    let preserve = flag("x-kubernetes-preserve-unknown-fields");

    if flag("x-kubernetes-int-or-string") {
        out.remove("type");
        if !out.contains_key("anyOf") && !out.contains_key("oneOf") {
            out.insert(
                "anyOf".into(),
                json!([{"type": "integer"}, {"type": "string"}]),
            );
        }
        if nullable {
            if let Some(Value::Array(any)) = out.get_mut("anyOf") {
                any.push(json!({"type": "null"}));
            }
        }
    } else if nullable {
        if let Some(Value::String(t)) = out.get("type") {
            let t = t.clone();
            out.insert("type".into(), json!([t, "null"]));
        }
        if let Some(Value::Array(options)) = out.get_mut("enum") {
            options.push(Value::Null);
        }
    }

    if flag("x-kubernetes-embedded-resource") {
        let props = out
            .entry("properties")
            .or_insert_with(|| Value::Object(Map::new()));
        if let Value::Object(props) = props {
            props
                .entry("apiVersion")
                .or_insert_with(|| json!({"type": "string", "minLength": 1}));
            props
                .entry("kind")
                .or_insert_with(|| json!({"type": "string", "minLength": 1}));
            props
                .entry("metadata")
                .or_insert_with(|| json!({"type": "object"}));
        }
        let required = out.entry("required").or_insert_with(|| json!([]));
        if let Value::Array(required) = required {
            for field in ["apiVersion", "kind"] {
                if !required.iter().any(|r| r == field) {
                    required.push(json!(field));
                }
            }
        }
    }

    if strict
        && !preserve
        && out.contains_key("properties")
        && !out.contains_key("additionalProperties")
    {
        out.insert("additionalProperties".into(), Value::Bool(false));
    }
    Value::Object(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Compiles with a stand-in ObjectMeta at `#/$defs/meta`.
    fn compile(schema: &Value) -> jsonschema::Validator {
        let mut schema = schema.clone();
        schema["$defs"] =
            json!({"meta": {"type": "object", "properties": {"name": {"type": "string"}}}});
        jsonschema::options()
            .with_draft(jsonschema::Draft::Draft202012)
            .build(&schema)
            .unwrap()
    }

    #[test]
    fn metadata_is_object_meta_narrowed_by_the_crd() {
        let openapi = json!({"type": "object", "properties": {"metadata": {"type": "object",
            "properties": {"name": {"type": "string", "maxLength": 5}}}}});
        let schema = to_json_schema(&openapi, true, "#/$defs/meta");
        assert_eq!(
            schema["properties"]["metadata"]["allOf"][0]["$ref"],
            "#/$defs/meta"
        );
        let v = compile(&schema);
        // Declared by ObjectMeta's stand-in, not by the CRD: strictness comes from ObjectMeta.
        assert!(v.is_valid(&json!({"metadata": {"name": "abc", "labels": {"a": "b"}}})));
        assert!(!v.is_valid(&json!({"metadata": {"name": "abcdefgh"}})));
        assert!(!v.is_valid(&json!({"metadata": {"name": 1}})));
    }

    #[test]
    fn extensions_become_json_schema() {
        let openapi = json!({
            "type": "object",
            "properties": {
                "spec": {
                    "type": "object",
                    "properties": {
                        "port": {"x-kubernetes-int-or-string": true},
                        "note": {"type": "string", "nullable": true},
                        "free": {"type": "object", "x-kubernetes-preserve-unknown-fields": true,
                                 "properties": {"a": {"type": "string"}}},
                        "template": {"type": "object", "x-kubernetes-embedded-resource": true,
                                     "x-kubernetes-preserve-unknown-fields": true}
                    }
                }
            }
        });
        let v = compile(&to_json_schema(&openapi, true, "#/$defs/meta"));
        let ok = json!({"apiVersion": "x/v1", "kind": "X", "metadata": {"name": "a"},
            "spec": {"port": "http", "note": null, "free": {"b": 1},
                     "template": {"apiVersion": "v1", "kind": "Pod", "spec": {}}}});
        assert!(
            v.is_valid(&ok),
            "{:?}",
            v.iter_errors(&ok)
                .map(|e| e.to_string())
                .collect::<Vec<_>>()
        );
        assert!(v.is_valid(&json!({"spec": {"port": 8080}})));
        assert!(!v.is_valid(&json!({"spec": {"port": 1.5}})));
        assert!(!v.is_valid(&json!({"spec": {"template": {"kind": "Pod"}}})));
        assert!(!v.is_valid(&json!({"spec": {"unknown": 1}})));
        let lax = compile(&to_json_schema(&openapi, false, "#/$defs/meta"));
        assert!(lax.is_valid(&json!({"spec": {"unknown": 1}})));
    }

    #[test]
    fn lists_every_version_with_scope() {
        let crd = json!({"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
            "spec": {"group": "example.com", "scope": "Cluster", "names": {"kind": "Widget"},
                     "versions": [{"name": "v1", "schema": {"openAPIV3Schema": {"type": "object"}}},
                                  {"name": "v2"}]}});
        let v = versions(&crd).unwrap();
        assert_eq!(v.len(), 2);
        assert_eq!(v[1].gvk, Gvk::new("example.com/v2", "Widget"));
        assert_eq!(v[0].scope, Scope::Cluster);
    }
}
