//! `kbundle pull` against hostile bundles: archives crafted header by header, layouts and a
//! real registry (Debian's docker-registry) serving blobs that do not match their
//! descriptors. Each test checks that nothing outside the output folder changes, that the
//! exit code and message say what was refused, and that memory and disk stay bounded.

mod support;

use support::peers;

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use kbundle::bundle::Digest;
use support::{Registry, examples, tree};
use tar::EntryType;

const LAYER_TAR: &str = "application/vnd.oci.image.layer.v1.tar";
const MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";

/// One archive member: path, kind, and the link target or the contents.
type Member<'a> = (&'a str, EntryType, &'a [u8]);

/// An archive written header by header: the tar crate's builder would refuse these paths.
fn archive(members: &[Member]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for (path, kind, data) in members {
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(*kind);
        h.set_mode(0o644);
        h.as_old_mut().name[..path.len()].copy_from_slice(path.as_bytes());
        if matches!(kind, EntryType::Symlink | EntryType::Link) {
            h.as_old_mut().linkname[..data.len()].copy_from_slice(data);
            h.set_size(0);
            h.set_cksum();
            b.append(&h, std::io::empty()).expect("append");
        } else {
            h.set_size(data.len() as u64);
            h.set_cksum();
            b.append(&h, *data).expect("append");
        }
    }
    b.into_inner().expect("tar")
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(data).expect("gzip");
    gz.finish().expect("gzip")
}

/// A layer and the size its descriptor claims (None: the true size).
struct Layer {
    data: Vec<u8>,
    claimed: Option<u64>,
}

impl Layer {
    fn honest(data: Vec<u8>) -> Layer {
        Layer {
            data,
            claimed: None,
        }
    }
}

/// The config blob and the manifest of an image with these layers.
fn image(layers: &[Layer]) -> (Vec<u8>, Vec<u8>) {
    let config =
        br#"{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}"#;
    let descriptors: Vec<_> = layers
        .iter()
        .map(|l| {
            serde_json::json!({
                "mediaType": LAYER_TAR,
                "digest": Digest::of(&l.data).to_string(),
                "size": l.claimed.unwrap_or(l.data.len() as u64),
            })
        })
        .collect();
    let manifest = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": MANIFEST,
        "config": {
            "mediaType": "application/vnd.oci.image.config.v1+json",
            "digest": Digest::of(config).to_string(),
            "size": config.len(),
        },
        "layers": descriptors,
    });
    (
        config.to_vec(),
        serde_json::to_vec(&manifest).expect("manifest"),
    )
}

