//! tar/gzip unpacking (`bundle::Unpacker`), as `pull` unpacks a bundle's layers, into a
//! folder that has a sentinel file and folder beside it (and is the working directory, so a
//! hard link resolved against it would hit the sentinel).
//!
//! Two kinds of input: raw layers (split on `LAYER_MARK`; plain tar or gzip, as pulled), and
//! after the `STRUCTURED` prefix, archives built from arbitrary entries over a small set of
//! names (`..`, `.`, `/`, `a`, `b`, the sentinel's name), so link chains and name collisions
//! are found quickly, with correct tar checksums.
//!
//! Invariants: no panic, hang or blow-up; nothing outside the folder is created, changed or
//! linked to (the sentinel keeps its content and its single link); when unpacking succeeds,
//! every symlink inside resolves inside (following the links it goes through), every hard
//! link is between files inside, and the files hold no more than the limit.
#![no_main]

#[path = "../common/scratch.rs"]
mod scratch;

use std::collections::HashMap;
use std::ffi::OsString;
use std::fs;
use std::io::Write;
use std::os::unix::fs::MetadataExt;
use std::path::{Component, Path, PathBuf};

use arbitrary::{Arbitrary, Unstructured};
use kbundle::bundle::{Limits, Unpacker};
use libfuzzer_sys::fuzz_target;

const LAYER_MARK: &[u8] = b"\n--kbundle-fuzz-layer--\n";
const STRUCTURED: &[u8] = b"\0arb";
const SENTINEL: &[u8] = b"sentinel: must stay as it is\n";
const LIMITS: Limits = Limits {
    max_unpacked: 4 << 20,
    max_entries: 256,
};

#[derive(Arbitrary, Debug)]
struct Layer {
    gzip: bool,
    entries: Vec<Entry>,
}

#[derive(Arbitrary, Debug)]
struct Entry {
    kind: Kind,
    path: Vec<Part>,
    link: Vec<Part>,
    data: Vec<u8>,
    mode: u16,
}

#[derive(Arbitrary, Debug, Clone, Copy)]
enum Kind {
    File,
    Dir,
    Symlink,
    HardLink,
    Fifo,
    Char,
    Other(u8),
}

#[derive(Arbitrary, Debug)]
enum Part {
    Up,
    Here,
    Root,
    Name(u8),
    Raw(String),
}

const NAMES: [&str; 6] = ["a", "b", "c", "sentinel.txt", "outside", "out"];

fn name(parts: &[Part]) -> Vec<u8> {
    let mut out = Vec::new();
    for (i, p) in parts.iter().enumerate() {
        if i > 0 && !matches!(p, Part::Root) {
            out.push(b'/');
        }
        match p {
            Part::Up => out.extend_from_slice(b".."),
            Part::Here => out.push(b'.'),
            Part::Root => out.push(b'/'),
            Part::Name(n) => out.extend_from_slice(NAMES[*n as usize % NAMES.len()].as_bytes()),
            Part::Raw(s) => out.extend_from_slice(s.as_bytes()),
        }
    }
    out
}

fn build(layer: &Layer) -> Vec<u8> {
    let mut tar = tar::Builder::new(Vec::new());
    for e in &layer.entries {
        let mut header = tar::Header::new_gnu();
        let (path, link) = (name(&e.path), name(&e.link));
        // Raw name fields: the builder's setters refuse `..`, which is the point here.
        let old = header.as_old_mut();
        let n = path.len().min(old.name.len());
        old.name[..n].copy_from_slice(&path[..n]);
        let n = link.len().min(old.linkname.len());
        old.linkname[..n].copy_from_slice(&link[..n]);
        header.set_entry_type(match e.kind {
            Kind::File => tar::EntryType::Regular,
            Kind::Dir => tar::EntryType::Directory,
            Kind::Symlink => tar::EntryType::Symlink,
            Kind::HardLink => tar::EntryType::Link,
            Kind::Fifo => tar::EntryType::Fifo,
            Kind::Char => tar::EntryType::Char,
            Kind::Other(b) => tar::EntryType::new(b),
        });
        header.set_mode(u32::from(e.mode));
        let data: &[u8] = if matches!(e.kind, Kind::File) {
            &e.data
        } else {
            &[]
        };
        header.set_size(data.len() as u64);
        header.set_cksum();
        if tar.append(&header, data).is_err() {
            break;
        }
    }
    let bytes = tar.into_inner().unwrap_or_default();
    if !layer.gzip {
        return bytes;
    }
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    let _ = gz.write_all(&bytes);
    gz.finish().unwrap_or_default()
}

fn layers(data: &[u8]) -> Vec<Vec<u8>> {
    if let Some(rest) = data.strip_prefix(STRUCTURED) {
        let layers: Vec<Layer> =
            Vec::arbitrary_take_rest(Unstructured::new(rest)).unwrap_or_default();
        return layers.iter().take(4).map(build).collect();
    }
    let mut out = Vec::new();
    let mut rest = data;
    while let Some(i) = rest.windows(LAYER_MARK.len()).position(|w| w == LAYER_MARK) {
        out.push(rest[..i].to_vec());
        rest = &rest[i + LAYER_MARK.len()..];
    }
    out.push(rest.to_vec());
    out
}

