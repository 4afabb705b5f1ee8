use serde_json::Value;

use super::*;

const FIXTURE: &str = include_str!("../../../tests/fixtures/webhook/rootsync-update.json");
const DIGEST: &str = "sha256:634a8f35b5f16dcf4aaa0822adc0b1964bb786fca12f6831de8ddc45e5986a00";
const OTHER: &str = "sha256:1111111111111111111111111111111111111111111111111111111111111111";

fn review(image: &str, new: &str, old: &str) -> String {
    FIXTURE
        .replace("\"IMAGE@DIGEST\"", &format!("{new:?}"))
        .replace("OLD_IMAGE_TO_SYNC", old)
        .replace("\"IMAGE\"", &format!("{image:?}"))
}

fn step(body: &str) -> Step {
    read(body.as_bytes()).1
}

#[test]
fn a_changed_annotation_asks_for_the_digest_after_the_last_at() {
    let image = "us-docker.pkg.dev/p/config/root:v1";
    let body = review(
        image,
        &format!("{image}@{DIGEST}"),
        &format!("{image}@{OTHER}"),
    );
    let (review, step) = read(body.as_bytes());
    assert_eq!(review.uid, "705ab4f5-6393-11e8-b7cc-42010a800002");
    assert_eq!(review.version, Version::V1);
    let Step::Verify(pinned) = step else {
        panic!("expected a verification, got {step:?}");
    };
    assert_eq!(pinned.digest.as_str(), DIGEST);
    assert_eq!(
        pinned.name(),
        format!("us-docker.pkg.dev/p/config/root@{DIGEST}")
    );
}

#[test]
fn a_spec_image_pinned_by_digest_is_tolerated() {
    let value = format!("localhost:5000/root:v1@{OTHER}@{DIGEST}");
    let pinned = PinnedImage::parse(&value).expect("parses");
    assert_eq!(pinned.digest.as_str(), DIGEST);
    assert_eq!(pinned.name(), format!("localhost:5000/root@{DIGEST}"));
    assert_eq!(pinned.annotation, value);
}

#[test]
fn unchanged_or_absent_annotations_are_allowed_without_verifying() {
    let same = format!("r.example/root@{DIGEST}");
    let body = review("r.example/root", &same, &same);
    assert!(matches!(step(&body), Step::Answer(d) if d.allowed && d.reason == Reason::Unchanged));

    let mut value: Value = serde_json::from_str(&body).expect("json");
    value["request"]["object"]["metadata"]
        .as_object_mut()
        .expect("metadata")
        .remove("annotations");
    let step = step(&value.to_string());
    assert!(matches!(step, Step::Answer(d) if d.allowed && d.reason == Reason::Unchanged));
}

#[test]
fn create_has_no_old_object_and_is_verified() {
    let mut value: Value = serde_json::from_str(&review(
        "r.example/root",
        &format!("r.example/root@{DIGEST}"),
        "x",
    ))
    .expect("json");
    value["request"]["operation"] = "CREATE".into();
    value["request"]["oldObject"] = Value::Null;
    assert!(matches!(step(&value.to_string()), Step::Verify(_)));
}

#[test]
fn malformed_input_is_denied_with_a_reason_and_the_uid_when_there_is_one() {
    let (review, step) = read(b"{not json");
    assert_eq!(review, Review::default());
    let Step::Answer(d) = step else { panic!() };
    assert!(!d.allowed && d.message.contains("not JSON"), "{d:?}");

    let body = review_with("r.example/root@sha256:short");
    let (review, step) = read(body.as_bytes());
    assert_eq!(review.uid, "705ab4f5-6393-11e8-b7cc-42010a800002");
    let Step::Answer(d) = step else { panic!() };
    assert!(!d.allowed && d.reason == Reason::Malformed);
    assert!(
        d.message.contains(IMAGE_TO_SYNC) && d.message.contains("sha256"),
        "{d:?}"
    );

    let (_, step) = read(review_with("no-digest-here").as_bytes());
    assert!(matches!(step, Step::Answer(d) if !d.allowed && d.message.contains("no @sha256:")));

    let (review, step) = read(
        br#"{"apiVersion":"admission.k8s.io/v2","kind":"AdmissionReview","request":{"uid":"u1"}}"#,
    );
    assert_eq!(review.uid, "u1");
    assert!(matches!(step, Step::Answer(d) if !d.allowed && d.message.contains("apiVersion")));
}

fn review_with(new: &str) -> String {
    review("r.example/root", new, "old")
}

#[test]
fn other_kinds_and_operations_are_let_through_with_a_warning() {
    let mut value: Value =
        serde_json::from_str(&review_with(&format!("r.example/root@{DIGEST}"))).expect("json");
    value["request"]["kind"] =
        serde_json::json!({"group": "apps", "version": "v1", "kind": "Deployment"});
    let Step::Answer(d) = step(&value.to_string()) else {
        panic!()
    };
    assert!(d.allowed && d.reason == Reason::NotSubject);
    assert!(d.warnings[0].contains("apps/Deployment"), "{d:?}");

    value["request"]["kind"] =
        serde_json::json!({"group": "configsync.gke.io", "version": "v1beta1", "kind": "RepoSync"});
    value["request"]["operation"] = "DELETE".into();
    assert!(matches!(step(&value.to_string()), Step::Answer(d) if d.allowed));
}

#[test]
fn responses_keep_the_version_and_uid() {
    let review = Review {
        version: Version::V1beta1,
        uid: "abc".into(),
    };
    let body: Value =
        serde_json::from_slice(&response(&review, &Decision::deny(Reason::Unsigned, "why")))
            .expect("json");
    assert_eq!(body["apiVersion"], "admission.k8s.io/v1beta1");
    assert_eq!(body["kind"], "AdmissionReview");
    assert_eq!(body["response"]["uid"], "abc");
    assert_eq!(body["response"]["allowed"], false);
    assert_eq!(body["response"]["status"]["code"], 403);
    assert_eq!(body["response"]["status"]["message"], "why");

    let allowed = Decision::allow(Reason::FailOpen, "unverified").with_warning("careful");
    let body: Value = serde_json::from_slice(&response(&review, &allowed)).expect("json");
    assert_eq!(body["response"]["allowed"], true);
    assert_eq!(body["response"]["warnings"][0], "careful");
}

#[test]
fn annotations_are_read_with_the_distribution_grammar() {
    let pinned = PinnedImage::parse(&format!("busybox:1.36@{DIGEST}")).expect("parses");
    assert_eq!(
        (pinned.reference.registry(), pinned.reference.repository()),
        ("docker.io", "library/busybox")
    );
    // oci-spec's Unicode `\w` took this tag; no registry serves it, and Go refuses it.
    let err = PinnedImage::parse(&format!("r.example/root:é@{DIGEST}")).unwrap_err();
    assert!(err.contains("is not an image reference"), "{err}");
}