/// Writes an OCI layout by hand (so descriptors can lie) and returns its `oci-layout:` ref.
fn layout(dir: &Path, layers: &[Layer]) -> String {
    let blobs = dir.join("blobs/sha256");
    std::fs::create_dir_all(&blobs).expect("mkdir");
    let put = |data: &[u8]| {
        let d = Digest::of(data);
        std::fs::write(blobs.join(d.hex()), data).expect("blob");
        d
    };
    let (config, manifest) = image(layers);
    put(&config);
    for l in layers {
        put(&l.data);
    }
    let m = put(&manifest);
    std::fs::write(dir.join("oci-layout"), r#"{"imageLayoutVersion":"1.0.0"}"#).expect("write");
    let index = serde_json::json!({
        "schemaVersion": 2,
        "manifests": [{
            "mediaType": MANIFEST,
            "digest": m.to_string(),
            "size": manifest.len(),
            "annotations": {"org.opencontainers.image.ref.name": "v1"},
        }],
    });
    std::fs::write(dir.join("index.json"), index.to_string()).expect("index");
    format!("oci-layout:{}:v1", dir.display())
}

/// A parent folder holding `victim.txt`, the output folder's place (`work/out`, so a link
/// can climb one level past the parent too), and the layout.
struct Scene {
    root: tempfile::TempDir,
}

impl Scene {
    fn new() -> Scene {
        let root = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir(root.path().join("work")).expect("mkdir");
        for at in ["victim.txt", "work/victim.txt"] {
            std::fs::write(root.path().join(at), "original").expect("victim");
        }
        Scene { root }
    }

    fn work(&self) -> PathBuf {
        self.root.path().join("work")
    }

    fn out(&self) -> PathBuf {
        self.work().join("out")
    }

    fn layout(&self, layers: &[Layer]) -> String {
        layout(&self.root.path().join("layout"), layers)
    }

    /// Runs `kbundle pull REF -o work/out ARGS…` from `cwd` (default: the scene's root).
    fn pull(&self, image: &str, args: &[&str]) -> (i32, String) {
        self.pull_in(image, args, self.root.path(), &[])
    }

    fn pull_in(&self, image: &str, args: &[&str], cwd: &Path, prefix: &[&str]) -> (i32, String) {
        let bin = assert_cmd::cargo::cargo_bin("kbundle");
        let (program, mut all) = match prefix.split_first() {
            Some((p, rest)) => (
                PathBuf::from(p),
                rest.iter().map(|s| s.to_string()).collect(),
            ),
            None => (bin.clone(), Vec::new()),
        };
        if !prefix.is_empty() {
            all.push(bin.display().to_string());
        }
        all.extend(["pull".to_owned(), image.to_owned(), "-o".to_owned()]);
        all.push(self.out().display().to_string());
        all.extend(args.iter().map(|s| s.to_string()));
        let out = Command::new(program)
            .args(&all)
            .current_dir(cwd)
            .env("DOCKER_CONFIG", "/nonexistent-docker-config")
            .output()
            .expect("run kbundle");
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    /// Nothing outside the output folder changed, and nothing was left half-written.
    fn assert_untouched(&self) {
        for at in ["victim.txt", "work/victim.txt"] {
            let now = std::fs::read_to_string(self.root.path().join(at)).expect("victim");
            assert_eq!(now, "original", "{at} was overwritten");
        }
        assert!(!self.out().exists(), "a failed pull left its output");
        assert_eq!(staging_folders(&self.work()), Vec::<String>::new());
    }
}

fn staging_folders(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .expect("read_dir")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".kbundle-pull-"))
        .collect()
}

fn assert_refused(code: i32, stderr: &str, needle: &str) {
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains(needle), "expected {needle:?} in: {stderr}");
}

#[test]
fn a_symlink_chain_cannot_overwrite_the_file_beside_the_output() {
    // The probe's archive: `a -> .`, `a/b -> ../victim.txt`, then a file at `a/b`.
    let s = Scene::new();
    let image = s.layout(&[Layer::honest(archive(&[
        ("a", EntryType::Symlink, b"."),
        ("a/b", EntryType::Symlink, b"../victim.txt"),
        ("a/b", EntryType::Regular, b"pwned"),
    ]))]);
    let (code, stderr) = s.pull(&image, &[]);
    assert_refused(
        code,
        &stderr,
        "a/b: goes through a, a symlink an earlier entry made",
    );
    s.assert_untouched();
}

#[test]
fn each_extra_dot_link_climbs_no_further() {
    // `x -> .` twice over: the link at `a/x/b` climbs two levels once both are followed.
    let s = Scene::new();
    let image = s.layout(&[Layer::honest(archive(&[
        ("a", EntryType::Symlink, b"."),
        ("x", EntryType::Symlink, b"."),
        ("a/x/b", EntryType::Symlink, b"../../victim.txt"),
        ("a/x/b", EntryType::Regular, b"pwned"),
    ]))]);
    let (code, stderr) = s.pull(&image, &[]);
    assert_refused(code, &stderr, "goes through a, a symlink");
    s.assert_untouched();
}

#[test]
fn a_later_layer_cannot_write_through_an_earlier_layers_link() {
    let s = Scene::new();
    let image = s.layout(&[
        Layer::honest(archive(&[("a", EntryType::Symlink, b".")])),
        Layer::honest(gzip(&archive(&[
            ("a/b", EntryType::Symlink, b"../victim.txt"),
            ("a/b", EntryType::Regular, b"pwned"),
        ]))),
    ]);
    let (code, stderr) = s.pull(&image, &[]);
    assert_refused(code, &stderr, "layer 2: a/b: goes through a");
    s.assert_untouched();
}

