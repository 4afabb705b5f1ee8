//! Judging resources: schemas, Config Sync rules, and the run that applies them to files.

pub mod cel;
pub mod configsync;
pub mod files;
pub mod kustomize;
mod problems;
pub mod schema;
pub mod scope;

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::manifest::{Gvk, Resource};
use crate::report::{Problem, Report, ResourceResult, Status};
use configsync::layout::{Layout, Place};
use configsync::{Identity, SelectorName};
use files::File;
use rayon::prelude::*;
use schema::{Lookup, SchemaStore};

/// Whether Config Sync's rules apply.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ConfigSyncRules {
    /// On inside Config Sync repositories: hierarchical ones, and those a RootSync or
    /// RepoSync among the inputs syncs (see [`configsync::layout`]).
    #[default]
    Auto,
    On,
    Off,
}

/// Kinds named on the command line, as `Kind` or `group/version/Kind`.
#[derive(Debug, Clone, Default)]
pub struct KindSet(HashSet<String>);

impl KindSet {
    /// Parses kubeconform's comma-separated lists (`Secret,apps/v1/Deployment`).
    pub fn parse(lists: &[String]) -> KindSet {
        KindSet(
            lists
                .iter()
                .flat_map(|l| l.split(','))
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect(),
        )
    }

    pub fn contains(&self, gvk: &Gvk) -> bool {
        !self.0.is_empty()
            && (self.0.contains(&gvk.kind)
                || self
                    .0
                    .contains(&format!("{}/{}", gvk.api_version(), gvk.kind)))
    }
}

/// Everything that decides a verdict, besides the schemas.
#[derive(Debug, Clone, Default)]
pub struct Rules {
    pub skip: KindSet,
    pub reject: KindSet,
    pub ignore_missing_schemas: bool,
    pub configsync: ConfigSyncRules,
    /// Stop reading further files after the first invalid resource or error.
    pub exit_on_error: bool,
    /// Fail YAML documents that are no Kubernetes resource (no apiVersion and no kind)
    /// instead of skipping them.
    pub reject_unknown_files: bool,
}

/// A checked resource with what the run-wide rules still need to know about it.
struct Checked {
    result: ResourceResult,
    configsync: Vec<Problem>,
    identity: Option<(Identity, crate::manifest::Location)>,
    /// The repository root, and the selector this resource declares.
    declares: Option<(Arc<str>, SelectorName)>,
    /// Selectors named by annotations: (root, selector, where, pointer).
    references: Vec<(Arc<str>, SelectorName, crate::manifest::Location, String)>,
}

impl Checked {
    fn plain(result: ResourceResult) -> Checked {
        Checked {
            result,
            configsync: Vec::new(),
            identity: None,
            declares: None,
            references: Vec::new(),
        }
    }
}

/// Stack of each validation worker. CEL rules are parsed, bounded and evaluated by
/// recursion, as deep as cel-go's limits let them nest ([`cel`]): at those limits a debug
/// build needed 8–16 MiB, twice that is kept. Only the pages used are committed.
const WORKER_STACK: usize = 32 << 20;

/// The pool validation runs on: `workers` threads with [`WORKER_STACK`].
pub fn pool(workers: usize) -> Result<rayon::ThreadPool, rayon::ThreadPoolBuildError> {
    rayon::ThreadPoolBuilder::new()
        .num_threads(workers)
        .stack_size(WORKER_STACK)
        .build()
}

/// Validates files in parallel on the current rayon pool and reports in input order.
pub fn run(sources: Vec<File>, store: &SchemaStore, rules: &Rules) -> Report {
    let files = sources.len();
    let stop = AtomicBool::new(false);
    // Config Sync's checks cost a little per resource; skip them when they cannot apply.
    let layout = match rules.configsync {
        ConfigSyncRules::Off => Layout::default(),
        mode => {
            let synced: Vec<_> = sources
                .iter()
                .map(|f| (&*f.source.name, f.synced()))
                .collect();
            Layout::new(&synced, mode == ConfigSyncRules::On)
        }
    };
    let checked: Vec<Vec<Checked>> = sources
        .into_par_iter()
        .map(|source| {
            if stop.load(Ordering::Relaxed) {
                return Vec::new();
            }
            let place = if layout.is_empty() {
                None
            } else {
                layout.place(&source.source.name)
            };
            let out = check_source(source, store, rules, place.as_ref());
            if rules.exit_on_error
                && out
                    .iter()
                    .any(|c| matches!(c.result.status, Status::Invalid | Status::Error))
            {
                stop.store(true, Ordering::Relaxed);
            }
            out
        })
        .collect();
    let mut checked: Vec<Checked> = checked.into_iter().flatten().collect();
    if rules.exit_on_error {
        // Files finish out of order; keep everything up to the first failure in input order.
        if let Some(first) = checked
            .iter()
            .position(|c| matches!(c.result.status, Status::Invalid | Status::Error))
        {
            checked.truncate(first + 1);
        }
    }

    if !layout.is_empty() {
        apply_configsync(&mut checked);
    }
    Report {
        resources: checked.into_iter().map(|c| c.result).collect(),
        files,
    }
}

