//! `kbundle diff OLD NEW`, and the diff that bump, publish and promote show: each side is an
//! image (pulled and unpacked into a temporary folder) or a folder or file of manifests.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use crate::bundle::{self, Digest};
use crate::commands::args::{DiffArgs, RegistryArgs};
use crate::diff::{self, Diff, Side};
use crate::error::{Error, Outcome, Result};
use crate::gitops::Change;
use crate::manifest::{self, Input, Source};
use crate::oci::{self, Connect, ImageRef, Store};

/// GitHub's limit on a pull request body, in characters.
pub(super) const BODY_LIMIT: usize = 65_536;

/// What a job summary gives the diff (GitHub takes 1 MiB per step; the rest is for the
/// summary's other sections).
pub(super) const SUMMARY_BUDGET: usize = 256 * 1024;

pub fn run(args: DiffArgs) -> Result<Outcome> {
    let mut connects = Connects::new(&args.registry);
    let old = read_side(&args.old, "OLD", &mut connects)?;
    let new = read_side(&args.new, "NEW", &mut connects)?;
    let diff = diff::compare(old, new);
    print!("{}", diff::render(&diff, args.output));
    Ok(Outcome::from_passed(diff.is_empty()))
}

/// What one side of a diff names.
enum Spec {
    Image(ImageRef),
    Path(PathBuf),
}

impl Spec {
    /// `oci-layout:…` is an image; `-` is stdin; an existing path is a folder or file;
    /// anything else must be a registry reference.
    fn parse(text: &str, what: &str) -> Result<Spec> {
        if text.starts_with("oci-layout:") {
            return text.parse().map(Spec::Image).map_err(Error::new);
        }
        if text == "-" || Path::new(text).exists() {
            return Ok(Spec::Path(PathBuf::from(text)));
        }
        text.parse().map(Spec::Image).map_err(|e: String| {
            Error::new(format!(
                "{what} {text:?}: no such folder or file, and not an image reference ({e})"
            ))
        })
    }
}

fn read_side(text: &str, what: &str, connects: &mut Connects) -> Result<Side> {
    match Spec::parse(text, what)? {
        Spec::Path(path) => folder(&path),
        Spec::Image(image) => {
            let connect = connects.get(&image)?;
            image_side(&image, connect).map_err(Error::new)
        }
    }
}

/// The resources of a folder (walked as `validate` and `bundle` walk it) or a file.
fn folder(path: &Path) -> Result<Side> {
    let inputs =
        manifest::discover(&[path.to_path_buf()], &[]).map_err(|e| Error::new(e.to_string()))?;
    let mut sources = Vec::new();
    for input in &inputs {
        sources.push(manifest::read_input(input).map_err(|e| Error::new(e.to_string()))?);
    }
    Side::read(&sources).map_err(|e| Error::new(e.to_string()))
}

/// The resources of an image: its layers unpacked as Config Sync would, into a temporary
/// folder that is removed afterwards. Files are named by their path in the bundle.
fn image_side(image: &ImageRef, connect: Connect) -> std::result::Result<Side, String> {
    let store = Store::for_pull(image, connect).map_err(|e| e.to_string())?;
    let (_, layers) = super::runtime()
        .map_err(|e| e.to_string())?
        .block_on(oci::pull_layers(&store))
        .map_err(|e| e.to_string())?;
    let dir = tempfile::Builder::new()
        .prefix("kbundle-diff-")
        .tempdir()
        .map_err(|e| format!("{image}: cannot make a temporary folder: {e}"))?;
    bundle::unpack(&layers, dir.path()).map_err(|e| format!("{image}: {e}"))?;
    let inputs = manifest::discover(&[dir.path().to_path_buf()], &[])
        .map_err(|e| format!("{image}: {e}"))?;
    let mut sources = Vec::new();
    for input in &inputs {
        let Input::File(path) = input else { continue };
        let mut source: Source =
            manifest::read_input(input).map_err(|e| format!("{image}: {e}"))?;
        let inside = path.strip_prefix(dir.path()).unwrap_or(path);
        source.name = inside.display().to_string().into();
        sources.push(source);
    }
    Side::read(&sources).map_err(|e| format!("{image}: {e}"))
}

/// One login per registry: `--password-stdin` can be read only once.
struct Connects<'a> {
    args: &'a RegistryArgs,
    by_host: HashMap<String, Connect>,
}