#[test]
fn a_link_that_escapes_only_when_other_links_are_followed_is_refused() {
    // `up -> dot/../victim.txt` reads as inside; followed, `dot/..` is the parent.
    let s = Scene::new();
    let image = s.layout(&[Layer::honest(archive(&[
        ("dot", EntryType::Symlink, b"."),
        ("up", EntryType::Symlink, b"dot/../victim.txt"),
    ]))]);
    let (code, stderr) = s.pull(&image, &[]);
    assert_refused(
        code,
        &stderr,
        "up: the link to dot/../victim.txt resolves outside",
    );
    s.assert_untouched();
}

#[test]
fn a_hard_link_is_not_resolved_against_the_working_directory() {
    // Run from a folder holding etc/passwd: the link must not reach it, nor the second
    // entry write through it.
    let s = Scene::new();
    let cwd = s.root.path().join("cwd");
    std::fs::create_dir_all(cwd.join("etc")).expect("mkdir");
    std::fs::write(cwd.join("etc/passwd"), "root:x:0:0").expect("write");
    let image = s.layout(&[Layer::honest(archive(&[
        ("passwd", EntryType::Link, b"etc/passwd"),
        ("passwd", EntryType::Regular, b"pwned"),
    ]))]);
    let (code, stderr) = s.pull_in(&image, &[], &cwd, &[]);
    assert_refused(
        code,
        &stderr,
        "passwd: a hard link must name a file unpacked before it, and etc/passwd is not one",
    );
    assert_eq!(
        std::fs::read_to_string(cwd.join("etc/passwd")).expect("read"),
        "root:x:0:0"
    );
    s.assert_untouched();
}

#[test]
fn an_entry_over_a_hard_link_replaces_it_instead_of_writing_through() {
    let s = Scene::new();
    let image = s.layout(&[
        Layer::honest(archive(&[
            ("f.yaml", EntryType::Regular, b"kind: A"),
            ("h.yaml", EntryType::Link, b"f.yaml"),
        ])),
        Layer::honest(archive(&[("h.yaml", EntryType::Regular, b"kind: B")])),
    ]);
    let (code, stderr) = s.pull(&image, &[]);
    assert_eq!(code, 0, "{stderr}");
    let out = s.out();
    assert_eq!(
        std::fs::read_to_string(out.join("f.yaml")).expect("f"),
        "kind: A"
    );
    assert_eq!(
        std::fs::read_to_string(out.join("h.yaml")).expect("h"),
        "kind: B"
    );
}

/// A gzip layer of about 6 MB holding one entry whose header says 6 GiB of zeros: deflate
/// blocks of a MiB of zeros each, repeated (each sync-flushed block starts byte-aligned and
/// refers only to zeros before it). The gzip trailer is never reached.
fn gzip_bomb() -> Vec<u8> {
    use flate2::{Compress, Compression, FlushCompress};
    let mut header = tar::Header::new_gnu();
    header.set_entry_type(EntryType::Regular);
    header.as_old_mut().name[..9].copy_from_slice(b"bomb.yaml");
    header.set_size(6 << 30);
    header.set_cksum();
    let mut c = Compress::new(Compression::best(), false);
    let zeros = vec![0u8; 1 << 20];
    let mut deflate = |input: &[u8]| {
        let mut out = Vec::with_capacity(1 << 16);
        c.compress_vec(input, &mut out, FlushCompress::Sync)
            .expect("deflate");
        out
    };
    let mut body = deflate(header.as_bytes());
    body.extend(deflate(&zeros));
    let block = deflate(&zeros);
    let mut gz = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff];
    gz.extend(body);
    for _ in 0..6 * 1024 {
        gz.extend_from_slice(&block);
    }
    gz
}

#[test]
fn a_gzip_bomb_fails_at_once_in_bounded_memory() {
    let s = Scene::new();
    let bomb = gzip_bomb();
    assert!(bomb.len() < 8 << 20, "{} bytes", bomb.len());
    let image = s.layout(&[Layer::honest(bomb)]);
    // 512 MiB of address space: reading the entry into memory, or inflating it all before
    // looking, cannot pass.
    let limit = format!("--as={}", 512u64 << 20);
    let (code, stderr) = s.pull_in(&image, &[], s.root.path(), &["prlimit", &limit]);
    assert_refused(
        code,
        &stderr,
        "the bundle unpacks to more than 1.0 GiB (the limit on unpacked size); raise it with --max-unpacked-size",
    );
    s.assert_untouched();
}

