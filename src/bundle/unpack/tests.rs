use super::*;

/// Builds an archive byte by byte, bypassing the tar crate's own path checks: these tests
/// feed hostile archives.
fn tar_with(entries: &[(&str, EntryType, &str)]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for (path, kind, content) in entries {
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(*kind);
        h.set_mode(0o644);
        let name = path.as_bytes();
        h.as_old_mut().name[..name.len()].copy_from_slice(name);
        if matches!(kind, EntryType::Symlink | EntryType::Link) {
            h.set_link_name(content).unwrap();
            h.set_size(0);
            h.set_cksum();
            b.append(&h, std::io::empty()).unwrap();
        } else {
            h.set_size(content.len() as u64);
            h.set_cksum();
            b.append(&h, content.as_bytes()).unwrap();
        }
    }
    b.into_inner().unwrap()
}

/// A destination folder inside a parent that also holds `victim.txt`.
struct Scene {
    root: tempfile::TempDir,
}

impl Scene {
    fn new() -> Scene {
        let root = tempfile::tempdir().unwrap();
        fs::write(root.path().join("victim.txt"), "original").unwrap();
        fs::create_dir(root.path().join("out")).unwrap();
        Scene { root }
    }
    fn dest(&self) -> PathBuf {
        self.root.path().join("out")
    }
    fn victim(&self) -> String {
        fs::read_to_string(self.root.path().join("victim.txt")).unwrap()
    }
    fn unpack(&self, layers: &[Vec<u8>]) -> Result<usize, UnpackError> {
        unpack(layers, &self.dest())
    }
}

#[test]
fn unpacks_plain_and_gzip_layers_in_order() {
    let first = tar_with(&[
        ("a/", EntryType::Directory, ""),
        ("a/x.yaml", EntryType::Regular, "one"),
    ]);
    let second = tar_with(&[("a/x.yaml", EntryType::Regular, "two")]);
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    std::io::Write::write_all(&mut gz, &second).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let n = unpack(&[first, gz.finish().unwrap()], dir.path()).unwrap();
    assert_eq!(n, 2);
    assert_eq!(
        fs::read_to_string(dir.path().join("a/x.yaml")).unwrap(),
        "two"
    );
}

#[test]
fn refuses_escapes() {
    for (entries, needle) in [
        (vec![("../evil", EntryType::Regular, "x")], "`..`"),
        (vec![("/etc/evil", EntryType::Regular, "x")], "absolute"),
        (
            vec![("l", EntryType::Symlink, "../../etc/passwd")],
            "outside",
        ),
        (vec![("l", EntryType::Symlink, "/etc/passwd")], "outside"),
        (vec![("h", EntryType::Link, "../x")], "outside"),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let err = unpack(&[tar_with(&entries)], dir.path()).unwrap_err();
        assert!(err.to_string().contains(needle), "{err}");
    }
    let dir = tempfile::tempdir().unwrap();
    let ok = tar_with(&[
        ("d/", EntryType::Directory, ""),
        ("d/f", EntryType::Regular, "x"),
        ("d/l", EntryType::Symlink, "f"),
    ]);
    unpack(&[ok], dir.path()).unwrap();
    assert_eq!(fs::read_to_string(dir.path().join("d/l")).unwrap(), "x");
}

#[test]
fn a_symlink_chain_cannot_write_outside() {
    // The archive: `a -> .`, `a/b -> ../victim.txt`, then a file at `a/b`.
    for extra_levels in 0..3 {
        let s = Scene::new();
        let mut entries = vec![("a", EntryType::Symlink, ".")];
        let mut prefix = String::from("a");
        for i in 0..extra_levels {
            let name = format!("{prefix}/x{i}");
            entries.push((
                Box::leak(name.clone().into_boxed_str()),
                EntryType::Symlink,
                ".",
            ));
            prefix = name;
        }
        let link = Box::leak(format!("{prefix}/b").into_boxed_str());
        entries.push((link, EntryType::Symlink, "../victim.txt"));
        entries.push((link, EntryType::Regular, "pwned"));
        let err = s.unpack(&[tar_with(&entries)]).unwrap_err();
        assert!(err.to_string().contains("goes through a"), "{err}");
        assert_eq!(s.victim(), "original");
    }
}

