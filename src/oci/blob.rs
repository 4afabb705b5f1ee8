//! Reading a blob the way its descriptor describes it: no more bytes than its `size`, bytes
//! that hash to its `digest`, and nothing at all when the size is past the caller's limit.
//! Every blob a command reads from a manifest goes through here (`Store::read_blob`,
//! `Store::read_blob_to`), from a registry and from a layout alike.

use std::io::{self, Read, Write};

use futures_util::StreamExt;
use sha2::{Digest as _, Sha256};

use super::{OciError, Store};
use crate::bundle::Digest;

/// A blob as a manifest (or index) names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlobRef {
    pub digest: Digest,
    /// The descriptor's `size`: the exact length the bytes must have.
    pub size: u64,
}

impl BlobRef {
    /// Reads a descriptor object (`{"digest": …, "size": …}`); a message saying what is
    /// wrong otherwise.
    pub fn from_descriptor(value: &serde_json::Value) -> Result<BlobRef, String> {
        let digest = value["digest"]
            .as_str()
            .unwrap_or("")
            .parse()
            .map_err(|e: crate::bundle::DigestError| format!("bad digest: {e}"))?;
        let size = value["size"]
            .as_u64()
            .ok_or_else(|| format!("descriptor of {digest} has no valid size"))?;
        Ok(BlobRef { digest, size })
    }
}

/// The layers an image manifest lists, in order (none when it lists none); a message saying
/// what is wrong otherwise.
pub fn layers_of(manifest: &[u8]) -> Result<Vec<BlobRef>, String> {
    let value: serde_json::Value =
        serde_json::from_slice(manifest).map_err(|e| format!("manifest is not JSON: {e}"))?;
    value["layers"]
        .as_array()
        .into_iter()
        .flatten()
        .map(BlobRef::from_descriptor)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("manifest has a bad layer: {e}"))
}

impl Store {
    /// Streams a blob into `out` as its descriptor describes it (see `blob`): refused before
    /// any transfer when the descriptor's size is over `limit`, stopped as soon as more bytes
    /// arrive than that size, checked against the digest at the end. Memory stays bounded
    /// whatever the source sends. On an error `out` may hold part of the blob: discard it.
    pub async fn read_blob_to(
        &self,
        blob: &BlobRef,
        limit: u64,
        out: &mut (dyn Write + Send),
    ) -> Result<(), OciError> {
        if blob.size > limit {
            return Err(OciError::TooLarge {
                image: self.name(),
                digest: blob.digest.clone(),
                size: blob.size,
                limit,
            });
        }
        let fault = |f: Fault| OciError::Content {
            image: self.name(),
            message: f.describe(blob),
        };
        let mut checker = Checker::new(blob, out);
        match self {
            Store::Registry(r) => {
                let mut stream = r
                    .blob_stream(&blob.digest)
                    .await
                    .map_err(|e| self.remote(e))?;
                if stream.content_length.is_some_and(|n| n > blob.size) {
                    return Err(fault(Fault::Longer));
                }
                while let Some(chunk) = stream.next().await {
                    match chunk {
                        Ok(chunk) => checker.feed(&chunk).map_err(fault)?,
                        Err(e) => {
                            return Err(OciError::Remote {
                                image: self.name(),
                                message: format!("blob {}: {e}", blob.digest),
                            });
                        }
                    }
                }
            }
            Store::Layout { layout, .. } => {
                let (mut file, len) = layout.open_blob(&blob.digest)?;
                if len > blob.size {
                    return Err(fault(Fault::Longer));
                }
                let mut buf = vec![0; 64 * 1024];
                loop {
                    let n = file.read(&mut buf).map_err(|e| OciError::Content {
                        image: self.name(),
                        message: format!("blob {}: {e}", blob.digest),
                    })?;
                    if n == 0 {
                        break;
                    }
                    checker.feed(&buf[..n]).map_err(fault)?;
                }
            }
        }
        checker.finish().map_err(fault)
    }

    /// `read_blob_to` into memory: for small blobs (signatures, configs), with a `limit` that
    /// says how small.
    pub async fn read_blob(&self, blob: &BlobRef, limit: u64) -> Result<Vec<u8>, OciError> {
        let mut out = Vec::with_capacity(blob.size.min(limit).min(1 << 20) as usize);
        self.read_blob_to(blob, limit, &mut out).await?;
        Ok(out)
    }
}

