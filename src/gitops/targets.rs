//! Which documents and which keys in them take the new image.

use super::edit::{Target, Want};
use super::yaml::{Map, Node};
use super::{BumpError, NewImage, Pin};

/// One mapping to edit and the values to set below it.
pub(super) struct Planned<'a> {
    pub target: Target,
    pub map: &'a Map,
    /// Path of `map` in its document, for `Change::field` and messages.
    pub field: String,
    pub wants: Vec<Want>,
}

/// The identifying fields of a document whose root is a mapping.
struct Doc<'a> {
    root: &'a Map,
    api_version: &'a str,
    kind: &'a str,
    name: Option<&'a str>,
    namespace: Option<&'a str>,
}

impl<'a> Doc<'a> {
    fn new(root: &'a Map) -> Doc<'a> {
        Doc {
            root,
            api_version: root.path_str(&["apiVersion"]).unwrap_or_default(),
            kind: root.path_str(&["kind"]).unwrap_or_default(),
            name: root.path_str(&["metadata", "name"]),
            namespace: root.path_str(&["metadata", "namespace"]),
        }
    }

    /// `RootSync root-sync` or `RepoSync team-a/repo-sync`, for lists in messages.
    fn label(&self) -> String {
        let kind = if self.kind.is_empty() {
            "document"
        } else {
            self.kind
        };
        match (self.namespace, self.name) {
            (Some(namespace), Some(name)) => format!("{kind} {namespace}/{name}"),
            (None, Some(name)) => format!("{kind} {name}"),
            _ => format!("{kind} (no metadata.name)"),
        }
    }

    fn target(&self, kind: &str) -> Target {
        Target {
            kind: kind.to_owned(),
            name: self.name.unwrap_or_default().to_owned(),
            step: indent_step(self.root),
        }
    }

    fn spec(&self) -> Option<&'a Map> {
        self.root.get("spec").and_then(Node::as_map)
    }

    /// A RootSync or RepoSync that syncs from an OCI image.
    fn is_config_sync_oci(&self) -> bool {
        self.api_version.starts_with("configsync.gke.io/")
            && matches!(self.kind, "RootSync" | "RepoSync")
            && self.spec().is_some_and(|spec| {
                spec.path_str(&["sourceType"]) == Some("oci") || spec.get("oci").is_some()
            })
    }

    fn is_flux_oci_repository(&self) -> bool {
        self.api_version.starts_with("source.toolkit.fluxcd.io/") && self.kind == "OCIRepository"
    }

    /// A kustomization: its own apiVersion, or no apiVersion at all (the usual
    /// kustomization.yaml) with a top-level `images:` list.
    fn kustomize_images(&self) -> Option<&'a [Node]> {
        let is_kustomize = self.api_version.starts_with("kustomize.config.k8s.io/")
            || (self.api_version.is_empty() && self.kind.is_empty());
        match self.root.get("images") {
            Some(Node::Seq { items, .. }) if is_kustomize => Some(items),
            _ => None,
        }
    }

    fn is_candidate(&self) -> bool {
        self.is_config_sync_oci()
            || self.is_flux_oci_repository()
            || self.kustomize_images().is_some()
    }
}

/// Finds what to edit. `reference` is `image.reference(pin)`, computed once by the caller.
pub(super) fn plan<'a>(
    documents: &'a [Node],
    image: &NewImage,
    pin: Pin,
    reference: &str,
    name: Option<&str>,
) -> Result<Vec<Planned<'a>>, BumpError> {
    let docs: Vec<Doc<'a>> = documents
        .iter()
        .filter_map(Node::as_map)
        .map(Doc::new)
        .collect();
    if let Some(name) = name.filter(|name| !docs.iter().any(|doc| doc.name == Some(name))) {
        return Err(BumpError::NameNotFound {
            name: name.to_owned(),
            available: docs
                .iter()
                .filter(|doc| doc.name.is_some() && doc.is_candidate())
                .map(Doc::label)
                .collect(),
        });
    }
    let selected: Vec<&Doc<'a>> = docs
        .iter()
        .filter(|doc| name.is_none_or(|name| doc.name == Some(name)))
        .collect();
    let mut plans = Vec::new();

    let syncs: Vec<&Doc<'a>> = selected
        .iter()
        .copied()
        .filter(|doc| doc.is_config_sync_oci())
        .collect();
    // `is_config_sync_oci` already required `spec` to be a mapping.
    let sync = pick_sync(&syncs, &image.repository)?;
    if let Some((doc, spec)) = sync.and_then(|doc| doc.spec().map(|spec| (doc, spec))) {
        plans.push(Planned {
            target: doc.target(doc.kind),
            map: spec,
            field: "spec".to_owned(),
            wants: vec![want(&["oci", "image"], reference)],
        });
    }

    let url = format!("oci://{}", image.repository);
    for doc in selected.iter().filter(|doc| doc.is_flux_oci_repository()) {
        let Some(spec) = doc.spec() else { continue };
        if spec.path_str(&["url"]) != Some(url.as_str()) {
            continue;
        }
        let target = doc.target("OCIRepository");
        if pin == Pin::Tag {
            // Flux resolves spec.ref as digest, then semver, then tag: a tag under either
            // of the others would be written and silently ignored.
            for field in ["digest", "semver"] {
                precedence(&target, spec, &["ref", field], &format!("spec.ref.{field}"))?;
            }
        }
        plans.push(Planned {
            target,
            map: spec,
            field: "spec".to_owned(),
            wants: pinned(image, pin, ["ref", "tag"], ["ref", "digest"]),
        });
    }

    for doc in &selected {
        let Some(images) = doc.kustomize_images() else {
            continue;
        };
        for (index, entry) in images.iter().enumerate() {
            let Some(entry) = entry.as_map() else {
                continue;
            };
            let matches = |key: &str| entry.path_str(&[key]) == Some(image.repository.as_str());
            if !(matches("name") || matches("newName")) {
                continue;
            }
            let target = doc.target("Kustomization");
            let field = format!("images[{index}]");
            if pin == Pin::Tag {
                // kustomize appends the digest to the tag: the old digest would still pin.
                precedence(&target, entry, &["digest"], &format!("{field}.digest"))?;
            }
            plans.push(Planned {
                target,
                map: entry,
                field,
                wants: pinned(image, pin, ["newTag"], ["digest"]),
            });
        }
    }

    if plans.is_empty() {
        return Err(BumpError::NoTarget {
            repository: image.repository.clone(),
        });
    }
    Ok(plans)
}

