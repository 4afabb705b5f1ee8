//! A layer's tar stream, read with every size bounded: the bytes after gunzip count against
//! the pull's allowance as they are read, and GNU long names and PAX headers are read here,
//! capped, instead of by the tar crate, which would read any size into memory.

use std::cell::Cell;
use std::io::{self, BufRead, BufReader, Read};
use std::path::PathBuf;

use flate2::bufread::MultiGzDecoder;
use tar::EntryType;

use super::UnpackError;

/// Go's archive/tar (and so Config Sync) refuses GNU long names and PAX headers above 1 MiB.
const MAX_EXTENSION: u64 = 1 << 20;

/// The bytes a pull may still unpack, shared by all its layers.
pub(super) struct Allowance {
    left: Cell<u64>,
    spent: Cell<bool>,
}

impl Allowance {
    pub fn new(bytes: u64) -> Allowance {
        Allowance {
            left: Cell::new(bytes),
            spent: Cell::new(false),
        }
    }

    /// Takes `n` bytes; false (and remembered) when fewer are left.
    fn take(&self, n: u64) -> bool {
        match self.left.get().checked_sub(n) {
            Some(rest) => {
                self.left.set(rest);
                true
            }
            None => {
                self.spent.set(true);
                false
            }
        }
    }

    /// Whether a read failed because the allowance ran out (however the tar crate wrapped it).
    pub fn spent(&self) -> bool {
        self.spent.get()
    }
}

/// Counts every byte read against the allowance and fails the read that goes past it.
struct Counted<'a, R> {
    inner: R,
    allowance: &'a Allowance,
}

impl<R: Read> Read for Counted<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if self.allowance.take(n as u64) {
            Ok(n)
        } else {
            Err(io::Error::other("the limit on unpacked size was reached"))
        }
    }
}

/// A layer as a tar stream: gunzipped when it starts with gzip's magic bytes (as oci-sync
/// tells them apart), every gzip member read as Go's reader does, bytes counted.
pub(super) fn archive<'a>(
    data: impl Read + 'a,
    allowance: &'a Allowance,
) -> io::Result<tar::Archive<Box<dyn Read + 'a>>> {
    let mut buffered = BufReader::new(data);
    let gzip = buffered.fill_buf()?.starts_with(&[0x1f, 0x8b]);
    let plain: Box<dyn Read + 'a> = if gzip {
        Box::new(MultiGzDecoder::new(buffered))
    } else {
        Box::new(buffered)
    };
    let counted: Box<dyn Read + 'a> = Box::new(Counted {
        inner: plain,
        allowance,
    });
    Ok(tar::Archive::new(counted))
}

/// One archive member with the extension headers before it applied.
pub(super) struct Member {
    pub kind: EntryType,
    pub path: PathBuf,
    pub link: Option<PathBuf>,
    /// The raw path as the archive shows it, for messages.
    pub shown: String,
}

#[derive(Default)]
struct Pending {
    long_name: Option<Vec<u8>>,
    long_link: Option<Vec<u8>>,
    pax: Option<Vec<u8>>,
}

/// Calls `each` with every member of the archive and a reader of its data, in order.
pub(super) fn for_each_member<R: Read>(
    archive: &mut tar::Archive<R>,
    layer: usize,
    allowance: &Allowance,
    mut each: impl FnMut(Member, &mut dyn Read) -> Result<(), UnpackError>,
) -> Result<(), UnpackError> {
    let io = |e: io::Error| UnpackError::Io {
        layer,
        message: e.to_string(),
    };
    let malformed = |message: String| UnpackError::Malformed { layer, message };
    let mut pending = Pending::default();
    // Raw: the long names and PAX headers come to us, to be read with a cap.
    for entry in archive.entries().map_err(io)?.raw(true) {
        let mut entry = entry.map_err(io)?;
        let size = entry.size();
        // The header says how much follows: refuse now rather than inflate it first.
        if allowance.left.get() < size {
            allowance.spent.set(true);
            return Err(io(io::Error::other("entry larger than the allowance")));
        }
        let kind = entry.header().entry_type();
        let slot = match kind {
            EntryType::GNULongName => Some(&mut pending.long_name),
            EntryType::GNULongLink => Some(&mut pending.long_link),
            EntryType::XHeader => Some(&mut pending.pax),
            _ => None,
        };
        if let Some(slot) = slot {
            if slot.is_some() {
                return Err(malformed(format!(
                    "two {kind:?} headers for one member; the archive is malformed"
                )));
            }
            if size > MAX_EXTENSION {
                return Err(malformed(format!(
                    "a {kind:?} header of {size} bytes is refused (at most 1 MiB)"
                )));
            }
            let mut bytes = Vec::with_capacity(size as usize);
            entry.read_to_end(&mut bytes).map_err(io)?;
            *slot = Some(bytes);
            continue;
        }
        let header = entry.header();
        let mut path = header.path_bytes().into_owned();
        let mut link = header.link_name_bytes().map(|l| l.into_owned());
        if let Some(name) = pending.long_name.take() {
            path = c_string(name);
        }
        if let Some(name) = pending.long_link.take() {
            link = Some(c_string(name));
        }
        if let Some(pax) = pending.pax.take() {
            for ext in tar::PaxExtensions::new(&pax) {
                let ext = ext.map_err(|e| malformed(format!("bad PAX header: {e}")))?;
                match ext.key_bytes() {
                    b"path" => path = ext.value_bytes().to_vec(),
                    b"linkpath" => link = Some(ext.value_bytes().to_vec()),
                    // Two sizes that disagree would make two readers see two archives.
                    b"size"
                        if ext.value().ok().and_then(|v| v.parse::<u64>().ok()) != Some(size) =>
                    {
                        return Err(malformed(format!(
                            "{}: the PAX size disagrees with the header size",
                            show(&path)
                        )));
                    }
                    k if k.starts_with(b"GNU.sparse.") => {
                        return Err(UnpackError::Unsupported {
                            layer,
                            path: show(&path),
                            kind: "sparse".into(),
                        });
                    }
                    _ => {}
                }
            }
        }
        // Go reads an old-style regular entry (type NUL) whose name ends in `/` as a folder.
        let mut kind = kind;
        if header.as_old().linkflag[0] == 0 && path.ends_with(b"/") {
            kind = EntryType::Directory;
        }
        let member = Member {
            kind,
            shown: show(&path),
            path: to_path(path),
            link: link.map(to_path),
        };
        each(member, &mut entry)?;
    }
    if pending.long_name.is_some() || pending.long_link.is_some() || pending.pax.is_some() {
        return Err(malformed(
            "the archive ends with an extension header and no member after it".into(),
        ));
    }
    Ok(())
}

/// A GNU long name: up to its first NUL.
fn c_string(mut bytes: Vec<u8>) -> Vec<u8> {
    if let Some(end) = bytes.iter().position(|b| *b == 0) {
        bytes.truncate(end);
    }
    bytes
}

fn show(path: &[u8]) -> String {
    String::from_utf8_lossy(path).into_owned()
}

#[cfg(unix)]
fn to_path(bytes: Vec<u8>) -> PathBuf {
    use std::os::unix::ffi::OsStringExt;
    PathBuf::from(std::ffi::OsString::from_vec(bytes))
}

#[cfg(not(unix))]
fn to_path(bytes: Vec<u8>) -> PathBuf {
    PathBuf::from(String::from_utf8_lossy(&bytes).into_owned())
}