#[test]
fn the_unpacked_size_and_entry_limits_stop_a_pull_and_name_their_flags() {
    let s = Scene::new();
    let mib = vec![b'#'; 1 << 20];
    let names: Vec<String> = (0..8).map(|i| format!("f{i}.yaml")).collect();
    let members: Vec<Member> = names
        .iter()
        .map(|n| (n.as_str(), EntryType::Regular, mib.as_slice()))
        .collect();
    let image = s.layout(&[Layer::honest(gzip(&archive(&members)))]);
    let (code, stderr) = s.pull(&image, &["--max-unpacked-size", "4MiB"]);
    assert_refused(
        code,
        &stderr,
        "layer 1: the bundle unpacks to more than 4.0 MiB (the limit on unpacked size); raise it with --max-unpacked-size",
    );
    s.assert_untouched();
    let (code, stderr) = s.pull(&image, &["--max-entries", "5"]);
    assert_refused(
        code,
        &stderr,
        "more than 5 entries (the limit on entries); raise it with --max-entries",
    );
    s.assert_untouched();
    let (code, stderr) = s.pull(&image, &["--max-unpacked-size", "9MiB"]);
    assert_eq!(code, 0, "{stderr}");
    // A layer whose descriptor alone is over the limit is not even downloaded.
    let s = Scene::new();
    let image = s.layout(&[Layer::honest(archive(&members))]);
    let (code, stderr) = s.pull(&image, &["--max-unpacked-size", "2MiB"]);
    assert_refused(
        code,
        &stderr,
        "the layers are 8.0 MiB together, more than the 2.0 MiB limit on unpacked size",
    );
}

fn small_bundle() -> Vec<u8> {
    archive(&[("ns.yaml", EntryType::Regular, b"kind: Namespace")])
}

#[test]
fn a_layout_blob_larger_than_its_descriptor_is_refused() {
    let s = Scene::new();
    // The digest matches the bytes; only the size lies.
    let data = small_bundle();
    let claimed = data.len() as u64 - 512;
    let image = s.layout(&[Layer {
        data,
        claimed: Some(claimed),
    }]);
    let (code, stderr) = s.pull(&image, &[]);
    assert_refused(
        code,
        &stderr,
        &format!("is larger than the {claimed} bytes its descriptor says"),
    );
    s.assert_untouched();
}

#[test]
fn a_huge_layout_blob_is_not_read() {
    // An 8 GiB sparse blob file behind a 2 KiB descriptor: refused from its length, under
    // 512 MiB of address space, with no disk used.
    let s = Scene::new();
    let image = s.layout(&[Layer {
        data: small_bundle(),
        claimed: Some(2048),
    }]);
    let blob = s
        .root
        .path()
        .join("layout/blobs/sha256")
        .join(Digest::of(&small_bundle()).hex());
    std::fs::OpenOptions::new()
        .write(true)
        .open(&blob)
        .and_then(|f| f.set_len(8 << 30))
        .expect("grow");
    let limit = format!("--as={}", 512u64 << 20);
    let (code, stderr) = s.pull_in(&image, &[], s.root.path(), &["prlimit", &limit]);
    assert_refused(
        code,
        &stderr,
        "is larger than the 2048 bytes its descriptor says",
    );
    s.assert_untouched();
}

