#!/usr/bin/env bash
# Sets up what is missing and runs every test: each crate's Rust tests (the storage suite on SQLite and
# on PostgreSQL at TEST_DATABASE_URL), then the Playwright suite against a freshly built server.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
scripts/setup.sh
export TEST_DATABASE_URL="${TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test}"

step() { printf '\n\033[1;34m== %s\033[0m\n' "$*"; }

step "app: unit tests and the storage suite (SQLite + PostgreSQL)"
cargo test -p app --features ssr
step "server: configuration, sandbox and provider tests"
cargo test -p server
step "frontend: compiles for wasm"
cargo check -p frontend --target wasm32-unknown-unknown
step "build the site and the server"
cargo leptos build --split
step "end2end: Playwright in Chromium"
(cd end2end && npx playwright test)
