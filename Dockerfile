# syntax=docker/dockerfile:1
#
# The `rahat` image: one binary for every role, chosen by the arguments.
#
#   docker build --build-arg VERSION=1.4.0 --build-arg REVISION="$(git rev-parse HEAD)" -t rahat:1.4.0 .
#   docker run --rm -p 8080:8080 rahat:1.4.0                  # `rahat serve`, the embedded default
#   docker run --rm -e DATABASE_URL=… rahat:1.4.0 migrate     # before a rollout
#   docker run --rm … rahat:1.4.0 serve core                  # one process of the distributed mode
#
# scripts/build-release runs the build stage's `swift build` on a host and smoke-tests the binary;
# .github/workflows/release.yml builds and pushes this image for each `v*` tag.

# ---- build -------------------------------------------------------------------------------------
# Noble on both sides: a binary runs only against a glibc at least as new as the one it was linked
# with, so the build and runtime stages share one distribution. Noble rather than jammy because it
# is the current LTS (jammy's standard support ends in 2027) and nothing here needs jammy.
FROM swift:6.3-noble AS build

# The ldd check below pipes into grep; without pipefail a failing ldd would pass unnoticed.
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
WORKDIR /build

# The manifest alone first, so the dependency checkouts are a layer of their own that a source
# change does not invalidate. Package.resolved is not committed: where the build context has one
# (a local build) it pins the versions, as far as they still satisfy Package.swift; in CI
# resolution picks the newest versions Package.swift allows.
COPY Package.* ./
RUN swift package resolve

# SwiftPM loads every declared target, tests and benchmarks included, even to build one product,
# so those directories must exist. The protobuf and OpenAPI code under Sources/ is committed:
# neither protoc nor the generators are needed here, only the toolchain the base image has (the
# packages vendor BoringSSL, SQLite and zlib shims).
COPY Sources ./Sources
COPY Tests ./Tests
COPY Benchmarks ./Benchmarks

# The same command scripts/build-release runs. --static-swift-stdlib links the Swift runtime,
# Dispatch and Foundation (with its ICU data) into the binary, so the runtime stage needs no
# toolchain. Nothing is stripped: the runtime's backtracer names the functions of a crash from the
# symbols, and the Swift runtime's own backtracer binary is shipped beside rahat for that reason.
# The console's templates, languages and assets are read from the resource directory beside it.
RUN swift build -c release --static-swift-stdlib --product rahat \
    && bin="$(swift build -c release --static-swift-stdlib --product rahat --show-bin-path)" \
    && install -D -m 0755 "$bin/rahat" /staging/usr/local/bin/rahat \
    && cp -R "$bin/rahat_Console.resources" /staging/usr/local/bin/ \
    && install -D -m 0755 /usr/libexec/swift/linux/swift-backtrace-static \
        /staging/usr/libexec/swift/linux/swift-backtrace-static

# Fail here rather than at a rollout if a Swift runtime library is still linked dynamically: the
# runtime stage has none of them.
RUN ldd /staging/usr/local/bin/rahat \
    && ! ldd /staging/usr/local/bin/rahat | grep -E 'libswift|libFoundation|lib_Foundation|libdispatch|libBlocksRuntime|not found'

# ---- runtime -----------------------------------------------------------------------------------
FROM ubuntu:noble

ARG VERSION=dev
ARG REVISION=unknown
# No LICENSE file or canonical repository URL is in the tree yet; the release workflow passes the
# repository's URL, and docker/metadata-action's labels override these with what GitHub knows.
ARG SOURCE=""
ARG LICENSES=NOASSERTION

