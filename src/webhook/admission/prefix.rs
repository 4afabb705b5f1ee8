//! Who to answer when only the start of a body is at hand (one over the size limit): the
//! `apiVersion` and `request.uid`, which the API server writes before the object.
//!
//! serde_json reads the truncated prefix as far as it goes; the visitors record what they
//! meet and stop as soon as both are known, so the rest (the object) is never parsed.

use std::fmt;

use serde::Deserializer as _;
use serde::de::{DeserializeSeed, IgnoredAny, MapAccess, Visitor};

use super::{Review, Version};

#[derive(Default)]
struct Found {
    version: Option<Version>,
    uid: Option<String>,
}

impl Found {
    fn done(&self) -> bool {
        self.version.is_some() && self.uid.is_some()
    }
}

/// The review to answer, if the prefix names a uid; the version defaults to v1.
pub fn review(prefix: &[u8]) -> Option<Review> {
    let mut found = Found::default();
    // Truncation makes this fail after the visitors have recorded what came before it.
    let _ = serde_json::Deserializer::from_slice(prefix).deserialize_map(Top(&mut found));
    let uid = found.uid.filter(|u| !u.is_empty())?;
    Some(Review {
        version: found.version.unwrap_or_default(),
        uid,
    })
}

struct Top<'a>(&'a mut Found);

impl<'de> Visitor<'de> for Top<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an AdmissionReview")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "apiVersion" => {
                    self.0.version = match map.next_value::<String>()?.as_str() {
                        "admission.k8s.io/v1beta1" => Some(Version::V1beta1),
                        _ => Some(Version::V1),
                    }
                }
                "request" => map.next_value_seed(Request(&mut *self.0))?,
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
            if self.0.done() {
                break;
            }
        }
        Ok(())
    }
}

struct Request<'a>(&'a mut Found);

impl<'de> DeserializeSeed<'de> for Request<'_> {
    type Value = ();

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for Request<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an admission request")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key::<String>()? {
            if key == "uid" {
                self.0.uid = Some(map.next_value::<String>()?);
                // The request is not read further; the caller ignores the error that leaves.
                return Ok(());
            }
            map.next_value::<IgnoredAny>()?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_uid_and_version_are_read_from_a_truncated_body() {
        let body = br#"{"kind":"AdmissionReview","apiVersion":"admission.k8s.io/v1beta1","request":{"kind":{"group":"configsync.gke.io"},"uid":"abc-1","object":{"metadata":{"annotations":{"x":"yyyyyy"#;
        let review = review(body).expect("uid found");
        assert_eq!(review.uid, "abc-1");
        assert_eq!(review.version, Version::V1beta1);
    }

    #[test]
    fn no_uid_before_the_cut_is_none() {
        assert_eq!(
            review(br#"{"apiVersion":"admission.k8s.io/v1","request":{"ui"#),
            None
        );
        assert_eq!(review(b"not json at all"), None);
        assert_eq!(review(br#"{"request":{"uid":""}}"#), None);
        assert_eq!(review(&vec![b'['; 100_000]), None);
    }
}
