//! The files a run judges, each CRD file parsed once.
//!
//! Some files are read before any resource is checked: CRDs give schemas, RootSyncs and
//! RepoSyncs the repository layout. A file that declares CRDs is parsed up front and the
//! parse is kept for its check (reading it three times made CRD files the slowest part of a
//! run), up to [`HELD_CRD_TEXT`] of them. Of other files only the folders their syncs sync
//! are kept from the early parse, and the file is parsed again where it is checked, so a run
//! does not hold every file's tree at once.

use rayon::prelude::*;

use super::configsync::layout::{SyncedDir, synced_dirs};
use crate::manifest::{Resource, Source, YamlProblem, parse_stream, resources_of};

/// A file to judge, with what is read of it before the check.
pub struct File {
    pub source: Source,
    /// The whole parse of a file that declares CRDs.
    parsed: Option<Parsed>,
    /// The folders the file's RootSyncs and RepoSyncs sync.
    synced: Vec<SyncedDir>,
}

/// A file's resources and the YAML errors that stopped documents in it.
pub struct Parsed {
    pub resources: Vec<Resource>,
    pub errors: Vec<YamlProblem>,
}

impl Parsed {
    pub(super) fn of(text: &str) -> Parsed {
        let stream = parse_stream(text);
        Parsed {
            resources: stream
                .documents
                .into_iter()
                .flat_map(resources_of)
                .collect(),
            errors: stream.errors,
        }
    }
}

/// CRD files whose parse is kept for their check, by size of text, in input order: a parsed
/// tree with its positions took 6–7 times its text (Config Sync's CRDs), so this holds some
/// 30 MiB at most. CRD files past it are parsed again by [`super::collect_crds`] and by their
/// check.
const HELD_CRD_TEXT: usize = 4 << 20;

/// Whether the text may hold what is read before checking: a cheap test on the text, so a
/// file that cannot is never parsed early.
pub(super) fn declares_crds(text: &str) -> bool {
    text.contains("CustomResourceDefinition")
}

fn declares_syncs(text: &str) -> bool {
    text.contains("RootSync") || text.contains("RepoSync")
}

/// Wraps sources as files, parsing in parallel (on the current rayon pool) those that declare
/// CRDs or syncs.
pub fn prepare(sources: Vec<Source>) -> Vec<File> {
    let mut room = HELD_CRD_TEXT;
    let held: Vec<bool> = sources
        .iter()
        .map(|s| {
            let hold = declares_crds(&s.text) && s.text.len() <= room;
            if hold {
                room -= s.text.len();
            }
            hold
        })
        .collect();
    sources
        .into_par_iter()
        .zip(held)
        .map(|(source, held)| {
            let (parsed, synced) = if held {
                let parsed = Parsed::of(&source.text);
                let synced = synced_dirs(&parsed.resources);
                (Some(parsed), synced)
            } else if declares_syncs(&source.text) {
                (None, synced_dirs(&Parsed::of(&source.text).resources))
            } else {
                (None, Vec::new())
            };
            File {
                source,
                parsed,
                synced,
            }
        })
        .collect()
}

impl File {
    /// The parse of a file that declares CRDs, if it was kept.
    pub fn crd_file(&self) -> Option<&Parsed> {
        self.parsed.as_ref()
    }

    /// The folders the file's RootSyncs and RepoSyncs sync.
    pub fn synced(&self) -> &[SyncedDir] {
        &self.synced
    }

    /// The file's resources and errors, parsing now if that was not kept from before.
    pub fn into_parsed(self) -> (Source, Parsed) {
        let parsed = match self.parsed {
            Some(p) => p,
            None => Parsed::of(&self.source.text),
        };
        (self.source, parsed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn source(name: &str, text: &str) -> Source {
        Source {
            name: name.into(),
            text: text.to_owned(),
        }
    }

    #[test]
    fn crd_files_are_parsed_once_and_syncs_kept() {
        let files = prepare(vec![
            source(
                "crd.yaml",
                "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\n",
            ),
            source(
                "sync.yaml",
                "apiVersion: configsync.gke.io/v1\nkind: RootSync\n---\napiVersion: configsync.gke.io/v1beta1\nkind: RepoSync\n---\nkind: ConfigMap\n",
            ),
            source("app.yaml", "apiVersion: v1\nkind: ConfigMap\n"),
        ]);
        let kept: Vec<(bool, usize)> = files
            .iter()
            .map(|f| (f.crd_file().is_some(), f.synced().len()))
            .collect();
        assert_eq!(kept, [(true, 0), (false, 2), (false, 0)]);
        // Past the room for held parses, a CRD file is parsed again later; its syncs are
        // still known.
        let padding = format!("# {}\n", "x".repeat(HELD_CRD_TEXT));
        let big = prepare(vec![source(
            "big.yaml",
            &format!(
                "{padding}kind: CustomResourceDefinition\n---\napiVersion: configsync.gke.io/v1\nkind: RootSync\n"
            ),
        )]);
        assert!(big[0].crd_file().is_none());
        assert_eq!(big[0].synced().len(), 1);
        // The file left for later parses as well when it is checked, errors included.
        let later = prepare(vec![source("bad.yaml", "a: 1\n---\nb: [\n")]);
        let (source, parsed) = later.into_iter().next().unwrap().into_parsed();
        assert_eq!(&*source.name, "bad.yaml");
        assert_eq!(parsed.resources.len(), 1);
        assert_eq!(parsed.errors.len(), 1);
    }
}
