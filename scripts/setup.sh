#!/usr/bin/env bash
# Installs, only when missing, everything the build and the tests need. Safe to run again.
# Sources: rustup (toolchain + wasm target), crates.io (cargo-leptos, wasm-bindgen-cli),
# Debian (chromium), npm (Playwright, axe, binaryen's wasm-opt). Nothing else is downloaded.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '\033[1;34m[setup]\033[0m %s\n' "$*"; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

# 1. The pinned toolchain and its wasm target (rustup reads rust-toolchain.toml).
if ! rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown; then
  log "installing the Rust toolchain from rust-toolchain.toml"
  rustup toolchain install
fi

# 2. cargo-leptos 0.3.11, built without its self-download features.
if ! cargo leptos --version 2>/dev/null | grep -q '0\.3\.11'; then
  log "installing cargo-leptos 0.3.11"
  cargo install cargo-leptos --version 0.3.11 --locked --features no_downloads
fi

# 3. The wasm-bindgen CLI of exactly the version in Cargo.lock (not --locked: one locked dep is gone).
wb_version=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock)
if ! wasm-bindgen --version 2>/dev/null | grep -q " ${wb_version}\$"; then
  log "installing wasm-bindgen-cli ${wb_version}"
  cargo install wasm-bindgen-cli --version "${wb_version}"
fi

# 4. Chromium from Debian (Playwright drives it; it cannot download its own browser here).
if [ ! -x /usr/bin/chromium ]; then
  log "installing chromium from Debian"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi

# 5. end2end npm packages: @playwright/test, @axe-core/playwright, binaryen (wasm-opt for release builds).
if [ ! -d end2end/node_modules ] || [ end2end/package-lock.json -nt end2end/node_modules/.package-lock.json ]; then
  log "installing end2end npm packages"
  (cd end2end && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error)
fi
