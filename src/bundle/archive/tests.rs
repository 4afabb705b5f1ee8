//! Tests of `archive`: determinism, ordering, ignores and refusals.

use super::*;
use sha2::{Digest as _, Sha256};
use tempfile::TempDir;

fn write(root: &Path, rel: &str, content: &str) {
    let path = root.join(rel);
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, content).unwrap();
}

fn paths(roots: &[PathBuf], options: &Options) -> Vec<String> {
    let list = entries(roots, options).unwrap();
    list.into_iter()
        .map(|e| {
            if e.is_dir {
                format!("{}/", e.path)
            } else {
                e.path
            }
        })
        .collect()
}

fn tar_of(root: &Path) -> Vec<u8> {
    tar(&entries(&[root.to_path_buf()], &Options::default()).unwrap()).unwrap()
}

/// The same tiny tree on every machine; its tar digest is pinned below.
fn fixed_tree() -> TempDir {
    let dir = TempDir::new().unwrap();
    write(dir.path(), "namespaces/prod.yaml", "kind: Namespace\n");
    write(dir.path(), "README.md", "hello\n");
    fs::create_dir(dir.path().join("empty")).unwrap();
    dir
}

#[test]
fn same_content_gives_identical_tar_regardless_of_order_mode_and_time() {
    let a = TempDir::new().unwrap();
    write(a.path(), "b/c.yaml", "c");
    write(a.path(), "a.yaml", "a");
    write(a.path(), "b/a.yaml", "ba");

    let b = TempDir::new().unwrap();
    write(b.path(), "a.yaml", "a");
    write(b.path(), "b/a.yaml", "ba");
    write(b.path(), "b/c.yaml", "c");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let set = |p: &str, mode| {
            fs::set_permissions(b.path().join(p), fs::Permissions::from_mode(mode)).unwrap()
        };
        set("a.yaml", 0o600);
        set("b/c.yaml", 0o755);
        set("b", 0o700);
    }
    assert_eq!(tar_of(a.path()), tar_of(b.path()));
}

#[test]
fn tar_and_gzip_digests_are_pinned() {
    // Any change here changes the digest of every bundle of this input, so a user's
    // re-push of an unchanged commit would no longer be a no-op. The tar is byte for byte
    // what `tar --format=gnu --sort=name --owner=0 --group=0 --numeric-owner --mtime=@0`
    // writes (bar the checksum field's digit layout and GNU tar's 10 KiB record padding).
    let tree = fixed_tree();
    let tar = tar_of(tree.path());
    assert_eq!(
        hex::encode(Sha256::digest(&tar)),
        "3efda69fe5204fbd1a00594772798a04e9605559ffede3f82eee98d6179ab7b8"
    );
    // If only this one fails after a dependency update, flate2's deflate output changed:
    // layer digests of unchanged input will change with that release of kbundle.
    assert_eq!(
        hex::encode(Sha256::digest(gzip(&tar))),
        "c15b2020009df7012d4091489b43f2a0287b29bf117df42ff78c217c8b49fe1a"
    );
}

#[test]
fn tar_gz_in_one_pass_is_gzip_of_the_tar_byte_for_byte() {
    // The pinned tree, then one large enough for many deflate blocks and output buffers
    // (incompressible content, a long name, empty folders), so that streaming the tar into
    // the compressor cannot change a layer digest.
    let small = fixed_tree();
    let big = TempDir::new().unwrap();
    let mut noise = 0x2545_f491_u64;
    for i in 0..300 {
        let text: String = (0..(i * 37) % 4000)
            .map(|_| {
                noise ^= noise << 13;
                noise ^= noise >> 7;
                noise ^= noise << 17;
                char::from(b'!' + (noise % 90) as u8)
            })
            .collect();
        write(big.path(), &format!("d{}/f{i}.yaml", i % 7), &text);
    }
    write(
        big.path(),
        &format!("{}/deep.yaml", "x".repeat(150)),
        "long\n",
    );
    fs::create_dir_all(big.path().join("empty/inner")).unwrap();
    for (tree, least) in [(small.path(), 100), (big.path(), 400_000)] {
        let list = entries(&[tree.to_path_buf()], &Options::default()).unwrap();
        let tar = tar(&list).unwrap();
        let layer = tar_gz(&list).unwrap();
        assert_eq!(layer, Layer::of_tar(&tar));
        assert!(layer.gzip.len() > least, "{}", layer.gzip.len());
    }
    let list = entries(&[small.path().to_path_buf()], &Options::default()).unwrap();
    assert_eq!(
        hex::encode(Sha256::digest(tar_gz(&list).unwrap().gzip)),
        "c15b2020009df7012d4091489b43f2a0287b29bf117df42ff78c217c8b49fe1a"
    );
}

