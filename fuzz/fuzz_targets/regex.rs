//! Regular expressions from CRD rules and objects (`validate::cel::re2`): the input is a
//! pattern in Go's syntax, translated for the `regex` crate, compiled and run on itself.
//!
//! Invariants: no panic or blow-up whatever the pattern; a pattern the translation takes (Go
//! takes it) compiles, unless it is past the crate's nesting or size limits (a translation
//! the crate cannot read is a bug of the translation).
#![no_main]

use kbundle::validate::cel::re2::translate;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(pattern) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(translated) = translate(pattern) else {
        return;
    };
    // A small size limit: past it is what the target allows anyway, and compiling up to the
    // crate's 10 MiB default took tens of milliseconds an input.
    match regex::RegexBuilder::new(&translated)
        .size_limit(1 << 18)
        .build()
    {
        Ok(re) => {
            let _ = re.find_iter(pattern).count();
        }
        Err(regex::Error::CompiledTooBig(_)) => {}
        Err(e) => assert!(
            e.to_string().contains("exceed the maximum number of nested"),
            "{pattern:?} became {translated:?}, which the regex crate refuses: {e}"
        ),
    }
});