/// Pushes blobs and a manifest with raw HTTP, as the distribution API has it (POST, then
/// PUT with the digest), so the manifest can say what no client would write.
fn push_raw(registry: &Registry, repo: &str, layers: &[Layer]) -> String {
    let base = format!("http://{}", registry.addr);
    let put_blob = |data: &[u8]| {
        let start = ureq::post(format!("{base}/v2/{repo}/blobs/uploads/"))
            .send_empty()
            .expect("start upload");
        let location = start
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
            .expect("upload location")
            .to_owned();
        let url = if location.starts_with('/') {
            format!("{base}{location}")
        } else {
            location
        };
        let sep = if url.contains('?') { '&' } else { '?' };
        ureq::put(format!("{url}{sep}digest={}", Digest::of(data)))
            .header("content-type", "application/octet-stream")
            .send(data)
            .expect("upload blob");
    };
    let (config, manifest) = image(layers);
    put_blob(&config);
    for l in layers {
        put_blob(&l.data);
    }
    ureq::put(format!("{base}/v2/{repo}/manifests/v1"))
        .header("content-type", MANIFEST)
        .send(&manifest[..])
        .expect("put manifest");
    format!("{}/{repo}:v1", registry.addr)
}

#[test]
fn a_registry_blob_larger_than_its_descriptor_is_refused() {
    let registry = Registry::start();
    let s = Scene::new();
    let data = gzip(&small_bundle());
    let claimed = data.len() as u64 - 10;
    let image = push_raw(
        &registry,
        "hostile/bundle",
        &[Layer {
            data,
            claimed: Some(claimed),
        }],
    );
    let (code, stderr) = s.pull(&image, &[]);
    assert_refused(
        code,
        &stderr,
        &format!("is larger than the {claimed} bytes its descriptor says"),
    );
    s.assert_untouched();
    // The same bundle with an honest descriptor pulls.
    let image = push_raw(
        &registry,
        "honest/bundle",
        &[Layer::honest(gzip(&small_bundle()))],
    );
    let (code, stderr) = s.pull(&image, &[]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        std::fs::read_to_string(s.out().join("ns.yaml")).expect("read"),
        "kind: Namespace"
    );
}

#[test]
fn a_killed_pull_is_cleaned_up_by_the_next_one() {
    // A file size limit kills the first pull (SIGXFSZ) midway through writing a 4 MiB file:
    // it leaves its staging folder, named with its pid. The next pull beside it removes it.
    let s = Scene::new();
    let big = vec![b'#'; 4 << 20];
    let image = s.layout(&[Layer::honest(gzip(&archive(&[(
        "big.yaml",
        EntryType::Regular,
        &big,
    )])))]);
    let fsize = format!("--fsize={}", 1u64 << 20);
    let (code, stderr) = s.pull_in(&image, &[], s.root.path(), &["prlimit", &fsize]);
    assert_ne!(code, 0, "{stderr}");
    let left = staging_folders(&s.work());
    assert_eq!(left.len(), 1, "the killed pull left its staging: {left:?}");
    // A staging folder of a pull that is still running (this test's pid) stays.
    let live = s.work().join(format!(
        ".kbundle-pull-{}-{}-live00",
        left[0].split('-').nth(2).unwrap_or("0"),
        std::process::id()
    ));
    std::fs::create_dir(&live).expect("mkdir");
    // One named the way older kbundle named them proves nothing: kept, and pointed out.
    std::fs::create_dir(s.work().join(".kbundle-pull-Ab3xYz")).expect("mkdir");

    let (code, stderr) = s.pull(&image, &[]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains("left by a pull that did not finish"),
        "{stderr}"
    );
    assert!(
        stderr.contains(
            ".kbundle-pull-Ab3xYz looks like the staging folder of an older kbundle's pull"
        ),
        "{stderr}"
    );
    let mut kept = staging_folders(&s.work());
    kept.sort();
    let live = live.file_name().unwrap_or_default().to_string_lossy();
    let mut expected = vec![".kbundle-pull-Ab3xYz".to_owned(), live.into_owned()];
    expected.sort();
    assert_eq!(kept, expected);
    assert_eq!(
        std::fs::metadata(s.out().join("big.yaml"))
            .expect("big")
            .len(),
        4 << 20
    );
}

