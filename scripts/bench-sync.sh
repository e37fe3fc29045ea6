#!/usr/bin/env bash
# The employee sync's benchmark (measures, asserts nothing): N employees with their employments
# from a merge-sandbox process into SQLite and into PostgreSQL, a full sync and then an incremental
# one after 1 % of the employees were terminated. Release build. Prints a Markdown table (seconds,
# records/s, peak RSS of the process doing the sync, the targets beside) with the machine, and
# appends it to bench/results.md under the "Sync" heading.
#
#   scripts/bench-sync.sh                   # 10k and 100k, SQLite and PostgreSQL
#   BENCH_SIZES="10000" scripts/bench-sync.sh
#   BENCH_BACKENDS="sqlite" scripts/bench-sync.sh
#
# PostgreSQL: a fresh database per case on the server of TEST_DATABASE_URL (default
# postgres://postgres@127.0.0.1:5432/test), dropped afterwards.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh

SIZES=${BENCH_SIZES:-"10000 100000"}
BACKENDS=${BENCH_BACKENDS:-"sqlite postgres"}
PG_ADMIN=${TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test}

cargo build --release -p merge-sandbox --bin merge-sandbox
cargo build --release -p server --example bench_sync

work=$(mktemp -d)
sandbox_pid=""
cleanup() {
  if [ -n "$sandbox_pid" ]; then kill "$sandbox_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

RUST_LOG=warn target/release/merge-sandbox --addr 127.0.0.1:0 --api-key sandbox-api-key \
  >"$work/sandbox.log" 2>&1 &
sandbox_pid=$!
sandbox=""
for _ in $(seq 1 200); do
  sandbox=$(sed -n 's/^Merge sandbox on \([^ ]*\).*/\1/p' "$work/sandbox.log" | head -n1)
  [ -n "$sandbox" ] && break
  sleep 0.1
done
[ -n "$sandbox" ] || { cat "$work/sandbox.log"; echo "the sandbox did not start" >&2; exit 1; }

target() { # backend size phase
  case "$3" in
    full)
      if [ "$2" -ge 100000 ]; then
        if [ "$1" = sqlite ]; then echo "≤ 15 s"; else echo "≤ 20 s"; fi
      else echo "—"; fi ;;
    *) echo "≤ 2 s" ;;
  esac
}

rows=""
for size in $SIZES; do
  for backend in $BACKENDS; do
    db=sqlite
    [ "$backend" = postgres ] && db=$PG_ADMIN
    echo "bench: $backend, $size employees ..." >&2
    RUST_LOG=error target/release/examples/bench_sync --sandbox "$sandbox" --size "$size" \
      --database "$db" >"$work/out.tsv"
    while IFS=$'\t' read -r phase seconds records rss_kib; do
      per_s=$(awk -v r="$records" -v s="$seconds" 'BEGIN { printf "%.0f", (s > 0 ? r / s : 0) }')
      rss_mb=$(awk -v k="$rss_kib" 'BEGIN { printf "%.0f", k / 1024 }')
      rows+="| $backend | $size | $phase | $seconds | $records | $per_s | $rss_mb | $(target "$backend" "$size" "$phase"), ≤ 150 MB |"$'\n'
    done <"$work/out.tsv"
  done
done

cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n1)
cores=$(nproc)
ram=$(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)
os="$(. /etc/os-release && echo "$PRETTY_NAME"), Linux $(uname -r)"
commit=$(git rev-parse --short HEAD)$(git diff --quiet HEAD -- app server || echo "+changes")
report="### $(date -u +%Y-%m-%dT%H:%MZ), commit $commit

Machine: $cpu, $cores cores, $ram RAM, $os. Release build; the sandbox in its own process.
Records: employees + employments read; peak RSS: the syncing process's VmHWM during the run.

| Backend | Employees | Run | Seconds | Records | Records/s | Peak RSS (MB) | Target |
|---|---|---|---|---|---|---|---|
$rows"

echo
echo "$report"

mkdir -p bench
[ -f bench/results.md ] || printf '# Benchmark results\n' >bench/results.md
REPORT="$report" python3 - <<'EOF'
import os, re
path = "bench/results.md"
text = open(path).read()
report = os.environ["REPORT"].rstrip() + "\n"
if not re.search(r"^## Sync$", text, re.M):
    text = text.rstrip() + "\n\n## Sync\n\n" + report
else:
    # Append at the end of the Sync section (before the next "## " heading, if any).
    start = re.search(r"^## Sync$", text, re.M).end()
    nxt = re.search(r"^## ", text[start:], re.M)
    end = start + nxt.start() if nxt else len(text)
    text = text[:end].rstrip() + "\n\n" + report + ("\n" + text[end:] if nxt else "")
open(path, "w").write(text)
EOF
echo "appended to bench/results.md" >&2