# What the static-stdlib binary still links dynamically (scripts/build-release lists it with ldd):
# glibc, libstdc++ and libgcc_s (the runtime's C++ parts), and zlib (gRPC's and the HTTP client's
# compression). All are in the base image already; they are named so that a slimmer base fails
# loudly instead of at start-up. ca-certificates: the system's trust roots, which the SMS
# gateway's HTTPS and Redis over TLS (rediss://) are verified against. tzdata: settlement
# schedules run in named time zones (Asia/Kathmandu). No libxml2: nothing imports FoundationXML, nor
# FoundationNetworking, whose libcurl comes here only as curl's. curl: deploy/compose probes each
# process's /readiness with it (its README's "What the image must provide"); Kubernetes probes
# need nothing in the image.
# Versions are not pinned (DL3008): Ubuntu replaces a package's version in the archive with each
# security update, so a pinned one stops installing; rebuilding the image picks the fixes up.
# hadolint ignore=DL3008
RUN export DEBIAN_FRONTEND=noninteractive \
    && apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates tzdata curl libstdc++6 libgcc-s1 zlib1g \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid 10001 rahat \
    && useradd --system --uid 10001 --gid rahat --home-dir /var/lib/rahat --no-create-home \
        --shell /usr/sbin/nologin rahat \
    && install -d -o rahat -g rahat -m 0700 /var/lib/rahat

COPY --from=build /staging/ /

# Every role reads only its own keys, and nothing rejects a key another role uses, so each
# listener's address can be set here for all of them. 0.0.0.0 because the 127.0.0.1 defaults are
# unreachable from outside the container: kubelet probes, Prometheus and the other processes dial
# the pod's address. Override with `::` on an IPv6-only cluster.
# RAHAT_DATA_DIR is the only place the process writes besides /tmp (the embedded default's SQLite
# files and generated keys), so the image runs with a read-only root filesystem when both are
# mounted writable (an emptyDir or a volume on /var/lib/rahat, an emptyDir on /tmp). No VOLUME:
# it would make Docker create an anonymous volume per container, and the data belongs on a volume
# the operator names.
# SWIFT_BACKTRACE points the runtime at the static backtracer: a static binary cannot find it
# beside a libswiftCore.so, and without it a crash leaves no backtrace.
ENV RAHAT_DATA_DIR=/var/lib/rahat \
    RAHAT_LOG_FORMAT=json \
    RAHAT_VERSION=${VERSION} \
    RAHAT_HTTP_HOST=0.0.0.0 \
    RAHAT_GATEWAY_OPS_HOST=0.0.0.0 \
    RAHAT_AUTH_GRPC_HOST=0.0.0.0 \
    RAHAT_AUTH_HTTP_HOST=0.0.0.0 \
    RAHAT_CORE_GRPC_HOST=0.0.0.0 \
    RAHAT_CORE_HTTP_HOST=0.0.0.0 \
    RAHAT_LEDGER_GRPC_HOST=0.0.0.0 \
    RAHAT_LEDGER_HTTP_HOST=0.0.0.0 \
    RAHAT_C2C_GRPC_HOST=0.0.0.0 \
    RAHAT_C2C_HTTP_HOST=0.0.0.0 \
    RAHAT_WORKER_HTTP_HOST=0.0.0.0 \
    SWIFT_BACKTRACE=enable=yes,sanitize=yes,threads=all,images=all,interactive=no,swift-backtrace=/usr/libexec/swift/linux/swift-backtrace-static

LABEL org.opencontainers.image.title="rahat" \
      org.opencontainers.image.description="Rahat: aid projects, beneficiaries, disbursements, vendors and settlements, on a hash-chained ledger. One binary for every role." \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.source="${SOURCE}" \
      org.opencontainers.image.licenses="${LICENSES}"

# gateway API 8080 and its operations port 8081; gRPC and operations ports of auth (7101, 7102),
# core (7111, 7112), ledger (7121, 7122) and c2c (7131, 7132); the worker's operations port 7192.
EXPOSE 8080 8081 7101 7102 7111 7112 7121 7122 7131 7132 7192

# Numeric, so that Kubernetes' runAsNonRoot can verify it without reading /etc/passwd.
USER 10001:10001
WORKDIR /var/lib/rahat

# No HEALTHCHECK: Kubernetes ignores it and runs its own probes, and no single command fits every
# role (each answers /health and /readiness on its own port). deploy/compose sets one per service.
# rahat runs as PID 1 without an init: it handles SIGTERM and SIGINT itself (a graceful drain) and
# starts no child processes that would need reaping.
ENTRYPOINT ["rahat"]
CMD ["serve"]
