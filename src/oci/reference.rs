//! Image references: a registry repository, or an OCI image layout folder on disk.

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

use oci_client::Reference;

/// Where an image lives, parsed once from the command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImageRef {
    /// `us-docker.pkg.dev/proj/repo/name:tag`, `localhost:5000/x@sha256:…`.
    Registry(Reference),
    /// `oci-layout:DIR[:TAG]` or `oci-layout:DIR@sha256:…`: a folder, no registry needed.
    Layout {
        dir: PathBuf,
        /// A tag, or a digest (`sha256:…`).
        reference: String,
    },
}

const LAYOUT_PREFIX: &str = "oci-layout:";

fn is_tag(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
        && s.len() <= 128
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
}

impl FromStr for ImageRef {
    type Err = String;

    fn from_str(s: &str) -> Result<ImageRef, String> {
        if let Some(rest) = s.strip_prefix(LAYOUT_PREFIX) {
            let (dir, reference) = if let Some((dir, digest)) = rest.rsplit_once('@') {
                (dir, digest.to_owned())
            } else {
                match rest.rsplit_once(':') {
                    Some((dir, tag)) if is_tag(tag) && !dir.is_empty() => (dir, tag.to_owned()),
                    _ => (rest, "latest".to_owned()),
                }
            };
            if dir.is_empty() {
                return Err(format!(
                    "{s:?}: write an image layout as oci-layout:DIR[:TAG]"
                ));
            }
            return Ok(ImageRef::Layout {
                dir: PathBuf::from(dir),
                reference,
            });
        }
        super::grammar::parse(s).map(ImageRef::Registry).map_err(|e| {
            format!(
                "{s:?} is not an image reference ({e}); write REGISTRY/REPOSITORY[:TAG] or oci-layout:DIR[:TAG]"
            )
        })
    }
}

impl fmt::Display for ImageRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ImageRef::Registry(r) => write!(f, "{}", r.whole()),
            ImageRef::Layout { dir, reference } if reference.starts_with("sha256:") => {
                write!(f, "{LAYOUT_PREFIX}{}@{reference}", dir.display())
            }
            ImageRef::Layout { dir, reference } => {
                write!(f, "{LAYOUT_PREFIX}{}:{reference}", dir.display())
            }
        }
    }
}

impl ImageRef {
    /// The tag, if the reference names one (and not only a digest).
    pub fn tag(&self) -> Option<&str> {
        match self {
            ImageRef::Registry(r) => r.digest().is_none().then(|| r.tag().unwrap_or("latest")),
            ImageRef::Layout { reference, .. } => {
                (!reference.starts_with("sha256:")).then_some(reference.as_str())
            }
        }
    }

    /// The repository without tag or digest, for printing `REPO:TAG@DIGEST`.
    pub fn repository(&self) -> String {
        match self {
            ImageRef::Registry(r) => format!("{}/{}", r.registry(), r.repository()),
            ImageRef::Layout { dir, .. } => format!("{LAYOUT_PREFIX}{}", dir.display()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layouts_with_and_without_tags() {
        let r: ImageRef = "oci-layout:out/bundle:v1".parse().unwrap();
        assert_eq!(
            r,
            ImageRef::Layout {
                dir: "out/bundle".into(),
                reference: "v1".into()
            }
        );
        assert_eq!(r.to_string(), "oci-layout:out/bundle:v1");
        let r: ImageRef = "oci-layout:/tmp/x".parse().unwrap();
        assert_eq!(r.tag(), Some("latest"));
        let d = format!("sha256:{}", "a".repeat(64));
        let r: ImageRef = format!("oci-layout:x@{d}").parse().unwrap();
        assert_eq!(r.tag(), None);
        assert!("oci-layout:".parse::<ImageRef>().is_err());
    }

    #[test]
    fn registry_references() {
        let r: ImageRef = "us-docker.pkg.dev/proj/repo/root:v2".parse().unwrap();
        assert_eq!(r.tag(), Some("v2"));
        assert_eq!(r.repository(), "us-docker.pkg.dev/proj/repo/root");
        let r: ImageRef = "localhost:5000/x".parse().unwrap();
        assert_eq!(r.tag(), Some("latest"));
        assert!("not a reference".parse::<ImageRef>().is_err());
        assert!("host/repo:bad tag".parse::<ImageRef>().is_err());
    }
}
