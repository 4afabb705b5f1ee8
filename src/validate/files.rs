//! The files a run judges, each parsed once.
//!
//! A file that declares CRDs, RootSyncs or RepoSyncs is read before any resource is checked
//! (its CRDs give schemas, its syncs the repository layout), so it is parsed up front and the
//! parse is kept for its check; reading it three times made such files the slowest part of a
//! run. Other files are parsed where they are checked, so a large run does not hold every
//! file's tree at once.

use rayon::prelude::*;

use crate::manifest::{Resource, Source, YamlProblem, parse_stream, resources_of};

/// A file to judge, parsed when something before the check needs its resources.
pub struct File {
    pub source: Source,
    parsed: Option<Parsed>,
}

/// A file's resources and the YAML errors that stopped documents in it.
pub struct Parsed {
    pub resources: Vec<Resource>,
    pub errors: Vec<YamlProblem>,
}

impl Parsed {
    fn of(text: &str) -> Parsed {
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

/// Whether the text may hold what is read before checking: a cheap test on the text, so a
/// file that cannot is never parsed early.
pub(super) fn declares_crds(text: &str) -> bool {
    text.contains("CustomResourceDefinition")
}

pub(super) fn declares_syncs(text: &str) -> bool {
    text.contains("RootSync") || text.contains("RepoSync")
}

/// Wraps sources as files, parsing in parallel (on the current rayon pool) those that declare
/// CRDs or syncs.
pub fn prepare(sources: Vec<Source>) -> Vec<File> {
    sources
        .into_par_iter()
        .map(|source| {
            let parsed = (declares_crds(&source.text) || declares_syncs(&source.text))
                .then(|| Parsed::of(&source.text));
            File { source, parsed }
        })
        .collect()
}

impl File {
    /// The resources and errors parsed up front; `None` for a file that declares neither CRDs
    /// nor syncs.
    pub fn early(&self) -> Option<&Parsed> {
        self.parsed.as_ref()
    }

    /// The file's resources and errors, parsing now if that was not done up front.
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
    fn only_files_read_before_the_check_are_parsed_up_front() {
        let files = prepare(vec![
            source(
                "crd.yaml",
                "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\n",
            ),
            source(
                "sync.yaml",
                "apiVersion: configsync.gke.io/v1\nkind: RootSync\n---\nkind: RepoSync\n",
            ),
            source("app.yaml", "apiVersion: v1\nkind: ConfigMap\n"),
        ]);
        let early: Vec<usize> = files
            .iter()
            .map(|f| f.early().map_or(0, |p| p.resources.len()))
            .collect();
        assert_eq!(early, [1, 2, 0]);
        assert!(files[2].early().is_none());
        // The file left for later parses as well when it is checked, errors included.
        let later = prepare(vec![source("bad.yaml", "a: 1\n---\nb: [\n")]);
        let (source, parsed) = later.into_iter().next().unwrap().into_parsed();
        assert_eq!(&*source.name, "bad.yaml");
        assert_eq!(parsed.resources.len(), 1);
        assert_eq!(parsed.errors.len(), 1);
    }
}
