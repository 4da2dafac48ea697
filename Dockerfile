# syntax=docker/dockerfile:1
#
# dauth-proxy container image (README, "Container").
#
#   docker build -t dauth-proxy .                         # the gateway (the last stage)
#   docker build --target echo -t dauth-proxy-echo .      # the echo backend of the walkthroughs
#   docker compose up --build                             # both, see compose.yaml
#
# The gateway runs as uid/gid 10001 on a read-only copy of config/container.toml
# (/etc/dauth-proxy/dauth.toml) with its store on the volume /var/lib/dauth-proxy. Mount your
# own configuration and keys over /etc/dauth-proxy read-only: the shipped one trusts the
# DEVELOPMENT keys of keys/dev/, which anyone with this repository can sign tokens with.

# The toolchain: at least Cargo.toml's rust-version (1.89); pinned to what CI uses. The build
# and runtime images are the same Debian release, so the binary finds the glibc it was linked
# against.
ARG RUST_IMAGE=rust:1.95.0-slim-trixie
ARG RUNTIME_IMAGE=debian:trixie-slim

# ---- build: the release binary, from the lockfile ------------------------------------------
# The slim Rust image has gcc and libc6-dev, all that aws-lc-sys (built with cc, no cmake) and
# sled need; jemalloc (the binary's allocator, tikv-jemalloc-sys) is built with make as well.
FROM ${RUST_IMAGE} AS build
RUN apt-get update \
    && apt-get install -y --no-install-recommends make \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
# Only what the package needs: the manifest names benches/ and the examples, and keys/ holds the
# development public keys the gateway may compare configured keys with.
COPY Cargo.toml Cargo.lock ./
COPY src/ src/
COPY benches/ benches/
COPY examples/ examples/
COPY keys/ keys/
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    cargo build --release --locked --bin dauth-proxy \
    && install -D -m 0755 target/release/dauth-proxy /out/dauth-proxy

# ---- build-echo: the echo example, reusing the build stage's compiled dependencies ---------
FROM build AS build-echo
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    cargo build --release --locked --example echo \
    && install -D -m 0755 target/release/examples/echo /out/dauth-echo

# ---- runtime-base: Debian slim, CA roots (https upstreams, SMTP over TLS), a fixed user ----
FROM ${RUNTIME_IMAGE} AS runtime-base
# Debian's archive keeps only the current version of a package, so versions are not pinned.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid 10001 dauth \
    && useradd --system --uid 10001 --gid dauth --no-create-home \
        --home-dir /var/lib/dauth-proxy --shell /usr/sbin/nologin dauth
COPY --chmod=0755 contrib/docker/healthcheck /usr/local/bin/healthcheck

# ---- echo: the walkthroughs' backend, printing the identity headers it receives ------------
FROM runtime-base AS echo
COPY --from=build-echo /out/dauth-echo /usr/local/bin/dauth-echo
USER 10001:10001
EXPOSE 9000
ENV HEALTHCHECK_PORT=9000
HEALTHCHECK --interval=30s --timeout=5s --start-period=5s --retries=3 \
    CMD ["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/$HEALTHCHECK_PORT"]
ENTRYPOINT ["dauth-echo"]
CMD ["--listen", "0.0.0.0:9000"]

# ---- gateway (default target) --------------------------------------------------------------
FROM runtime-base AS gateway
COPY --from=build /out/dauth-proxy /usr/local/bin/dauth-proxy
# Defaults, owned by root and so read-only for the gateway's user; mount over them to change.
COPY config/container.toml /etc/dauth-proxy/dauth.toml
COPY keys/dev/dauth_public.pem keys/dev/issuer_private.pem /etc/dauth-proxy/keys/dev/
# The store; a new named volume takes this directory's owner and mode.
RUN install -d -o 10001 -g 10001 -m 0700 /var/lib/dauth-proxy
VOLUME ["/var/lib/dauth-proxy"]
WORKDIR /var/lib/dauth-proxy
USER 10001:10001
EXPOSE 8080
ENV HEALTHCHECK_PORT=8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 CMD ["healthcheck"]
# SIGTERM: stop accepting, drain up to server.shutdown_grace_secs (30 s), flush, exit 0. Give
# `docker stop` more than that: `docker stop -t 40` (compose.yaml sets stop_grace_period).
STOPSIGNAL SIGTERM
ENTRYPOINT ["dauth-proxy"]
CMD ["serve", "--config", "/etc/dauth-proxy/dauth.toml"]
