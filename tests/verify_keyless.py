#!/usr/bin/env python3
"""Independent check of a cosign keyless signature layer, sharing no code with kbundle.

    python3 tests/verify_keyless.py ANNOTATIONS_JSON PAYLOAD_FILE CA_PEM REKOR_PUB IDENTITY ISSUER

ANNOTATIONS_JSON holds the layer's annotations (signature, certificate, chain, bundle) as a
JSON object, PAYLOAD_FILE the exact payload bytes, CA_PEM the trusted Fulcio root (and
intermediates), REKOR_PUB the Rekor log's public key. Checks what cosign checks: the payload
signature with the certificate's key, the chain up to a trusted certificate, the SAN and the
Fulcio issuer extension, the Rekor SET over the canonical entry (sorted keys, no spaces), the
logged hashedrekord body, and that the entry was integrated while the certificate was valid.

Prints "ok" and exits 0, otherwise prints the reason and exits 1. Needs `cryptography` >= 40.
"""

import base64
import datetime
import hashlib
import json
import sys

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

ISSUER_OID = x509.ObjectIdentifier("1.3.6.1.4.1.57264.1.8")


def check(annotations, payload, cas, rekor_key, identity, issuer):
    sig = base64.b64decode(annotations["dev.cosignproject.cosign/signature"])
    leaf = x509.load_pem_x509_certificate(
        annotations["dev.sigstore.cosign/certificate"].encode()
    )
    chain = x509.load_pem_x509_certificates(
        annotations["dev.sigstore.cosign/chain"].encode()
    )
    try:
        leaf.public_key().verify(sig, payload, ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        return "payload signature does not verify with the certificate key"

    current, trusted_der = leaf, {c.public_bytes(serialization.Encoding.DER) for c in cas}
    for _ in range(5):
        issuer_cert = next(
            (c for c in cas + chain if c.subject == current.issuer), None
        )
        if issuer_cert is None:
            return "no issuer for " + current.subject.rfc4514_string()
        try:
            current.verify_directly_issued_by(issuer_cert)
        except (ValueError, TypeError, InvalidSignature) as e:
            return f"chain signature: {e}"
        if issuer_cert.public_bytes(serialization.Encoding.DER) in trusted_der:
            break
        current = issuer_cert
    else:
        return "chain does not reach a trusted certificate"

    san = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    names = san.get_values_for_type(x509.UniformResourceIdentifier) + san.get_values_for_type(
        x509.RFC822Name
    )
    if identity not in names:
        return f"identity {names} is not {identity}"
    raw = leaf.extensions.get_extension_for_oid(ISSUER_OID).value.value
    if raw[0] != 0x0C or raw[2:].decode() != issuer:
        return f"issuer extension {raw!r} is not {issuer}"

    bundle = json.loads(annotations["dev.sigstore.cosign/bundle"])
    p = bundle["Payload"]
    canonical = json.dumps(
        {k: p[k] for k in ("body", "integratedTime", "logID", "logIndex")},
        sort_keys=True,
        separators=(",", ":"),
    ).encode()
    try:
        rekor_key.verify(
            base64.b64decode(bundle["SignedEntryTimestamp"]),
            canonical,
            ec.ECDSA(hashes.SHA256()),
        )
    except InvalidSignature:
        return "SET does not verify with the rekor key"
    spki = rekor_key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    if hashlib.sha256(spki).hexdigest() != p["logID"]:
        return "logID is not the rekor key's"

    body = json.loads(base64.b64decode(p["body"]))
    spec = body["spec"]
    if body["kind"] != "hashedrekord" or body["apiVersion"] != "0.0.1":
        return "body is not hashedrekord 0.0.1"
    if spec["data"]["hash"] != {
        "algorithm": "sha256",
        "value": hashlib.sha256(payload).hexdigest(),
    }:
        return "logged hash is not the payload's"
    if base64.b64decode(spec["signature"]["content"]) != sig:
        return "logged signature differs"
    logged = x509.load_pem_x509_certificate(
        base64.b64decode(spec["signature"]["publicKey"]["content"])
    )
    if logged != leaf:
        return "logged certificate differs"

    at = datetime.datetime.fromtimestamp(p["integratedTime"], datetime.timezone.utc)
    if not (leaf.not_valid_before_utc <= at <= leaf.not_valid_after_utc):
        return "integrated outside the certificate's validity"
    return None


def main() -> int:
    if len(sys.argv) != 7:
        print(__doc__.strip().splitlines()[2].strip())
        return 2
    ann_path, payload_path, ca_path, rekor_path, identity, issuer = sys.argv[1:]
    with open(ann_path) as f:
        annotations = json.load(f)
    with open(payload_path, "rb") as f:
        payload = f.read()
    with open(ca_path, "rb") as f:
        cas = x509.load_pem_x509_certificates(f.read())
    with open(rekor_path, "rb") as f:
        rekor_key = serialization.load_pem_public_key(f.read())
    problem = check(annotations, payload, cas, rekor_key, identity, issuer)
    print(problem or "ok")
    return 1 if problem else 0


if __name__ == "__main__":
    sys.exit(main())
