//! CRD conversion (`validate::schema::crd`) as `validate --crd` runs it: the CRDs of a file
//! are converted and compiled, then the file's other resources are validated against them on
//! a worker thread with the validation pool's stack, and the report is rendered (JSON, SARIF
//! or text, by the input's length).
//!
//! Invariants: no panic, stack overflow, hang or blow-up; one result per resource; the JSON
//! and SARIF reports are JSON.
#![no_main]

use std::sync::{Arc, OnceLock};

use kbundle::manifest::Source;
use kbundle::report::{Format, Settings, render};
use kbundle::validate::schema::{Fetch, SchemaOptions, SchemaStore};
use kbundle::validate::files::prepare;
use kbundle::validate::{Rules, collect_crds, run};
use libfuzzer_sys::fuzz_target;

struct Offline;

impl Fetch for Offline {
    fn fetch(&self, url: &str) -> Result<Option<Vec<u8>>, String> {
        Err(format!("{url}: no network while fuzzing"))
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    // One worker, with the stack `validate` gives its workers.
    static POOL: OnceLock<rayon::ThreadPool> = OnceLock::new();
    let pool = POOL.get_or_init(|| kbundle::validate::pool(1).expect("one worker"));
    let options = SchemaOptions {
        version: "1.33".parse().expect("a version"),
        // Both conversions, chosen by the input so each can be reached.
        strict: data.len() % 2 == 1,
        locations: Vec::new(),
    };
    let mut store = SchemaStore::new(options, Arc::new(Offline)).expect("no embedded location");
    let source = Source {
        name: "fuzz.yaml".into(),
        text: text.to_owned(),
    };
    pool.install(|| {
        let files = prepare(vec![source]);
        collect_crds(&files, &mut store);
        let rules = Rules {
            ignore_missing_schemas: true,
            ..Rules::default()
        };
        let report = run(files, &store, &rules);
        let settings = Settings {
            verbose: true,
            summary: true,
        };
        // One report a run, chosen by the input, so all three are reached without each run
        // paying for three renders.
        let format = [Format::Json, Format::Sarif, Format::Text][data.len() % 3];
        let mut out = Vec::new();
        render(&report, format, settings, &mut out).expect("rendering into memory");
        if format != Format::Text {
            let parsed = serde_json::from_slice::<serde_json::Value>(&out);
            assert!(
                parsed.is_ok(),
                "{format:?} report is not JSON: {:?}",
                parsed.err()
            );
        }
    });
});
