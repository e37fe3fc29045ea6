#!/usr/bin/env bash
# The soak (issue 15): 64 admins listing and testing connections for 5 minutes on each backend
# (SQLite, then PostgreSQL at TEST_DATABASE_URL) while the Merge sandbox answers with 500s, 429s and
# slow answers; reports requests served, p99, errors by kind, and that no row was lost or duplicated
# (server/bench/soak.rs, run by the release `hris-bench --soak`). Loopback only, bounded; measures,
# asserts nothing; not part of `make test`. Environment: SOAK_SECONDS (per backend, default 300),
# SOAK_ADMINS (default 64). Prints the tables and writes them to bench/soak.md.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
source scripts/machine.sh
export TEST_DATABASE_URL="${TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test}"
mkdir -p bench
log=bench/build.log
scripts/setup.sh >"$log" 2>&1 || { tail -n 20 "$log" >&2; exit 1; }
for step in "cargo build -p merge-sandbox" "cargo build --release -p server --features bench --bin hris-bench"; do
  echo "building: $step" >&2
  $step >>"$log" 2>&1 || { tail -n 40 "$log" >&2; exit 1; }
done

work=$(mktemp -d)
sandbox_pid=""
cleanup() {
  [ -n "$sandbox_pid" ] && kill "$sandbox_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
RUST_LOG=warn target/debug/merge-sandbox --addr 127.0.0.1:0 >"$work/sandbox.out" 2>&1 &
sandbox_pid=$!
for _ in $(seq 300); do grep -q "Merge sandbox on" "$work/sandbox.out" && break; sleep 0.1; done
sandbox=$(grep -o 'Merge sandbox on http://[^ ]*' "$work/sandbox.out" | cut -d' ' -f4)

{
  echo "# Soak (\`scripts/soak.sh\`)"
  echo
  machine
  target/release/hris-bench --sandbox "$sandbox" --soak "${SOAK_SECONDS:-300}" --admins "${SOAK_ADMINS:-64}"
  echo "Load average at the end (1 / 5 / 15 min): $(cut -d' ' -f1-3 /proc/loadavg)."
} | tee "$work/soak.md"
cp "$work/soak.md" bench/soak.md
echo "written to bench/soak.md" >&2