impl<'a> Connects<'a> {
    fn new(args: &'a RegistryArgs) -> Connects<'a> {
        Connects {
            args,
            by_host: HashMap::new(),
        }
    }

    fn get(&mut self, image: &ImageRef) -> Result<Connect> {
        let ImageRef::Registry(r) = image else {
            return Ok(Connect::default());
        };
        let host = r.resolve_registry().to_owned();
        if !self.by_host.contains_key(&host) {
            let connect = super::connect(image, self.args)?;
            self.by_host.insert(host.clone(), connect);
        }
        let c = &self.by_host[&host];
        Ok(Connect {
            plain_http: c.plain_http,
            credential: c.credential.clone(),
            refresh: c.refresh.clone(),
        })
    }
}

/// The diff between two images, or why there is none. Runs on a thread of its own, so it
/// may be called from inside an async runtime (bump's pull request callback).
fn images(old: Option<&ImageRef>, new: &ImageRef, registry: &RegistryArgs) -> DiffResult {
    std::thread::scope(|s| {
        s.spawn(|| {
            let mut connects = Connects::new(registry);
            let old = match old {
                Some(image) => {
                    let connect = connects.get(image).map_err(|e| e.to_string())?;
                    image_side(image, connect)
                        .map_err(|e| format!("the old bundle cannot be read: {e}"))?
                }
                None => Side::default(),
            };
            let connect = connects.get(new).map_err(|e| e.to_string())?;
            let new = image_side(new, connect)
                .map_err(|e| format!("the new bundle cannot be read: {e}"))?;
            Ok(diff::compare(old, new))
        })
        .join()
        .unwrap_or_else(|_| Err("the diff stopped unexpectedly".to_owned()))
    })
}

type DiffResult = std::result::Result<Diff, String>;

/// `image` at `digest`: the same repository or layout, named by digest.
pub(super) fn by_digest(image: &ImageRef, digest: &Digest) -> Result<ImageRef> {
    match image {
        ImageRef::Layout { dir, .. } => Ok(ImageRef::Layout {
            dir: dir.clone(),
            reference: digest.to_string(),
        }),
        ImageRef::Registry(_) => format!("{}@{digest}", image.repository())
            .parse()
            .map_err(Error::new),
    }
}

/// The diff a fleet pull request (and publish's job summary) shows: from the image the fleet
/// file named before to the new one. Computed once per old image and kept, since GitHub
/// may make bump propose twice.
pub(super) struct FleetDiff<'a> {
    new: ImageRef,
    registry: &'a RegistryArgs,
    last: Mutex<Option<Computed>>,
}

struct Computed {
    /// The old reference, as the fleet file wrote it.
    old: String,
    /// Other old references the file held (several targets).
    others: Vec<String>,
    result: DiffResult,
}

impl<'a> FleetDiff<'a> {
    /// `new` must name the bundle by digest.
    pub(super) fn new(new: ImageRef, registry: &'a RegistryArgs) -> FleetDiff<'a> {
        FleetDiff {
            new,
            registry,
            last: Mutex::new(None),
        }
    }

    /// The markdown section for the changes a bump makes, within `budget` bytes; empty when
    /// the bump changes nothing.
    pub(super) fn section(&self, changes: &[Change], budget: usize) -> String {
        let mut olds: Vec<&str> = changes.iter().map(|c| c.old.as_str()).collect();
        olds.dedup();
        let Some((first, others)) = olds.split_first() else {
            return String::new();
        };
        let mut last = self.last.lock().unwrap_or_else(|p| p.into_inner());
        if last.as_ref().is_none_or(|c| c.old != *first) {
            *last = Some(Computed {
                old: (*first).to_owned(),
                others: others.iter().map(|s| (*s).to_owned()).collect(),
                result: self.compute(first),
            });
        }
        last.as_ref()
            .map_or_else(String::new, |c| render(c, budget))
    }

    /// The last section again, for the job summary, within `budget` bytes.
    pub(super) fn summary(&self, budget: usize) -> Option<String> {
        let last = self.last.lock().unwrap_or_else(|p| p.into_inner());
        last.as_ref().map(|c| render(c, budget))
    }

    fn compute(&self, old: &str) -> DiffResult {
        if old.is_empty() {
            // Nothing was synced from this file before: every resource is new.
            return images(None, &self.new, self.registry);
        }
        let Some((_, digest)) = old.rsplit_once('@') else {
            return Err(format!(
                "the fleet file named `{old}` by tag, not by digest, so what the cluster runs \
                 now is not known for certain"
            ));
        };
        if digest.parse::<Digest>().is_err() {
            return Err(format!("`{old}` does not end in a sha256 digest"));
        }
        let image: ImageRef = old
            .parse()
            .map_err(|e: String| format!("`{old}` is not an image reference: {e}"))?;
        images(Some(&image), &self.new, self.registry)
    }
}

fn render(c: &Computed, budget: usize) -> String {
    let mut note = String::new();
    if !c.others.is_empty() {
        note = format!(
            "_Against `{}`; the file's other targets pointed at {}._\n\n",
            c.old,
            c.others
                .iter()
                .map(|o| format!("`{o}`"))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    match &c.result {
        Ok(diff) => {
            let md = diff::markdown_section(diff, budget.saturating_sub(note.len()));
            match md.split_once("\n\n") {
                Some((head, rest)) if !note.is_empty() => format!("{head}\n\n{note}{rest}"),
                _ => md,
            }
        }
        Err(why) => {
            let md = format!("#### What changes in the cluster\n\nNot shown: {why}.\n");
            if md.len() <= budget {
                md
            } else {
                String::new()
            }
        }
    }
}

/// Before promote moves `destination`'s tag: the diff between what the tag holds now and
/// the bundle at `digest` of `source`. The diff goes to stdout for a dry run (it is then the
/// result), else to stderr beside promote's other reports.
pub(super) fn before_promote(
    source: &ImageRef,
    digest: &Digest,
    destination: &ImageRef,
    registry: &RegistryArgs,
    dry_run: bool,
) -> Result<()> {
    let new = by_digest(source, digest)?;
    let mut connects = Connects::new(registry);
    let old = match connects
        .get(destination)
        .and_then(|c| image_side(destination, c).map_err(Error::new))
    {
        Ok(side) => side,
        Err(e) => {
            eprintln!("{destination}: nothing to compare with ({e}); every resource is new");
            Side::default()
        }
    };
    let connect = connects.get(&new)?;
    let new = image_side(&new, connect).map_err(Error::new)?;
    let text = diff::render(&diff::compare(old, new), diff::Format::Text);
    if dry_run {
        print!("{text}");
    } else {
        eprint!("{destination}: {text}");
    }
    Ok(())
}