#[test]
fn of_several_unreadable_files_the_first_in_archive_order_is_reported() {
    let tree = fixed_tree();
    let mut list = entries(&[tree.path().to_path_buf()], &Options::default()).unwrap();
    for entry in list.iter_mut().filter(|e| !e.is_dir) {
        entry.source = tree
            .path()
            .join(format!("gone-{}", entry.path.replace('/', "-")));
    }
    for _ in 0..20 {
        let err = tar_gz(&list).unwrap_err().to_string();
        assert!(err.contains("gone-README.md"), "{err}");
    }
}

#[test]
fn headers_are_normalised_and_dirs_come_first() {
    let tree = fixed_tree();
    let long = format!("{}/deep.yaml", "x".repeat(120));
    write(tree.path(), &long, "long\n");
    let bytes = tar_of(tree.path());
    let mut archive = tar::Archive::new(bytes.as_slice());
    let mut seen = Vec::new();
    for entry in archive.entries().unwrap() {
        let entry = entry.unwrap();
        let h = entry.header();
        assert!(h.as_gnu().is_some());
        assert_eq!(
            (h.uid().unwrap(), h.gid().unwrap(), h.mtime().unwrap()),
            (0, 0, 0)
        );
        assert_eq!(h.username_bytes(), Some(&b""[..]));
        assert_eq!(h.groupname_bytes(), Some(&b""[..]));
        let path = entry.path().unwrap().to_str().unwrap().to_owned();
        let is_dir = h.entry_type() == tar::EntryType::Directory;
        assert_eq!(h.mode().unwrap(), if is_dir { 0o755 } else { 0o644 });
        assert_eq!(is_dir, path.ends_with('/'), "{path}");
        seen.push(path);
    }
    let x = format!("{}/", "x".repeat(120));
    assert_eq!(
        seen,
        [
            "README.md",
            "empty/",
            "namespaces/",
            "namespaces/prod.yaml",
            &x,
            &long
        ]
    );
    // Every file's parent directory entry comes before it.
    for (i, path) in seen.iter().enumerate() {
        if let Some((parent, _)) = path.trim_end_matches('/').rsplit_once('/') {
            let at = seen.iter().position(|p| *p == format!("{parent}/"));
            assert!(at.is_some_and(|at| at < i), "{path} before its directory");
        }
    }
}

#[test]
fn git_ignore_patterns_and_kbundleignore_leave_files_out() {
    let dir = TempDir::new().unwrap();
    let root = dir.path();
    write(root, ".git/config", "x");
    write(root, "sub/.git", "gitdir: elsewhere");
    write(root, "a.yaml", "a");
    write(root, "secret.yaml", "s");
    write(root, "keep.yaml", "k");
    write(root, "tmp/x.yaml", "t");
    write(root, "sub/local.yaml", "l");
    write(root, "sub/kept.yaml", "k");
    write(
        root,
        ".kbundleignore",
        "# comment\nsecret.yaml\ntmp/\nkeep.yaml\n",
    );
    write(root, "sub/.kbundleignore", "local.yaml\n");
    let options = Options {
        ignore: vec!["a.yaml".into(), "!keep.yaml".into()],
    };
    assert_eq!(
        paths(&[root.to_path_buf()], &options),
        ["keep.yaml", "sub/", "sub/kept.yaml"]
    );
}

