#!/usr/bin/env python3
"""Writes each fuzz target's seed corpus into fuzz/corpus/TARGET from the test fixtures,
the examples and fuzz/seeds/TARGET (hand-written hostile inputs). Safe to run again: files
are named by their content's hash, so nothing is written twice."""
import base64, glob, hashlib, io, json, os, sys, tarfile, gzip

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CORPUS = os.path.join(ROOT, "fuzz", "corpus")
LAYER_MARK = b"\n--kbundle-fuzz-layer--\n"


def files(*patterns):
    out = []
    for p in patterns:
        out += sorted(glob.glob(os.path.join(ROOT, p), recursive=True))
    return [f for f in out if os.path.isfile(f)]


def read(path):
    with open(path, "rb") as f:
        return f.read()


def put(target, data):
    d = os.path.join(CORPUS, target)
    os.makedirs(d, exist_ok=True)
    path = os.path.join(d, "seed-" + hashlib.sha1(data).hexdigest())
    if not os.path.exists(path):
        with open(path, "wb") as f:
            f.write(data)


def cosign_signatures():
    """(payload bytes, annotations) of the real cosign signatures in the fixtures."""
    out = []
    for f in files("tests/fixtures/cosign/signed-images/*/signature-*"):
        body = read(f).split(b"\n", 1)[1]
        sig = json.loads(body)
        out.append((base64.b64decode(sig["payload"]), sig.get("annotations") or {}))
    return out


def sig_manifest(layers):
    return json.dumps({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "size": 2,
                   "digest": "sha256:" + hashlib.sha256(b"{}").hexdigest()},
        "layers": [{"mediaType": "application/vnd.dev.cosign.simplesigning.v1+json",
                    "size": len(p), "digest": "sha256:" + hashlib.sha256(p).hexdigest(),
                    "annotations": a} for p, a in layers],
    }).encode()


def tar_of(folder, gz):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz" if gz else "w", format=tarfile.GNU_FORMAT) as t:
        t.add(os.path.join(ROOT, folder), arcname=".")
    return buf.getvalue()


def hostile_tar(entries):
    """entries: (name, type, linkname, data)."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.GNU_FORMAT) as t:
        for name, kind, link, data in entries:
            info = tarfile.TarInfo(name)
            info.type = kind
            info.linkname = link
            info.size = len(data)
            t.addfile(info, io.BytesIO(data) if data else None)
    return buf.getvalue()


def main():
    yaml = files("tests/fixtures/**/*.yaml", "tests/fixtures/**/*.yml", "examples/**/*.yaml",
                 "schemas/**/*.yaml", "kbundle.yaml")
    for f in yaml:
        put("yaml", read(f))
        if "CustomResourceDefinition" in read(f).decode("utf-8", "replace") or "/validate/" in f:
            put("crd", read(f))
    for f in files("kbundle.yaml", "tests/fixtures/**/kbundle.yaml"):
        put("config", read(f))

    sigs = cosign_signatures()
    for p, _ in sigs:
        put("simple_signing", p)
    put("sig_manifest", sig_manifest(sigs[:1]))
    put("sig_manifest", sig_manifest(sigs))
    for f in files("tests/fixtures/cosign/signed-images/*/manifest.json"):
        put("oci", read(f))

    for folder in ["examples/shop", "examples"]:
        put("unpack", tar_of(folder, False))
        put("unpack", tar_of(folder, True))
    REG, DIR, SYM, LNK = tarfile.REGTYPE, tarfile.DIRTYPE, tarfile.SYMTYPE, tarfile.LNKTYPE
    # The escapes issue 18 found: a symlink chain, a hard link to a path outside.
    put("unpack", hostile_tar([("a", SYM, ".", b""), ("a/b", SYM, "../sentinel.txt", b""),
                               ("a/b", REG, "", b"overwritten\n")]))
    put("unpack", hostile_tar([("passwd", LNK, "sentinel.txt", b""), ("passwd", REG, "", b"x\n")]))
    put("unpack", hostile_tar([("d", DIR, "", b""), ("d/l", SYM, "..", b""),
                               ("d/l/outside/x", REG, "", b"x\n")]))
    put("unpack", tar_of("examples/shop", False) + LAYER_MARK + hostile_tar(
        [("shop", SYM, "..", b""), ("shop/sentinel.txt", REG, "", b"x\n")]))

    for f in files("tests/fixtures/webhook/*.json"):
        text = read(f).decode()
        for image in ["us-docker.pkg.dev/p/r/root:v1", "oci-layout:/tmp/x:tag"]:
            put("admission", text.replace("IMAGE", image)
                .replace("DIGEST", "sha256:" + "a" * 64)
                .replace("OLD_IMAGE_TO_SYNC", image + "@sha256:" + "b" * 64).encode())
    for f in files("tests/fixtures/sigstore/*.json"):
        put("sigstore_bundle", read(f))

    # cel: a rule number, then the string the rule reads (fuzz_targets/cel.rs lists the rules).
    for pick, value in enumerate(["1Ki", "1.5e3", "https://example.com:8443/a%20b?x=1", "x",
                                  "10.0.0.1", "10.0.0.0/8", "::1", "fe80::/10", "my-name",
                                  "a.b/c", "2024-01-02T03:04:05Z", "dns1123Label", "1h30m5.5s",
                                  "1.2.3-rc.1+build", "^[a-z]+$", "a,b,c", "héllo", " trim "]):
        put("cel", bytes([pick]) + value.encode())
    # cel_rule: the expressions checked against the API server's CEL environment, and the
    # rules of the CRDs in the fixtures.
    for line in read(os.path.join(ROOT, "tests/fixtures/cel/k8s-oracle.tsv")).decode().splitlines():
        if line and not line.startswith("#"):
            put("cel_rule", line.split("\t")[0].encode())
    # regex: the patterns checked against Go's regexp.
    for line in read(os.path.join(ROOT, "tests/fixtures/cel/re2-oracle.tsv")).decode().splitlines():
        if line and not line.startswith("#"):
            put("regex", json.loads(line.split("\t")[0]).encode())
    for f in yaml:
        for line in read(f).decode("utf-8", "replace").splitlines():
            rule = line.strip().removeprefix("- ").strip()
            if rule.startswith("rule:"):
                put("cel_rule", rule[5:].strip().strip("'\"").encode())
    for target_dir in glob.glob(os.path.join(ROOT, "fuzz", "seeds", "*")):
        for f in files(os.path.relpath(target_dir, ROOT) + "/*"):
            put(os.path.basename(target_dir), read(f))


if __name__ == "__main__":
    main()
