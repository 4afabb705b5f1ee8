//! `kbundle bundle`: reproducible archives, refusals, nothing half-written.

mod support;

use std::path::Path;
use std::process::Command;

/// The exit code and stderr.
fn kbundle(args: &[&str]) -> (i32, String) {
    let run = support::Run::of(support::kbundle().args(args));
    (run.code, run.err)
}

fn write(root: &Path, rel: &str, content: &str) {
    let p = root.join(rel);
    std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
    std::fs::write(p, content).expect("write");
}

#[test]
fn same_files_same_bytes_and_gzip_by_extension() {
    let a = tempfile::tempdir().expect("tempdir");
    let b = tempfile::tempdir().expect("tempdir");
    write(a.path(), "ns/web.yaml", "kind: A\n");
    write(a.path(), "cluster.yaml", "kind: B\n");
    write(b.path(), "cluster.yaml", "kind: B\n");
    write(b.path(), "ns/web.yaml", "kind: A\n");
    write(b.path(), ".git/HEAD", "ref: refs/heads/main\n");
    let out = tempfile::tempdir().expect("tempdir");
    let (ta, tb) = (out.path().join("a.tar.gz"), out.path().join("b.tgz"));
    assert_eq!(
        kbundle(&[
            "bundle",
            a.path().to_str().unwrap_or("."),
            "-o",
            ta.to_str().unwrap_or("a")
        ])
        .0,
        0
    );
    assert_eq!(
        kbundle(&[
            "bundle",
            b.path().to_str().unwrap_or("."),
            "-o",
            tb.to_str().unwrap_or("b")
        ])
        .0,
        0
    );
    let (ba, bb) = (
        std::fs::read(&ta).expect("a"),
        std::fs::read(&tb).expect("b"),
    );
    assert_eq!(
        ba, bb,
        "the same files must give the same bytes (.git is left out)"
    );
    assert_eq!(&ba[..2], &[0x1f, 0x8b]);

    // The system tar lists directories before their files, with zeroed owners and times.
    let listing = Command::new("tar")
        .args(["-tvzf"])
        .arg(&ta)
        .output()
        .expect("tar");
    let listing = String::from_utf8_lossy(&listing.stdout);
    let names: Vec<&str> = listing
        .lines()
        .filter_map(|l| l.split_whitespace().last())
        .collect();
    assert_eq!(names, ["cluster.yaml", "ns/", "ns/web.yaml"]);
    assert!(
        listing
            .lines()
            .all(|l| l.contains(" 0/0 ") && l.contains("1970-01-01")),
        "{listing}"
    );
    assert!(listing.starts_with("-rw-r--r--"), "{listing}");

    let plain = out.path().join("c.tar");
    assert_eq!(
        kbundle(&[
            "bundle",
            a.path().to_str().unwrap_or("."),
            "-o",
            plain.to_str().unwrap_or("c")
        ])
        .0,
        0
    );
    assert_ne!(&std::fs::read(&plain).expect("c")[..2], &[0x1f, 0x8b]);
}

#[test]
fn symlinks_are_refused_and_nothing_is_written() {
    let src = tempfile::tempdir().expect("tempdir");
    write(src.path(), "ok.yaml", "kind: A\n");
    #[cfg(unix)]
    std::os::unix::fs::symlink("/etc/passwd", src.path().join("link.yaml")).expect("symlink");
    let out = tempfile::tempdir().expect("tempdir");
    let target = out.path().join("b.tar.gz");
    let (code, stderr) = kbundle(&[
        "bundle",
        src.path().to_str().unwrap_or("."),
        "-o",
        target.to_str().unwrap_or("b"),
    ]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("link.yaml") && stderr.contains("symbolic link"),
        "{stderr}"
    );
    assert!(!target.exists());
    assert_eq!(
        std::fs::read_dir(out.path()).expect("dir").count(),
        0,
        "no temporary file left behind"
    );
}

#[test]
fn ignore_patterns_and_kbundleignore() {
    let src = tempfile::tempdir().expect("tempdir");
    write(src.path(), "app.yaml", "kind: A\n");
    write(src.path(), "README.md", "docs\n");
    write(src.path(), "tests/case.yaml", "kind: T\n");
    write(src.path(), ".kbundleignore", "README.md\n");
    let out = tempfile::tempdir().expect("tempdir");
    let target = out.path().join("b.tar");
    let (code, stderr) = kbundle(&[
        "bundle",
        src.path().to_str().unwrap_or("."),
        "--ignore",
        "tests/",
        "-o",
        target.to_str().unwrap_or("b"),
    ]);
    assert_eq!(code, 0, "{stderr}");
    let listing = Command::new("tar")
        .arg("-tf")
        .arg(&target)
        .output()
        .expect("tar");
    assert_eq!(String::from_utf8_lossy(&listing.stdout), "app.yaml\n");
}