/// One RootSync/RepoSync out of several: the only one already on this repository, if any.
fn pick_sync<'d, 'a>(
    syncs: &[&'d Doc<'a>],
    repository: &str,
) -> Result<Option<&'d Doc<'a>>, BumpError> {
    match syncs {
        [] => Ok(None),
        [only] => Ok(Some(only)),
        _ => {
            let same: Vec<&&Doc<'a>> = syncs
                .iter()
                .filter(|doc| {
                    doc.root
                        .path_str(&["spec", "oci", "image"])
                        .map(repository_of)
                        == Some(repository)
                })
                .collect();
            match same.as_slice() {
                [only] => Ok(Some(only)),
                _ => Err(BumpError::Ambiguous {
                    names: syncs.iter().map(|doc| doc.label()).collect(),
                }),
            }
        }
    }
}

/// The repository part of an image reference: without `@digest` and without a `:tag`
/// after the last `/` (a `:` before it is a registry port).
pub(super) fn repository_of(reference: &str) -> &str {
    let name = reference
        .split_once('@')
        .map_or(reference, |(name, _)| name);
    match name.rfind(':') {
        Some(colon) if colon > name.rfind('/').unwrap_or(0) => &name[..colon],
        _ => name,
    }
}

fn want(path: &[&'static str], value: &str) -> Want {
    Want {
        path: path.to_vec(),
        value: value.to_owned(),
    }
}

/// The tag and digest keys a pin sets, tag first as in `repo:tag@digest`. The caller has
/// already checked that a tag exists when the pin needs one.
fn pinned<const T: usize, const D: usize>(
    image: &NewImage,
    pin: Pin,
    tag: [&'static str; T],
    digest: [&'static str; D],
) -> Vec<Want> {
    let mut wants = Vec::new();
    if let (Pin::Tag | Pin::Both, Some(value)) = (pin, &image.tag) {
        wants.push(want(&tag, value));
    }
    if matches!(pin, Pin::Digest | Pin::Both) {
        wants.push(want(&digest, image.digest.as_str()));
    }
    wants
}

fn precedence(target: &Target, map: &Map, path: &[&str], field: &str) -> Result<(), BumpError> {
    let Some(node) = map.path(path) else {
        return Ok(());
    };
    let line = node.as_scalar().map_or(0, |scalar| scalar.line);
    Err(BumpError::Precedence {
        kind: target.kind.clone(),
        name: target.name.clone(),
        field: field.to_owned(),
        line,
    })
}

/// The document's indentation step: how much deeper the first nested block mapping sits
/// than its key, 2 when the document has none.
fn indent_step(root: &Map) -> usize {
    fn find(map: &Map) -> Option<usize> {
        for (key, value) in &map.entries {
            let Node::Map(child) = value else { continue };
            let first_key = child.entries.first().and_then(|(key, _)| key.as_scalar());
            if let (false, Some(key), Some(child_key)) = (child.flow, key.as_scalar(), first_key) {
                if child_key.col > key.col {
                    return Some(child_key.col - key.col);
                }
            }
            if let Some(step) = find(child) {
                return Some(step);
            }
        }
        None
    }
    find(root).unwrap_or(2)
}
