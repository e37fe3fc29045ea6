#!/usr/bin/env bash
# CI (issue 10): the production `server` binary holds none of the Merge sandbox. Builds
# `server` in release exactly as alone (the sandbox is only a dev-dependency of its tests), and
# looks in its bytes (grep -a: like `strings`, and finds UTF-8 too) for strings only the sandbox's code has: its control routes, its demo password,
# its Link dialog's markup, its log lines. Then looks for the same strings in the
# `merge-sandbox` binary (a debug build holds the same literals), so a check that can no longer find
# them fails instead of passing.
# Also: `server`'s normal dependencies do not include merge-sandbox, and merge-sandbox does not
# depend on `app`.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh

markers=(
  "sandbox-password"                       # the Link dialog's demo password
  "/link-tokens/{link_token}/complete"     # control API routes (under /sandbox)
  "/clock/advance"
  "/organizations/{origin_id}"
  "Merge Link (sandbox)"                   # the Link dialog's markup
  "Merge Link · sandbox"
  "/sandbox/link/dialog"
  "/sandbox/magic/"
  "Choose an HR system supported by this sandbox."
  "merge sandbox serving"                  # its log line
)

fail() { echo "check-release-has-no-sandbox: $*" >&2; exit 1; }

if cargo tree -p server -e normal,build --prefix none | grep -q '^merge-sandbox '; then
  fail "server depends on merge-sandbox outside [dev-dependencies]"
fi
if cargo tree -p merge-sandbox --prefix none | grep -Eq '^app '; then
  fail "merge-sandbox depends on app"
fi

start=$(date +%s)
cargo build --release -p server
echo "release build of server: $(($(date +%s) - start)) s"
cargo build -p merge-sandbox

server_bin=target/release/server
sandbox_bin=target/debug/merge-sandbox
[ -x "$server_bin" ] && [ -x "$sandbox_bin" ] || fail "release binaries missing"
found=0
for m in "${markers[@]}"; do
  if ! LC_ALL=C grep -aqF -- "$m" "$sandbox_bin"; then
    fail "marker not found in $sandbox_bin (the check would be blind): $m"
  fi
  if LC_ALL=C grep -aqF -- "$m" "$server_bin"; then
    echo "sandbox code in $server_bin: $m" >&2
    found=1
  fi
done
[ "$found" = 0 ] || fail "the release server binary contains sandbox code"
echo "ok: ${#markers[@]} sandbox markers, all in merge-sandbox, none in the release server"
