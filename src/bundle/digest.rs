//! Content digests in the OCI form `sha256:<64 lowercase hex>`.

use std::fmt;
use std::io::{self, Write};
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sha2::{Digest as _, Sha256};

const PREFIX: &str = "sha256:";
const HEX_LEN: usize = 64;

/// A sha256 content digest, always `sha256:` followed by 64 lowercase hex digits.
///
/// The invariant is checked on every way in (`of`, `FromStr`, deserialisation), so code that
/// holds a `Digest` can put it in a reference or a file name without checking again.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Digest(String);

/// A string that is not a sha256 digest.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{value:?} is not a sha256 digest (sha256: followed by 64 hex digits)")]
pub struct DigestError {
    /// The rejected text, as given.
    pub value: String,
}

impl Digest {
    /// The sha256 digest of `bytes`.
    pub fn of(bytes: &[u8]) -> Digest {
        Digest(format!("{PREFIX}{}", hex::encode(Sha256::digest(bytes))))
    }

    /// The 64 hex digits without the `sha256:` prefix (the blob file name in an OCI layout).
    pub fn hex(&self) -> &str {
        &self.0[PREFIX.len()..]
    }

    /// The whole digest, `sha256:…`.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for Digest {
    type Err = DigestError;

    fn from_str(value: &str) -> Result<Digest, DigestError> {
        let valid = value.strip_prefix(PREFIX).is_some_and(|hex| {
            hex.len() == HEX_LEN
                && hex
                    .bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        });
        if valid {
            Ok(Digest(value.to_owned()))
        } else {
            Err(DigestError {
                value: value.to_owned(),
            })
        }
    }
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for Digest {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl Serialize for Digest {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Digest {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Digest, D::Error> {
        // Validate here too: a registry or an index.json on disk is input, not trusted.
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// Hashes the bytes written through it on their way to `inner`: the digest of a stream that
/// is never held whole.
pub struct DigestWriter<W> {
    inner: W,
    hasher: Sha256,
}

impl<W: Write> DigestWriter<W> {
    pub fn new(inner: W) -> DigestWriter<W> {
        DigestWriter {
            inner,
            hasher: Sha256::new(),
        }
    }

    /// The inner writer and the digest of everything written.
    pub fn finish(self) -> (W, Digest) {
        let digest = Digest(format!("{PREFIX}{}", hex::encode(self.hasher.finalize())));
        (self.inner, digest)
    }
}

impl<W: Write> Write for DigestWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EMPTY: &str = "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    #[test]
    fn of_hashes_bytes() {
        assert_eq!(Digest::of(b"").as_str(), EMPTY);
        assert_eq!(
            Digest::of(b"{}").to_string(),
            "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"
        );
        assert_eq!(Digest::of(b"").hex(), &EMPTY[7..]);
    }

    #[test]
    fn a_digest_writer_hashes_what_passes_through() {
        let mut w = DigestWriter::new(Vec::new());
        w.write_all(b"{").unwrap();
        w.write_all(b"}").unwrap();
        let (bytes, digest) = w.finish();
        assert_eq!((bytes, digest), (b"{}".to_vec(), Digest::of(b"{}")));
    }

    #[test]
    fn parses_valid_digest() {
        let digest: Digest = EMPTY.parse().unwrap();
        assert_eq!(digest, Digest::of(b""));
    }

    #[test]
    fn rejects_bad_digests_naming_the_value() {
        let err = "sha256:xyz".parse::<Digest>().unwrap_err();
        assert_eq!(
            err.to_string(),
            "\"sha256:xyz\" is not a sha256 digest (sha256: followed by 64 hex digits)"
        );
        for bad in [
            "",
            "sha256:",
            &EMPTY[7..],                                       // no prefix
            &EMPTY.replace("sha256", "sha512"),                // other algorithm
            &EMPTY.to_uppercase().replace("SHA256", "sha256"), // upper-case hex
            &format!("{EMPTY}0"),                              // too long
            &EMPTY[..EMPTY.len() - 1],                         // too short
            &EMPTY.replace('e', "g"),                          // not hex
        ] {
            assert!(bad.parse::<Digest>().is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn serde_round_trip_and_validation() {
        let digest = Digest::of(b"x");
        let json = serde_json::to_string(&digest).unwrap();
        assert_eq!(json, format!("\"{digest}\""));
        assert_eq!(serde_json::from_str::<Digest>(&json).unwrap(), digest);
        let err = serde_json::from_str::<Digest>("\"sha256:xyz\"").unwrap_err();
        assert!(
            err.to_string()
                .contains("\"sha256:xyz\" is not a sha256 digest")
        );
    }
}
