//! AdmissionReview decoding (`webhook::admission`): the body of every request the webhook
//! answers, from whoever can reach its port.
//!
//! Invariants: no panic; every body gets an answer, and that answer is an AdmissionReview of
//! the request's version echoing its uid; a request to verify names an image pinned to the
//! digest the annotation ends with, which parses again from its own name.
#![no_main]

use kbundle::webhook::admission::{
    Decision, PinnedImage, Reason, Step, prefix, read, response,
};
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

fuzz_target!(|data: &[u8]| {
    // An over-limit body is answered from its start: every cut of it, as far as it goes.
    for cut in [data.len(), data.len() / 2, data.len() / 3, data.len().min(64)] {
        if let Some(r) = prefix::review(&data[..cut]) {
            assert!(!r.uid.is_empty(), "a review to answer with no uid");
        }
    }
    let (review, step) = read(data);
    let decision = match &step {
        Step::Answer(d) => d.clone(),
        Step::Verify(image) => {
            let name = image.name();
            assert!(
                name.ends_with(image.digest.as_str()),
                "{name} is not pinned to {}",
                image.digest
            );
            let again = PinnedImage::parse(&name)
                .unwrap_or_else(|e| panic!("the image's own name {name:?} does not parse: {e}"));
            assert_eq!(again.digest, image.digest);
            assert_eq!(again.name(), name);
            Decision::deny(Reason::Unsigned, format!("no signature for {name}"))
        }
    };
    let body = response(&review, &decision);
    let answer: Value = serde_json::from_slice(&body).expect("the response is JSON");
    assert_eq!(answer["kind"], "AdmissionReview");
    assert_eq!(answer["response"]["uid"], review.uid.as_str());
    assert_eq!(answer["response"]["allowed"], decision.allowed);
    let asked: Option<Value> = serde_json::from_slice(data).ok();
    if let Some(uid) = asked
        .as_ref()
        .and_then(|v| v.pointer("/request/uid")?.as_str())
    {
        assert_eq!(review.uid, uid, "the uid is not echoed");
    }
    if let Some(v) = asked.as_ref().and_then(|v| v.get("apiVersion")?.as_str()) {
        if v == "admission.k8s.io/v1beta1" || v == "admission.k8s.io/v1" {
            assert_eq!(answer["apiVersion"], v, "answered in another version");
        }
    }
});