#[test]
fn a_later_layer_cannot_go_through_an_earlier_layers_link() {
    let s = Scene::new();
    let first = tar_with(&[("a", EntryType::Symlink, ".")]);
    let second = tar_with(&[
        ("a/b", EntryType::Symlink, "../victim.txt"),
        ("a/b", EntryType::Regular, "pwned"),
    ]);
    let err = s.unpack(&[first, second]).unwrap_err();
    assert!(
        err.to_string().starts_with("layer 2: a/b: goes through a"),
        "{err}"
    );
    assert_eq!(s.victim(), "original");
}

#[test]
fn links_that_escape_only_when_followed_are_refused() {
    let s = Scene::new();
    let err = s
        .unpack(&[tar_with(&[
            ("dot", EntryType::Symlink, "."),
            ("up", EntryType::Symlink, "dot/../victim.txt"),
        ])])
        .unwrap_err();
    assert!(err.to_string().contains("up: the link to"), "{err}");
}

#[test]
fn a_later_entry_replaces_a_link_instead_of_writing_through_it() {
    let s = Scene::new();
    let n = s
        .unpack(&[tar_with(&[
            ("f", EntryType::Regular, "inside"),
            ("l", EntryType::Symlink, "f"),
            ("l", EntryType::Regular, "replaced"),
            ("h", EntryType::Link, "f"),
            ("h", EntryType::Regular, "also replaced"),
        ])])
        .unwrap();
    assert_eq!(n, 4);
    let dest = s.dest();
    assert_eq!(fs::read_to_string(dest.join("f")).unwrap(), "inside");
    assert_eq!(fs::read_to_string(dest.join("l")).unwrap(), "replaced");
    assert!(!fs::symlink_metadata(dest.join("l")).unwrap().is_symlink());
    assert_eq!(fs::read_to_string(dest.join("h")).unwrap(), "also replaced");
}

#[test]
fn a_folder_entry_over_a_link_replaces_the_link() {
    let s = Scene::new();
    s.unpack(&[tar_with(&[
        ("d", EntryType::Symlink, "."),
        ("d/", EntryType::Directory, ""),
        ("d/f", EntryType::Regular, "x"),
    ])])
    .unwrap();
    assert!(fs::symlink_metadata(s.dest().join("d")).unwrap().is_dir());
    assert_eq!(fs::read_to_string(s.dest().join("d/f")).unwrap(), "x");
}

#[test]
fn hard_links_must_name_a_file_unpacked_before() {
    for (entries, needle) in [
        (
            vec![("passwd", EntryType::Link, "etc/passwd")],
            "unpacked before",
        ),
        (
            vec![
                ("d/", EntryType::Directory, ""),
                ("h", EntryType::Link, "d"),
            ],
            "unpacked before",
        ),
        (
            vec![("l", EntryType::Symlink, "."), ("h", EntryType::Link, "l")],
            "unpacked before",
        ),
        (vec![("h", EntryType::Link, "/etc/passwd")], "outside"),
    ] {
        let s = Scene::new();
        let err = s.unpack(&[tar_with(&entries)]).unwrap_err();
        assert!(err.to_string().contains(needle), "{err}");
    }
}

#[test]
fn files_over_folders_and_folders_through_files_are_refused() {
    for entries in [
        vec![
            ("d/", EntryType::Directory, ""),
            ("d", EntryType::Regular, "x"),
        ],
        vec![
            ("f", EntryType::Regular, "x"),
            ("f/g", EntryType::Regular, "x"),
        ],
    ] {
        let s = Scene::new();
        assert!(s.unpack(&[tar_with(&entries)]).is_err());
    }
}