/// How a blob failed its descriptor.
#[derive(Debug)]
pub(crate) enum Fault {
    /// More bytes than the descriptor's size arrived (or were announced).
    Longer,
    /// The bytes ended early: how many came.
    Shorter(u64),
    /// The bytes hash to this instead.
    Digest(Digest),
    /// The destination could not be written.
    Write(io::Error),
}

impl Fault {
    pub fn describe(&self, blob: &BlobRef) -> String {
        match self {
            Fault::Longer => format!(
                "blob {} is larger than the {} bytes its descriptor says; refused (the registry or layout serves wrong data)",
                blob.digest, blob.size
            ),
            Fault::Shorter(n) => format!(
                "blob {} ended after {n} of the {} bytes its descriptor says",
                blob.digest, blob.size
            ),
            Fault::Digest(actual) => format!(
                "blob {} does not match its digest (the bytes hash to {actual}); the registry or layout serves corrupt data",
                blob.digest
            ),
            Fault::Write(e) => format!("blob {}: cannot write it: {e}", blob.digest),
        }
    }
}

/// Passes a blob's bytes to `out` while counting and hashing them.
pub(crate) struct Checker<'a> {
    blob: &'a BlobRef,
    seen: u64,
    hasher: Sha256,
    out: &'a mut (dyn Write + Send),
}

impl<'a> Checker<'a> {
    pub fn new(blob: &'a BlobRef, out: &'a mut (dyn Write + Send)) -> Checker<'a> {
        Checker {
            blob,
            seen: 0,
            hasher: Sha256::new(),
            out,
        }
    }

    /// Takes the next chunk; refuses it, unwritten, when it goes past the size.
    pub fn feed(&mut self, chunk: &[u8]) -> Result<(), Fault> {
        let seen = self.seen.saturating_add(chunk.len() as u64);
        if seen > self.blob.size {
            return Err(Fault::Longer);
        }
        self.seen = seen;
        self.hasher.update(chunk);
        self.out.write_all(chunk).map_err(Fault::Write)
    }

    pub fn finish(self) -> Result<(), Fault> {
        if self.seen != self.blob.size {
            return Err(Fault::Shorter(self.seen));
        }
        self.out.flush().map_err(Fault::Write)?;
        let actual: Digest = format!("sha256:{}", hex::encode(self.hasher.finalize()))
            .parse()
            .map_err(|e| Fault::Write(io::Error::other(e)))?;
        if actual != self.blob.digest {
            return Err(Fault::Digest(actual));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layers_of_reads_descriptors_in_order_and_names_a_bad_one() {
        let d = Digest::of(b"x");
        let manifest =
            format!(r#"{{"layers":[{{"digest":"{d}","size":1}},{{"digest":"{d}","size":2}}]}}"#);
        let layers = layers_of(manifest.as_bytes()).unwrap();
        assert_eq!(layers.iter().map(|l| l.size).collect::<Vec<_>>(), [1, 2]);
        assert_eq!(layers_of(b"{}").unwrap(), []);
        let e = layers_of(format!(r#"{{"layers":[{{"digest":"{d}","size":-1}}]}}"#).as_bytes());
        assert!(e.unwrap_err().contains("has no valid size"));
        assert!(
            layers_of(b"[")
                .unwrap_err()
                .starts_with("manifest is not JSON")
        );
    }

    #[test]
    fn checks_length_before_writing_and_digest_at_the_end() {
        let data = b"hello world";
        let blob = BlobRef {
            digest: Digest::of(data),
            size: data.len() as u64,
        };
        let mut out = Vec::new();
        let mut c = Checker::new(&blob, &mut out);
        c.feed(&data[..5]).unwrap();
        c.feed(&data[5..]).unwrap();
        c.finish().unwrap();
        assert_eq!(out, data);

        let mut out = Vec::new();
        let mut c = Checker::new(&blob, &mut out);
        c.feed(data).unwrap();
        assert!(matches!(c.feed(b"!"), Err(Fault::Longer)));
        assert_eq!(out, data, "the extra byte was not written");

        let mut out = Vec::new();
        let mut c = Checker::new(&blob, &mut out);
        c.feed(&data[..4]).unwrap();
        assert!(matches!(c.finish(), Err(Fault::Shorter(4))));

        let mut out = Vec::new();
        let mut c = Checker::new(&blob, &mut out);
        c.feed(b"HELLO WORLD").unwrap();
        assert!(matches!(c.finish(), Err(Fault::Digest(_))));
    }
}
