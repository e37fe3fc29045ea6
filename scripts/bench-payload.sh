#!/usr/bin/env bash
# Benchmark: the widget's up-front payload (release build, gzip -9) and first contentful paint of the
# HRIS Integration page in headless Chromium. Prints tables and the machine. Measures; asserts nothing.
# Budgets we mean to beat: payload <= 165 KB gzip, FCP well under 188 ms.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
scripts/setup.sh >/dev/null
cargo leptos build --release --split -P >/dev/null 2>&1 || cargo leptos build --release --split -P
cargo build --release -p merge-sandbox >/dev/null 2>&1 || cargo build --release -p merge-sandbox

echo "## Machine"
echo "| what | value |"
echo "|---|---|"
echo "| cpu | $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs) |"
echo "| cores | $(nproc) |"
echo "| memory | $(free -h | awk '/Mem:/ {print $2}') |"
echo "| chromium | $(/usr/bin/chromium --version 2>/dev/null | head -1) |"
echo "| rustc | $(rustc --version) |"
echo
echo "## Payload (release, gzip -9)"
echo "Up-front: what the HRIS Integration page loads. Lazy: chunks fetched only by the routes that need them."
echo "| file | when | bytes | gzip -9 bytes |"
echo "|---|---|---:|---:|"
total=0
for f in target/site/pkg/*.wasm target/site/pkg/*.js target/site/pkg/*.css; do
  raw=$(wc -c <"$f"); gz=$(gzip -9 -c "$f" | wc -c)
  case "$(basename "$f")" in
    split_*|chunk_*) when=lazy ;;
    *) when=up-front; total=$((total + gz)) ;;
  esac
  echo "| $(basename "$f") | $when | $raw | $gz |"
done
echo "| **up-front total** | | | **$total** ($((total / 1024)) KiB; budget 165 KB) |"
echo

data=$(mktemp -d)
RUST_LOG=warn target/release/merge-sandbox --addr 127.0.0.1:0 >"$data/sandbox" 2>&1 &
sandbox_pid=$!
trap 'kill $sandbox_pid 2>/dev/null; rm -rf "$data"' EXIT
for _ in $(seq 100); do grep -q "Merge sandbox on" "$data/sandbox" && break; sleep 0.1; done
sandbox=$(grep -o 'Merge sandbox on http://[^ ]*' "$data/sandbox" | cut -d' ' -f4)
HRIS_DATA_DIR="$data" HRIS_BIND_ADDR=127.0.0.1:0 RUST_LOG=warn \
  MERGE_API_BASE_URL="$sandbox/api" MERGE_API_KEY=sandbox-api-key MERGE_LINK_SCRIPT_URL="$sandbox/initialize.js" \
  LEPTOS_SITE_ROOT=target/site target/release/server >"$data/out" 2>&1 &
pid=$!
trap 'kill $pid $sandbox_pid 2>/dev/null; rm -rf "$data"' EXIT
for _ in $(seq 100); do grep -q "listening on" "$data/out" && break; sleep 0.1; done
base=$(grep -o 'listening on http://[^ ]*' "$data/out" | cut -d' ' -f3)
(cd end2end && node ../scripts/bench-fcp.js "$base" "${RUNS:-15}")