#[test]
fn roots_merge_files_by_name_and_dirs_by_contents() {
    let one = TempDir::new().unwrap();
    let two = TempDir::new().unwrap();
    write(one.path(), "base/a.yaml", "a");
    write(two.path(), "base/b.yaml", "b");
    write(two.path(), "single.yaml", "s");
    let roots = [one.path().to_path_buf(), two.path().join("single.yaml")];
    let got = paths(&roots, &Options::default());
    assert_eq!(got, ["base/", "base/a.yaml", "single.yaml"]);
    let merged = paths(
        &[one.path().to_path_buf(), two.path().to_path_buf()],
        &Options::default(),
    );
    assert_eq!(
        merged,
        ["base/", "base/a.yaml", "base/b.yaml", "single.yaml"]
    );
}

#[test]
fn colliding_roots_name_both_sources() {
    let one = TempDir::new().unwrap();
    let two = TempDir::new().unwrap();
    write(one.path(), "a.yaml", "1");
    write(two.path(), "a.yaml", "2");
    let err = entries(&[one.path().into(), two.path().into()], &Options::default())
        .unwrap_err()
        .to_string();
    assert!(err.starts_with("a.yaml would come from both "), "{err}");
    assert!(
        err.contains(&one.path().join("a.yaml").display().to_string()),
        "{err}"
    );
    assert!(
        err.contains(&two.path().join("a.yaml").display().to_string()),
        "{err}"
    );
}

#[cfg(unix)]
#[test]
fn symlinks_are_refused_unless_ignored() {
    let dir = TempDir::new().unwrap();
    write(dir.path(), "manifests/real.yaml", "r");
    let link = dir.path().join("manifests/link.yaml");
    std::os::unix::fs::symlink("real.yaml", &link).unwrap();
    let roots = [dir.path().join("manifests")];
    let err = entries(&roots, &Options::default())
        .unwrap_err()
        .to_string();
    assert_eq!(
        err,
        format!(
            "{}: symbolic links are not bundled; replace it with the file it points to \
             (or leave it out with --ignore or .kbundleignore)",
            link.display()
        )
    );
    let options = Options {
        ignore: vec!["link.yaml".into()],
    };
    assert_eq!(paths(&roots, &options), ["real.yaml"]);
}

#[cfg(unix)]
#[test]
fn sockets_are_refused() {
    let dir = TempDir::new().unwrap();
    let socket = dir.path().join("s.sock");
    let _listener = std::os::unix::net::UnixListener::bind(&socket).unwrap();
    let err = entries(&[dir.path().into()], &Options::default())
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with(&format!("{}: a socket cannot be bundled", socket.display())),
        "{err}"
    );
}

#[test]
fn anchored_patterns_match_from_the_root_even_in_a_same_named_subfolder() {
    let dir = TempDir::new().unwrap();
    let root = dir.path().join("m");
    write(&root, "x.yaml", "root");
    write(&root, "m/x.yaml", "nested");
    let options = Options {
        ignore: vec!["/x.yaml".into()],
    };
    assert_eq!(paths(&[root], &options), ["m/", "m/x.yaml"]);
}

#[test]
fn bad_pattern_and_missing_root_are_clear() {
    let err = entries(
        &[PathBuf::from("/nonexistent/kbundle")],
        &Options::default(),
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.starts_with("/nonexistent/kbundle: cannot read: "),
        "{err}"
    );
    let dir = TempDir::new().unwrap();
    let options = Options {
        ignore: vec!["a{b".into()],
    };
    let err = entries(&[dir.path().into()], &options)
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with("--ignore \"a{b\": invalid ignore pattern"),
        "{err}"
    );
}

#[test]
fn gzip_is_deterministic() {
    let tree = fixed_tree();
    let tar = tar_of(tree.path());
    let once = gzip(&tar);
    assert_eq!(once, gzip(&tar));
    assert_eq!(&once[..4], &[0x1f, 0x8b, 8, 0]); // magic, deflate, no FNAME or other flags
    assert_eq!(&once[4..8], &[0, 0, 0, 0]); // mtime 0
    assert_eq!(once[9], 255); // OS unknown, not the build machine's
    let mut back = Vec::new();
    io::Read::read_to_end(
        &mut flate2::read::GzDecoder::new(once.as_slice()),
        &mut back,
    )
    .unwrap();
    assert_eq!(back, tar);
}