fn apply_configsync(checked: &mut [Checked]) {
    let declared: HashSet<(Arc<str>, SelectorName)> =
        checked.iter().filter_map(|c| c.declares.clone()).collect();
    // Only where the repository's selectors of that kind are among the inputs: a folder
    // validated alone may use selectors declared elsewhere in its repository.
    let uses: HashSet<(Arc<str>, &'static str)> = declared
        .iter()
        .map(|(root, (kind, _))| (root.clone(), *kind))
        .collect();
    let mut seen: HashMap<Identity, (Arc<str>, u32)> = HashMap::new();
    for c in checked.iter_mut() {
        let mut problems = std::mem::take(&mut c.configsync);
        for (root, selector, at, pointer) in std::mem::take(&mut c.references) {
            if uses.contains(&(root.clone(), selector.0))
                && !declared.contains(&(root, selector.clone()))
            {
                problems.push(configsync::unknown_selector(
                    &c.result.kind,
                    &c.result.name,
                    &selector,
                    at,
                    pointer,
                ));
            }
        }
        if let Some((id, at)) = c.identity.take() {
            match seen.get(&id) {
                Some((file, line)) => problems.push(configsync::collision(&id, file, *line, at)),
                None => {
                    seen.insert(id, (c.result.filename.clone(), c.result.pos.line));
                }
            }
        }
        if problems.is_empty() {
            continue;
        }
        let r = &mut c.result;
        if matches!(r.status, Status::Valid | Status::Skipped) {
            r.status = Status::Invalid;
            r.msg.clear();
        }
        r.errors.extend(problems);
        r.errors.sort_by_key(|p| (p.line, p.column));
    }
}

fn check_source(
    file: File,
    store: &SchemaStore,
    rules: &Rules,
    configsync: Option<&Place>,
) -> Vec<Checked> {
    let (source, parsed) = file.into_parsed();
    let mut out = Vec::new();
    for resource in parsed.resources {
        out.push(check_resource(
            &source.name,
            resource,
            store,
            rules,
            configsync,
        ));
    }
    // A Go template is not YAML until rendered; say so rather than only why it fails to parse.
    let templated = !parsed.errors.is_empty() && source.text.contains("{{");
    for e in parsed.errors {
        let msg = if templated {
            format!(
                "{}; this looks like a Helm template: render it first (helm template) and validate the output",
                e.message
            )
        } else {
            e.message
        };
        out.push(Checked::plain(ResourceResult::file_error(
            source.name.clone(),
            msg,
            e.pos,
        )));
    }
    // Errors after the documents before them, as the file reads.
    out.sort_by_key(|c| c.result.pos);
    out
}

fn check_resource(
    file: &Arc<str>,
    resource: Resource,
    store: &SchemaStore,
    rules: &Rules,
    configsync: Option<&Place>,
) -> Checked {
    let gvk = resource.gvk();
    let mut result = ResourceResult {
        filename: file.clone(),
        kind: gvk.kind.clone(),
        name: resource.name().to_owned(),
        namespace: resource.namespace().to_owned(),
        version: resource.api_version().to_owned(),
        status: Status::Valid,
        msg: String::new(),
        pos: resource.start,
        errors: Vec::new(),
    };
    let checked = Checked::plain;
    if let Some(kind) = kustomize::kind_of(file, &resource.value) {
        // kustomize's own file: its schema, reported as what it is.
        result.kind = kind.to_owned();
        if result.version.is_empty() {
            result.version = format!("{}/v1beta1", kustomize::API_GROUP);
        }
        // kubeconform's --skip and --reject still apply to it.
        let gvk = crate::manifest::Gvk::new(&result.version, kind);
        if rules.reject.contains(&gvk) {
            result.status = Status::Error;
            result.msg = format!("prohibited resource kind {kind}");
            return checked(result);
        }
        if rules.skip.contains(&gvk) {
            result.status = Status::Skipped;
            return checked(result);
        }
        result.errors = kustomize::check(&resource);
        if !result.errors.is_empty() {
            result.status = Status::Invalid;
        }
        return checked(result);
    }
    let unknown = |result: &mut ResourceResult, why: &str| {
        if rules.reject_unknown_files {
            result.status = Status::Error;
            result.msg = format!("{why}; it is not a Kubernetes resource");
        } else {
            // Chart.yaml, values.yaml, docker-compose.yml: not for kubectl, not invalid.
            result.status = Status::Skipped;
            result.msg = format!(
                "{why}, so it is not a Kubernetes resource; skipped (--reject-unknown-files fails it)"
            );
        }
    };
    if !resource.value.is_object() {
        unknown(&mut result, "this document is not a mapping");
        return checked(result);
    }
    if gvk.kind.is_empty() && result.version.is_empty() {
        unknown(&mut result, "this document has no apiVersion and no kind");
        return checked(result);
    }
    if gvk.kind.is_empty() && helm_file(file) {
        // Chart.yaml has an apiVersion of its own (v1, v2) and no kind.
        unknown(&mut result, "this is a Helm chart file with no kind");
        return checked(result);
    }
    for (field, present) in [
        ("kind", !gvk.kind.is_empty()),
        ("apiVersion", !result.version.is_empty()),
    ] {
        if !present {
            result.status = Status::Error;
            result.msg = format!("missing '{field}' key");
            return checked(result);
        }
    }
    if rules.reject.contains(&gvk) {
        result.status = Status::Error;
        result.msg = format!("prohibited resource kind {}", gvk.kind);
        return checked(result);
    }
    if rules.skip.contains(&gvk) {
        result.status = Status::Skipped;
        return checked(result);
    }

    for p in &resource.problems {
        result.errors.push(Problem {
            path: p.pointer.clone().unwrap_or_default(),
            msg: p.message.clone(),
            line: p.pos.line,
            column: p.pos.column,
            code: None,
        });
    }
    let lookup = store.lookup(&gvk);
    if matches!(lookup, Lookup::Missing) {
        // A misspelled kind is the usual cause: point at it, not at the document's start.
        result.pos = resource.locate("/kind").value;
    }
    match lookup {
        Lookup::Found(schema) => {
            result
                .errors
                .extend(problems::schema_problems(&schema.validator, &resource));
            result.errors.extend(cel::check(&schema.rules, &resource));
        }
        Lookup::Missing if rules.ignore_missing_schemas => {
            result.status = Status::Skipped;
            result.msg = format!("no schema found for {} ({})", gvk.kind, result.version);
        }
        Lookup::Missing => {
            result.status = Status::Error;
            result.msg = format!(
                "could not find schema for {} ({}); add its CRD with --crd, point --schema-location at it, or pass --ignore-missing-schemas",
                gvk.kind, result.version
            );
        }
        Lookup::Failed(why) => {
            result.status = Status::Error;
            result.msg = why.to_string();
        }
    }
    if !result.errors.is_empty() && result.status != Status::Error {
        result.status = Status::Invalid;
        result.errors.sort_by_key(|p| (p.line, p.column));
    }

    let Some(place) = configsync else {
        return checked(result);
    };
    let scope = store.scope(&gvk);
    let root = &place.root;
    Checked {
        configsync: {
            let mut problems = configsync::check(&resource, scope);
            if place.hierarchical {
                problems.extend(configsync::hierarchy_rules(&resource));
            }
            problems
        },
        identity: configsync::identity(&resource, place, scope)
            .map(|id| (id, resource.locate("/metadata/name"))),
        declares: configsync::declared_selector(&resource).map(|s| (root.clone(), s)),
        references: configsync::selector_references(&resource)
            .into_iter()
            .map(|(s, at, pointer)| (root.clone(), s, at, pointer))
            .collect(),
        result,
    }
}

/// Files of a Helm chart that are YAML but never Kubernetes resources.
fn helm_file(file: &str) -> bool {
    let name = std::path::Path::new(file)
        .file_name()
        .map(|n| n.to_string_lossy())
        .unwrap_or_default();
    matches!(
        name.as_ref(),
        "Chart.yaml" | "Chart.yml" | "Chart.lock" | "requirements.yaml"
    ) || (name.starts_with("values") && (name.ends_with(".yaml") || name.ends_with(".yml")))
}

/// Reads CRDs out of files so their custom resources validate. Returns how many versions
/// were added; CRDs that cannot be converted are reported and skipped.
pub fn collect_crds(files: &[File], store: &mut SchemaStore) -> usize {
    let mut added = 0;
    for file in files {
        let source = &file.source;
        if !files::declares_crds(&source.text) {
            continue;
        }
        let reparsed;
        let parsed = match file.crd_file() {
            Some(parsed) => parsed,
            None => {
                reparsed = files::Parsed::of(&source.text);
                &reparsed
            }
        };
        for e in &parsed.errors {
            // Validating the file reports this too, but not a `--crd` file, which is only read.
            tracing::warn!(
                "{}:{}:{}: {}; CustomResourceDefinitions in that document are not used",
                source.name,
                e.pos.line,
                e.pos.column,
                e.message
            );
        }
        for r in &parsed.resources {
            if r.kind() != "CustomResourceDefinition"
                || !r.api_version().starts_with("apiextensions.k8s.io/")
            {
                continue;
            }
            match store.add_crd(&r.value) {
                Ok(n) => added += n,
                Err(e) => tracing::warn!(
                    "{}:{}: CustomResourceDefinition {} not usable: {e}",
                    source.name,
                    r.start.line,
                    r.name()
                ),
            }
        }
    }
    added
}
