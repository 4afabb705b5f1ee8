//! Finding, converting and compiling the schema for each kind, once per run.

pub mod crd;
pub mod embedded;
pub mod formats;
pub mod location;

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex, OnceLock};

use serde_json::Value;

pub use location::{KubeVersion, SchemaLocation, kind_stem};

use crate::manifest::Gvk;
use crate::validate::scope::{Scope, builtin_scope};
use crd::CrdVersion;
use embedded::Embedded;

/// Reads a schema over the network. Implemented by an adapter (`crate::http`) so that
/// validation itself stays free of I/O policy; `Ok(None)` means "not there" (HTTP 404).
pub trait Fetch: Send + Sync {
    fn fetch(&self, url: &str) -> Result<Option<Vec<u8>>, String>;
}

/// How schemas are chosen.
#[derive(Debug, Clone)]
pub struct SchemaOptions {
    pub version: KubeVersion,
    pub strict: bool,
    /// Tried in order; the first that has the kind wins.
    pub locations: Vec<SchemaLocation>,
}

/// A compiled schema and where it came from (for messages).
pub struct Schema {
    pub validator: jsonschema::Validator,
    pub source: String,
    /// The CRD's CEL rules (`x-kubernetes-validations`), compiled once.
    pub rules: Vec<crate::validate::cel::Rule>,
}

/// The outcome of looking a kind up.
#[derive(Clone)]
pub enum Lookup {
    Found(Arc<Schema>),
    Missing,
    /// A schema exists but could not be read or compiled.
    Failed(Arc<str>),
}

const CONFIGSYNC_CRDS: [&str; 5] = [
    include_str!("../../../schemas/configsync/rootsync-crd.yaml"),
    include_str!("../../../schemas/configsync/reposync-crd.yaml"),
    include_str!("../../../schemas/configsync/selector-crds.yaml"),
    include_str!("../../../schemas/configsync/hierarchy-crds.yaml"),
    include_str!("../../../schemas/configsync/repo-crd.yaml"),
];

/// Resolves kinds to compiled schemas: CRDs first, then each location in order. Each kind
/// is compiled at most once; concurrent lookups of the same kind wait for one compilation.
pub struct SchemaStore {
    options: SchemaOptions,
    crds: HashMap<Gvk, CrdVersion>,
    configsync: OnceLock<HashMap<Gvk, CrdVersion>>,
    retriever: Retriever,
    cache: Mutex<HashMap<Gvk, Arc<OnceLock<Lookup>>>>,
}

impl SchemaStore {
    pub fn new(options: SchemaOptions, fetch: Arc<dyn Fetch>) -> Result<SchemaStore, String> {
        let embedded = options.locations.contains(&SchemaLocation::Embedded);
        if embedded && options.version.embedded_minor().is_none() {
            return Err(format!(
                "--kubernetes-version {}: kbundle embeds schemas for 1.{} to 1.{}; choose one of those, or give --schema-location for other versions",
                options.version,
                embedded::MINORS.start(),
                embedded::MINORS.end()
            ));
        }
        Ok(SchemaStore {
            options,
            crds: HashMap::new(),
            configsync: OnceLock::new(),
            retriever: Retriever {
                embedded: Arc::new(Embedded::default()),
                fetch,
            },
            cache: Mutex::new(HashMap::new()),
        })
    }

    /// Adds the versions of a CustomResourceDefinition. Returns how many were added.
    pub fn add_crd(&mut self, crd: &Value) -> Result<usize, String> {
        let versions = crd::versions(crd)?;
        let n = versions.len();
        for v in versions {
            self.crds.insert(v.gvk.clone(), v);
        }
        Ok(n)
    }

    fn configsync(&self) -> &HashMap<Gvk, CrdVersion> {
        self.configsync.get_or_init(|| {
            let mut out = HashMap::new();
            for text in CONFIGSYNC_CRDS {
                let stream = crate::manifest::parse_stream(text);
                for doc in stream.documents {
                    for v in crd::versions(&doc.value).unwrap_or_default() {
                        out.insert(v.gvk.clone(), v);
                    }
                }
            }
            out
        })
    }

