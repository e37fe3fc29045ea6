#!/usr/bin/env bash
# `make bench`: builds the release site, the release server and the release `hris-bench` program
# (and the debug sandbox), then measures, prints tables with the machine and writes them to
# bench/results.md:
#   - the payload of the HRIS Integration page (each up-front and lazy file: raw, gzip -9, brotli,
#     on the wire) and navigation → first contentful paint → `hris:hydrated` beside a static copy of
#     the same HTML (scripts/bench-page.js, headless Chromium);
#   - server rendering, the `connections/list` server function beside a plain axum handler, cold
#     start to /readyz (server/bench/main.rs, `hris-bench`);
#   - the sync benchmark (scripts/bench-sync.sh) when there is one.
# Measures; asserts nothing. Not part of `make test`. Environment: LOADS (page loads of each kind,
# default 15), BENCH_SECONDS (seconds per load run, default 10), TEST_DATABASE_URL (PostgreSQL for
# the cold starts on PostgreSQL; default postgres://postgres@127.0.0.1:5432/test).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
source scripts/machine.sh
export TEST_DATABASE_URL="${TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test}"
mkdir -p bench
log=bench/build.log
: >"$log"

build() {
  echo "building: $*" >&2
  if ! "$@" >>"$log" 2>&1; then
    tail -n 40 "$log" >&2
    echo "error: '$*' failed (whole log: $log)" >&2
    exit 1
  fi
}
scripts/setup.sh >>"$log" 2>&1 || { tail -n 20 "$log" >&2; exit 1; }
build cargo leptos build --release --split -P
# The sandbox is not measured (the app's directory of HR systems is cached; it only answers the
# setup's links): the debug build `make test` made is enough.
build cargo build -p merge-sandbox
build cargo build --release -p server --features bench --bin hris-bench

work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

wait_for() { # file pattern: waits until the program writing `file` printed `pattern`
  for _ in $(seq 300); do grep -q "$2" "$1" && return 0; sleep 0.1; done
  echo "error: no '$2' in $1:" >&2; cat "$1" >&2; exit 1
}

RUST_LOG=warn target/debug/merge-sandbox --addr 127.0.0.1:0 >"$work/sandbox.out" 2>&1 &
pids+=($!)
wait_for "$work/sandbox.out" "Merge sandbox on"
sandbox=$(grep -o 'Merge sandbox on http://[^ ]*' "$work/sandbox.out" | cut -d' ' -f4)

start_server() {
  mkdir -p "$work/data"
  HRIS_DATA_DIR="$work/data" HRIS_BIND_ADDR=127.0.0.1:0 RUST_LOG=warn \
    MERGE_API_BASE_URL="$sandbox/api" MERGE_API_KEY=sandbox-api-key \
    MERGE_LINK_SCRIPT_URL="$sandbox/initialize.js" LEPTOS_SITE_ROOT=target/site \
    target/release/server >"$work/server.out" 2>&1 &
  server_pid=$!
  pids+=($server_pid)
  wait_for "$work/server.out" "listening on"
  base=$(grep -o 'listening on http://[^ ]*' "$work/server.out" | cut -d' ' -f3)
}

sync_section() {
  echo "## Sync"
  echo
  if [ -x scripts/bench-sync.sh ]; then
    scripts/bench-sync.sh
  else
    echo "not yet available (scripts/bench-sync.sh does not exist yet)"
  fi
  echo
}

report() {
  echo "# Benchmarks (\`make bench\`)"
  echo
  echo "Written by scripts/bench.sh: release builds, measured on the machine below; nothing is asserted."
  echo "A \"met?\" column compares a measurement with its target (issue 12)."
  echo
  machine
  node scripts/bench-page.js "$base" "$sandbox" target/site "${LOADS:-15}"
  kill "$server_pid" 2>/dev/null || true
  wait "$server_pid" 2>/dev/null || true
  target/release/hris-bench --sandbox "$sandbox" --site-root target/site \
    --server-exe target/release/server --seconds "${BENCH_SECONDS:-10}"
  sync_section
  echo "Load average at the end (1 / 5 / 15 min): $(cut -d' ' -f1-3 /proc/loadavg)."
}

start_server
report | tee "$work/results.md"
cp "$work/results.md" bench/results.md
echo "written to bench/results.md" >&2