fn limited(layers: &[Vec<u8>], limits: Limits) -> Result<usize, UnpackError> {
    let dir = tempfile::tempdir().unwrap();
    let mut u = Unpacker::new(dir.path(), limits);
    for l in layers {
        u.layer(l.as_slice())?;
    }
    u.finish()
}

#[test]
fn limits_on_size_and_entries() {
    let big = "x".repeat(4096);
    let layer = tar_with(&[
        ("a", EntryType::Regular, &big),
        ("b", EntryType::Regular, &big),
    ]);
    let size = layer.len() as u64;
    let at = |max_unpacked, max_entries| Limits {
        max_unpacked,
        max_entries,
    };
    assert_eq!(
        limited(std::slice::from_ref(&layer), at(size, 2)).unwrap(),
        2
    );
    let err = limited(std::slice::from_ref(&layer), at(6000, 2)).unwrap_err();
    assert!(
        matches!(
            err,
            UnpackError::TooLarge {
                layer: 1,
                limit: 6000
            }
        ),
        "{err}"
    );
    // Over two layers the allowance is shared.
    let err = limited(&[layer.clone(), layer.clone()], at(size + 100, 10)).unwrap_err();
    assert!(
        matches!(err, UnpackError::TooLarge { layer: 2, .. }),
        "{err}"
    );
    let err = limited(&[layer], at(size, 1)).unwrap_err();
    assert_eq!(
        err.to_string(),
        "layer 1: the bundle has more than 1 entries (the limit on entries)"
    );
}

#[test]
fn a_huge_long_name_is_refused_without_reading_it() {
    // A GNU long name entry claiming 900 MiB: the tar crate would read it all into memory.
    let mut h = tar::Header::new_gnu();
    h.set_entry_type(EntryType::GNULongName);
    h.as_old_mut().name[..13].copy_from_slice(b"././@LongLink");
    h.set_size(900 << 20);
    h.set_cksum();
    let mut data = h.as_bytes().to_vec();
    data.extend(std::iter::repeat_n(b'a', 1 << 16));
    let err = limited(&[data], Limits::DEFAULT).unwrap_err();
    assert!(err.to_string().contains("at most 1 MiB"), "{err}");
}

#[test]
fn long_names_and_pax_paths_are_checked_like_short_ones() {
    let mut b = tar::Builder::new(Vec::new());
    let mut h = tar::Header::new_ustar();
    h.set_size(1);
    h.set_entry_type(EntryType::Regular);
    // The tar crate writes a GNU long name for us (checked paths only), so write one by hand.
    let long = format!("{}/../../victim.txt", "d".repeat(120));
    let mut ln = tar::Header::new_gnu();
    ln.set_entry_type(EntryType::GNULongName);
    ln.as_old_mut().name[..13].copy_from_slice(b"././@LongLink");
    ln.set_size(long.len() as u64 + 1);
    ln.set_cksum();
    b.append(&ln, format!("{long}\0").as_bytes()).unwrap();
    h.as_old_mut().name[..5].copy_from_slice(b"short");
    h.set_cksum();
    b.append(&h, &b"x"[..]).unwrap();
    let gnu = b.into_inner().unwrap();
    let err = limited(&[gnu], Limits::DEFAULT).unwrap_err();
    assert!(err.to_string().contains("`..`"), "{err}");

    let mut b = tar::Builder::new(Vec::new());
    b.append_pax_extensions([("path", &b"../victim.txt"[..])])
        .unwrap();
    b.append(&h, &b"x"[..]).unwrap();
    let err = limited(&[b.into_inner().unwrap()], Limits::DEFAULT).unwrap_err();
    assert!(err.to_string().contains("`..`"), "{err}");

    let mut b = tar::Builder::new(Vec::new());
    b.append_pax_extensions([("size", &b"7"[..])]).unwrap();
    b.append(&h, &b"x"[..]).unwrap();
    let err = limited(&[b.into_inner().unwrap()], Limits::DEFAULT).unwrap_err();
    assert!(err.to_string().contains("PAX size disagrees"), "{err}");
}