fuzz_target!(|data: &[u8]| {
    let root = scratch::dir().join("unpack");
    let _ = fs::remove_dir_all(&root);
    let out = root.join("out");
    fs::create_dir_all(&out).expect("scratch");
    fs::create_dir_all(root.join("outside")).expect("scratch");
    fs::write(root.join("sentinel.txt"), SENTINEL).expect("scratch");
    fs::write(root.join("outside/keep.txt"), SENTINEL).expect("scratch");
    std::env::set_current_dir(&root).expect("chdir");

    let mut unpacker = Unpacker::new(&out, LIMITS);
    let mut result = Ok(());
    for layer in layers(data) {
        result = unpacker.layer(layer.as_slice());
        if result.is_err() {
            break;
        }
    }
    let ok = result.is_ok() && unpacker.finish().is_ok();

    check_outside(&root);
    if ok {
        check_inside(&out);
    }
});

/// Nothing beside `out` changed.
fn check_outside(root: &Path) {
    let mut seen: Vec<OsString> = fs::read_dir(root)
        .expect("read scratch")
        .map(|e| e.expect("entry").file_name())
        .collect();
    seen.sort();
    assert_eq!(
        seen,
        ["out", "outside", "sentinel.txt"],
        "something was created beside the destination"
    );
    let outside: Vec<OsString> = fs::read_dir(root.join("outside"))
        .expect("read outside")
        .map(|e| e.expect("entry").file_name())
        .collect();
    assert_eq!(
        outside,
        ["keep.txt"],
        "something was created in a folder beside the destination"
    );
    for file in ["sentinel.txt", "outside/keep.txt"] {
        let path = root.join(file);
        let meta = fs::symlink_metadata(&path).expect("sentinel");
        assert!(meta.is_file(), "{file} was replaced");
        assert_eq!(
            meta.nlink(),
            1,
            "{file} was hard-linked into the destination"
        );
        assert_eq!(
            fs::read(&path).expect("sentinel"),
            SENTINEL,
            "{file} was written through"
        );
    }
}

/// Every link in `out` stays inside, and the files are within the limit.
fn check_inside(out: &Path) {
    let mut inodes: HashMap<(u64, u64), (u64, usize)> = HashMap::new();
    let mut bytes = 0;
    let mut stack = vec![PathBuf::new()];
    while let Some(rel) = stack.pop() {
        for entry in fs::read_dir(out.join(&rel)).expect("read destination") {
            let entry = entry.expect("entry");
            let rel = rel.join(entry.file_name());
            let meta = fs::symlink_metadata(out.join(&rel)).expect("metadata");
            if meta.is_dir() {
                stack.push(rel);
            } else if meta.file_type().is_symlink() {
                let target = fs::read_link(out.join(&rel)).expect("readlink");
                assert!(
                    resolves_inside(out, rel.parent().unwrap_or(Path::new("")), &target),
                    "{} -> {} resolves outside the destination",
                    rel.display(),
                    target.display()
                );
            } else {
                assert!(
                    meta.is_file(),
                    "{} is neither file, folder nor symlink",
                    rel.display()
                );
                let seen = inodes
                    .entry((meta.dev(), meta.ino()))
                    .or_insert((meta.nlink(), 0));
                seen.1 += 1;
                if seen.1 == 1 {
                    bytes += meta.len();
                }
            }
        }
    }
    for ((_, ino), (nlink, found)) in inodes {
        assert_eq!(
            nlink, found as u64,
            "inode {ino} has links outside the destination"
        );
    }
    assert!(
        bytes <= LIMITS.max_unpacked,
        "{bytes} bytes unpacked, over the limit"
    );
}

/// Follows `target` from the folder `at` (relative to `out`), through the symlinks on disk,
/// without leaving `out`: false as soon as a step would leave it. A loop is harmless.
fn resolves_inside(out: &Path, at: &Path, target: &Path) -> bool {
    enum Step {
        Up,
        Root,
        Name(OsString),
    }
    let steps = |p: &Path| -> Vec<Step> {
        p.components()
            .rev()
            .filter_map(|c| match c {
                Component::Normal(n) => Some(Step::Name(n.to_owned())),
                Component::ParentDir => Some(Step::Up),
                Component::CurDir => None,
                Component::RootDir | Component::Prefix(_) => Some(Step::Root),
            })
            .collect()
    };
    let mut here: Vec<OsString> = at.iter().map(OsString::from).collect();
    let mut pending = steps(target);
    let mut hops = 0;
    while let Some(step) = pending.pop() {
        match step {
            Step::Root => return false,
            Step::Up => {
                if here.pop().is_none() {
                    return false;
                }
            }
            Step::Name(name) => {
                here.push(name);
                let path: PathBuf = here.iter().collect();
                if let Ok(next) = fs::read_link(out.join(&path)) {
                    hops += 1;
                    if hops > 40 {
                        return true;
                    }
                    here.pop();
                    pending.extend(steps(&next));
                }
            }
        }
    }
    true
}
