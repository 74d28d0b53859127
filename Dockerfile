# onwatch in a container: built with the Rust image, run in a slim Debian with only CA
# certificates (for the AWS APIs) and a non-root user. Linted by hadolint in the suite.
FROM rust:1.95-slim-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked --bin onwatch

FROM debian:bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates=20230311* \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --create-home --uid 10001 onwatch
COPY --from=build /src/target/release/onwatch /usr/local/bin/onwatch
USER 10001
WORKDIR /work
ENTRYPOINT ["onwatch"]
CMD ["--help"]
