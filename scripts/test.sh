#!/usr/bin/env bash
# Sets up what is missing and runs every test: each crate's Rust tests (the storage suite on SQLite and
# on PostgreSQL at TEST_DATABASE_URL), the check that the release server holds no sandbox, then the Playwright
# suite against a freshly built server and Merge sandbox.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
scripts/setup.sh
export TEST_DATABASE_URL="${TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test}"

step() { printf '\n\033[1;34m== %s\033[0m\n' "$*"; }

step "app: unit tests and the storage suite (SQLite + PostgreSQL)"
cargo test -p app --features ssr
step "merge-sandbox: its own tests (it plays Merge, and does not depend on app)"
cargo test -p merge-sandbox
step "server: configuration and provider tests (against the sandbox, in-process)"
cargo test -p server
step "server: the release binary holds no sandbox code"
scripts/check-release-has-no-sandbox.sh
step "frontend: compiles for wasm"
cargo check -p frontend --target wasm32-unknown-unknown
step "build the site, the server and the Merge sandbox"
cargo leptos build --split
cargo build -p merge-sandbox
step "end2end: Playwright in Chromium"
(cd end2end && npx playwright test)
