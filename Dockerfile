# kbundle: the GitHub Action's container, and a plain CLI image (ghcr.io/kbundle/kbundle).
#
# This file builds kbundle from source: what `uses: ./` runs on an unreleased commit, and a
# local `docker build`. Releases do not compile in Docker: .github/workflows/release.yml
# builds the static binaries natively per architecture and packs them with Dockerfile.release,
# and the release commit's action.yml runs that image by digest.

# ---- build --------------------------------------------------------------------------
FROM rust:1.95-slim-bookworm AS builder

# A static musl binary, so the runtime image needs no libc: that keeps it near 20 MB instead
# of ~45 MB with distroless/cc. musl-tools gives the C compiler wrapper that the C code in the
# dependency tree (mimalloc, ring, aws-lc-sys, built by the cc crate) needs for musl;
# mimalloc also replaces musl's slow allocator.
# musl-tools is not pinned: Debian replaces a package version in place on a point release,
# and a pinned version then fails the build; the builder image's tag fixes the release.
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends musl-tools \
 && rm -rf /var/lib/apt/lists/* \
 && rustup target add "$(uname -m)-unknown-linux-musl"
WORKDIR /src
COPY . .
RUN target="$(uname -m)-unknown-linux-musl" \
 && cargo build --release --locked --target "$target" \
 && strip --strip-all "target/$target/release/kbundle" \
 && install -D -m 0755 "target/$target/release/kbundle" /out/kbundle \
 && /out/kbundle --version

# ---- runtime ------------------------------------------------------------------------
# distroless/static: CA certificates, /etc/passwd with root and nonroot, tzdata; no libc
# (the binary is static), no shell, no package manager.
# The root variant on purpose, not :nonroot. GitHub runs a Docker action as the image's user
# and mounts the workspace and the GITHUB_OUTPUT/GITHUB_STEP_SUMMARY files, owned by the
# runner's account, into the container; GitHub's Dockerfile guidance is that Docker actions
# must run as root and set no USER. To run `kbundle webhook` in a cluster as non-root, set
# runAsUser: 65532 (distroless's `nonroot` user, present in this image too) in the pod's
# securityContext.
# distroless publishes no version tags, only latest/nonroot/debug; releases pin the digest.
# hadolint ignore=DL3007
FROM gcr.io/distroless/static-debian12:latest

LABEL org.opencontainers.image.title="kbundle" \
      org.opencontainers.image.description="Validate, bundle, sign and ship Kubernetes manifests the GitOps way" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.source="https://github.com/kbundle/kbundle"

COPY --from=builder /out/kbundle /usr/local/bin/kbundle

# No CMD: with no arguments inside Actions the binary reads its INPUT_* variables;
# `with: args:` (docker:// form) or `docker run IMAGE validate …` give it a command line.
ENTRYPOINT ["/usr/local/bin/kbundle"]