    /// Whether a kind is cluster-scoped, from the built-in list or a known CRD.
    pub fn scope(&self, gvk: &Gvk) -> Option<Scope> {
        builtin_scope(&gvk.group, &gvk.kind)
            .or_else(|| self.crds.get(gvk).map(|c| c.scope))
            .or_else(|| {
                (gvk.group == "configsync.gke.io")
                    .then(|| self.configsync().get(gvk).map(|c| c.scope))
                    .flatten()
            })
            .or_else(|| {
                // A CRD for another version of the same kind still tells its scope.
                self.crds
                    .values()
                    .find(|c| c.gvk.group == gvk.group && c.gvk.kind == gvk.kind)
                    .map(|c| c.scope)
            })
    }

    pub fn lookup(&self, gvk: &Gvk) -> Lookup {
        let cell = {
            let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
            cache.entry(gvk.clone()).or_default().clone()
        };
        cell.get_or_init(|| self.resolve(gvk)).clone()
    }

    fn resolve(&self, gvk: &Gvk) -> Lookup {
        let strict = self.options.strict;
        if let Some(c) = self.crds.get(gvk) {
            let source = format!("CustomResourceDefinition for {}", gvk.api_version());
            return self.compile_crd(c, source);
        }
        for location in &self.options.locations {
            let found = match location {
                SchemaLocation::Embedded => self.embedded(gvk),
                SchemaLocation::Template(t) => {
                    let target = location::render(t, self.options.version, strict, gvk);
                    self.templated(&target)
                }
            };
            if !matches!(found, Lookup::Missing) {
                return found;
            }
        }
        Lookup::Missing
    }

    /// The embedded ObjectMeta of the version in use (the newest embedded one for versions
    /// served from elsewhere: ObjectMeta has not changed in years).
    fn object_meta_uri(&self) -> String {
        let minor = self
            .options
            .version
            .embedded_minor()
            .unwrap_or(*embedded::MINORS.end());
        let suffix = if self.options.strict { "-strict" } else { "" };
        format!(
            "{}v1.{minor}.0{suffix}/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta",
            embedded::BASE_URI
        )
    }

    fn embedded(&self, gvk: &Gvk) -> Lookup {
        let Some(minor) = self.options.version.embedded_minor() else {
            return Lookup::Missing;
        };
        let strict = self.options.strict;
        let stem = kind_stem(gvk);
        let uri = embedded::uri(minor, strict, &stem);
        if let Some(schema) = self.retriever.embedded.resolve(&uri) {
            // File names drop most of the group (`networking-v1`); make sure this schema is
            // for this very group, not a namesake CRD's.
            if declares(&schema, gvk) {
                let source = format!("embedded Kubernetes 1.{minor} schema {stem}");
                return self.compile(schema, &uri, source);
            }
        }
        if matches!(
            gvk.group.as_str(),
            "configsync.gke.io" | "configmanagement.gke.io"
        ) {
            if let Some(c) = self.configsync().get(gvk) {
                let source = format!("embedded Config Sync CRD for {}", gvk.api_version());
                return self.compile_crd(c, source);
            }
        }
        Lookup::Missing
    }

    fn templated(&self, target: &str) -> Lookup {
        let (uri, bytes) = if target.starts_with("http://") || target.starts_with("https://") {
            match self.retriever.fetch.fetch(target) {
                Ok(Some(b)) => (target.to_owned(), b),
                Ok(None) => return Lookup::Missing,
                Err(e) => return Lookup::Failed(e.into()),
            }
        } else {
            let path = target.strip_prefix("file://").unwrap_or(target);
            match std::fs::read(path) {
                Ok(b) => (file_uri(Path::new(path)), b),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Lookup::Missing,
                Err(e) => return Lookup::Failed(format!("{path}: {e}").into()),
            }
        };
        match serde_json::from_slice::<Value>(&bytes) {
            Ok(schema) => self.compile(schema, &uri, target.to_owned()),
            Err(e) => Lookup::Failed(format!("schema {target} is not valid JSON: {e}").into()),
        }
    }

