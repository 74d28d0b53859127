# onwatch in a container: one static binary (musl, linked with no shared library), built with the
# Rust image and run in Alpine as a non-root user. Alpine, not scratch: the runner's merge task
# (infrastructure/runner/tasks.tf) runs onwatch from /bin/sh, and Alpine's base already holds the
# CA certificates the AWS APIs need. The same build works on a Debian machine without Docker:
# `scripts/build-static.sh`. Linted by hadolint in the suite.
FROM rust:1.95-slim-bookworm AS build
RUN apt-get update \
    && apt-get install -y --no-install-recommends musl-tools=1.2.3-1 \
    && rm -rf /var/lib/apt/lists/* \
    && rustup target add x86_64-unknown-linux-musl
WORKDIR /src
COPY . .
RUN cargo build --release --locked --target x86_64-unknown-linux-musl --bin onwatch

FROM alpine:3.21
RUN adduser -D -H -u 10001 onwatch
COPY --from=build /src/target/x86_64-unknown-linux-musl/release/onwatch /usr/local/bin/onwatch
USER 10001
WORKDIR /work
ENTRYPOINT ["onwatch"]
CMD ["--help"]