#[test]
fn pull_unpacks_what_crane_export_gives() {
    let registry = Registry::start();
    let image = format!("{}/peer/examples:v1", registry.addr);
    let status = Command::new(assert_cmd::cargo::cargo_bin("kbundle"))
        .args(["push", &examples().display().to_string(), "--image", &image])
        .env("SOURCE_DATE_EPOCH", "1700000000")
        .env("DOCKER_CONFIG", "/nonexistent-docker-config")
        .output()
        .expect("push");
    assert!(
        status.status.success(),
        "{}",
        String::from_utf8_lossy(&status.stderr)
    );
    let s = Scene::new();
    let (code, stderr) = s.pull(&image, &[]);
    assert_eq!(code, 0, "{stderr}");

    let home = tempfile::tempdir().expect("tempdir");
    let exported = peers::run_peer(
        "crane",
        &["export", "--insecure", &image, "-"],
        home.path(),
        &[],
    );
    assert!(
        exported.status.success(),
        "{}",
        String::from_utf8_lossy(&exported.stderr)
    );
    let theirs = home.path().join("crane");
    std::fs::create_dir(&theirs).expect("mkdir");
    let mut untar = Command::new("tar")
        .args(["-x", "-C"])
        .arg(&theirs)
        .stdin(std::process::Stdio::piped())
        .spawn()
        .expect("tar");
    untar
        .stdin
        .take()
        .expect("stdin")
        .write_all(&exported.stdout)
        .expect("feed tar");
    assert!(untar.wait().expect("tar").success());
    let ours = tree(&s.out());
    assert!(!ours.is_empty());
    assert_eq!(ours, tree(&theirs));
}

// Only the request target is used here.
#[allow(dead_code)]
#[path = "support/http1.rs"]
mod http1;

/// A fake registry (the distribution API's three reads, HTTP/1.1, one request per
/// connection) whose blob never ends: chunked, with no Content-Length, for as long as the
/// client reads. Returns the image reference.
fn endless_blob_registry(claimed: u64) -> String {
    use std::io::Write as _;
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    let data = small_bundle();
    let (config, manifest) = image(&[Layer {
        data: data.clone(),
        claimed: Some(claimed),
    }]);
    let layer = Digest::of(&data);
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let (config, manifest, layer) = (config.clone(), manifest.clone(), layer.clone());
            std::thread::spawn(move || {
                let Some(req) = http1::read(&stream) else {
                    return;
                };
                let mut out = &stream;
                let reply = |out: &mut &std::net::TcpStream, ctype: &str, body: &[u8]| {
                    let head = format!(
                        "HTTP/1.1 200 OK\r\nContent-Type: {ctype}\r\nContent-Length: {}\r\nDocker-Content-Digest: {}\r\nConnection: close\r\n\r\n",
                        body.len(),
                        Digest::of(body)
                    );
                    let _ = out.write_all(head.as_bytes());
                    let _ = out.write_all(body);
                };
                let target = req.target.as_str();
                if target == "/v2/" {
                    reply(&mut out, "application/json", b"{}");
                } else if target.ends_with("/manifests/v1") {
                    reply(&mut out, MANIFEST, &manifest);
                } else if target.ends_with(&format!("/blobs/{}", Digest::of(&config))) {
                    reply(&mut out, "application/octet-stream", &config);
                } else if target.ends_with(&format!("/blobs/{layer}")) {
                    let _ = out.write_all(
                        b"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n",
                    );
                    let chunk = vec![b'#'; 1 << 16];
                    // At most 16 GiB, so a client that never stops still ends the test.
                    for _ in 0..(1u64 << 18) {
                        let ok = out
                            .write_all(format!("{:x}\r\n", chunk.len()).as_bytes())
                            .and_then(|_| out.write_all(&chunk))
                            .and_then(|_| out.write_all(b"\r\n"));
                        if ok.is_err() {
                            return;
                        }
                    }
                } else {
                    let _ = out.write_all(
                        b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                    );
                }
            });
        }
    });
    format!("{addr}/fake/endless:v1")
}

#[test]
fn a_fake_registry_streaming_an_endless_blob_is_cut_off_at_the_descriptor_size() {
    let s = Scene::new();
    let image = endless_blob_registry(4096);
    let limit = format!("--as={}", 512u64 << 20);
    let (code, stderr) = s.pull_in(&image, &[], s.root.path(), &["prlimit", &limit]);
    assert_refused(
        code,
        &stderr,
        "is larger than the 4096 bytes its descriptor says",
    );
    s.assert_untouched();
}
