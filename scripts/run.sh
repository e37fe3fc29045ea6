#!/usr/bin/env bash
# Sets up what is missing, builds, and serves HRIS Connect at http://127.0.0.1:3000 on its embedded
# defaults: SQLite under ./data, the built-in Merge sandbox, and the dev sign-in page.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
scripts/setup.sh
cargo leptos build --split
export LEPTOS_SITE_ROOT="${LEPTOS_SITE_ROOT:-target/site}"
echo "HRIS Connect: open http://${HRIS_BIND_ADDR:-127.0.0.1:3000}/signin"
exec target/debug/server
