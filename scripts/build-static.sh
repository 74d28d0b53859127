#!/usr/bin/env bash
# Builds the static onwatch binary the Dockerfile ships (x86_64 musl, no shared library), on a
# Debian machine without Docker: the same toolchain steps as the Dockerfile's build stage.
# Prints the binary's path; `file` says "static-pie linked" of it.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
target=x86_64-unknown-linux-musl
if ! command -v musl-gcc >/dev/null; then
    [ "$(id -u)" -eq 0 ] || { echo "musl-gcc is required: apt-get install musl-tools" >&2; exit 2; }
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends musl-tools >/dev/null
fi
rustup target list --installed | grep -qx "$target" || rustup target add "$target" >&2
cargo build --release --locked --target "$target" --bin onwatch >&2
echo "target/$target/release/onwatch"
