#!/usr/bin/env python3
"""Independent check of a cosign signature, sharing no code with kbundle.

    python3 tests/verify_cosign.py PUBKEY_PEM PAYLOAD_FILE SIGNATURE_B64

PUBKEY_PEM is a cosign.pub (ECDSA P-256, SubjectPublicKeyInfo PEM), PAYLOAD_FILE the exact
payload bytes (the simple-signing JSON blob of the signature layer), SIGNATURE_B64 the value of
the layer's dev.cosignproject.cosign/signature annotation (base64 of a DER ECDSA signature).
cosign signs the payload bytes as they are, with SHA-256, so that is what is checked here.

Prints "ok" and exits 0 when the signature verifies, otherwise prints the reason and exits 1.
Needs the `cryptography` package.
"""

import base64
import binascii
import sys

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec


def check(pubkey_path: str, payload_path: str, signature_b64: str) -> str | None:
    """Returns None when the signature verifies, else why not."""
    try:
        with open(pubkey_path, "rb") as f:
            key = serialization.load_pem_public_key(f.read())
    except (OSError, ValueError) as e:
        return f"cannot read public key {pubkey_path}: {e}"
    if not isinstance(key, ec.EllipticCurvePublicKey) or not isinstance(
        key.curve, ec.SECP256R1
    ):
        return f"{pubkey_path} is not an ECDSA P-256 public key"
    try:
        with open(payload_path, "rb") as f:
            payload = f.read()
    except OSError as e:
        return f"cannot read payload {payload_path}: {e}"
    try:
        signature = base64.b64decode(signature_b64, validate=True)
    except binascii.Error as e:
        return f"signature is not base64: {e}"
    try:
        key.verify(signature, payload, ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        return "signature does not verify with this key over these payload bytes"
    return None


def main() -> int:
    if len(sys.argv) != 4:
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    reason = check(sys.argv[1], sys.argv[2], sys.argv[3])
    if reason is None:
        print("ok")
        return 0
    print(reason)
    return 1


if __name__ == "__main__":
    sys.exit(main())