    /// A CRD version's schema and its CEL rules.
    fn compile_crd(&self, c: &CrdVersion, source: String) -> Lookup {
        let schema = crd::to_json_schema(&c.openapi, self.options.strict, &self.object_meta_uri());
        let found = self.compile(schema, &crd_uri(&c.gvk), source);
        match found {
            Lookup::Found(schema) => {
                let owner = format!("{} {}", schema.source, c.gvk.kind);
                let rules = crate::validate::cel::compile(&c.openapi, &owner);
                match Arc::try_unwrap(schema) {
                    Ok(mut s) => {
                        s.rules = rules;
                        Lookup::Found(Arc::new(s))
                    }
                    Err(shared) => Lookup::Found(shared),
                }
            }
            other => other,
        }
    }

    fn compile(&self, mut schema: Value, uri: &str, source: String) -> Lookup {
        formats::bound_integer_formats(&mut schema);
        let built = jsonschema::options()
            .with_draft(jsonschema::Draft::Draft202012)
            .with_retriever(self.retriever.clone())
            .with_base_uri(uri)
            .build(&schema);
        match built {
            Ok(validator) => Lookup::Found(Arc::new(Schema {
                validator,
                source,
                rules: Vec::new(),
            })),
            Err(e) => Lookup::Failed(format!("schema {source} could not be compiled: {e}").into()),
        }
    }
}

fn declares(schema: &Value, gvk: &Gvk) -> bool {
    schema
        .get("x-kubernetes-group-version-kind")
        .and_then(Value::as_array)
        .is_some_and(|list| {
            list.iter().any(|g| {
                g.get("group").and_then(Value::as_str) == Some(gvk.group.as_str())
                    && g.get("version").and_then(Value::as_str) == Some(gvk.version.as_str())
                    && g.get("kind").and_then(Value::as_str) == Some(gvk.kind.as_str())
            })
        })
}

fn crd_uri(gvk: &Gvk) -> String {
    format!(
        "https://schemas.kbundle.invalid/crd/{}/{}/{}.json",
        if gvk.group.is_empty() {
            "core"
        } else {
            &gvk.group
        },
        gvk.version,
        gvk.kind
    )
}

fn file_uri(path: &Path) -> String {
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    format!("file://{}", absolute.display())
}

/// Serves `$ref`s: embedded definitions, local files, and URLs through [`Fetch`].
#[derive(Clone)]
struct Retriever {
    embedded: Arc<Embedded>,
    fetch: Arc<dyn Fetch>,
}

impl jsonschema::Retrieve for Retriever {
    fn retrieve(
        &self,
        uri: &jsonschema::Uri<String>,
    ) -> Result<Value, Box<dyn std::error::Error + Send + Sync>> {
        // `$ref`s bring in most of a kind's schema (the embedded definitions, for one).
        let mut schema = self.retrieve_raw(uri.as_str())?;
        formats::bound_integer_formats(&mut schema);
        Ok(schema)
    }
}

impl Retriever {
    fn retrieve_raw(&self, uri: &str) -> Result<Value, Box<dyn std::error::Error + Send + Sync>> {
        if uri.starts_with(embedded::BASE_URI) {
            return self
                .embedded
                .resolve(uri)
                .ok_or_else(|| format!("no embedded schema {uri}").into());
        }
        if let Some(path) = uri.strip_prefix("file://") {
            let bytes = std::fs::read(path).map_err(|e| format!("{path}: {e}"))?;
            return Ok(serde_json::from_slice(&bytes)?);
        }
        if uri.starts_with("http://") || uri.starts_with("https://") {
            return match self.fetch.fetch(uri)? {
                Some(bytes) => Ok(serde_json::from_slice(&bytes)?),
                None => Err(format!("{uri}: not found").into()),
            };
        }
        Err(format!("cannot retrieve {uri}").into())
    }
}
