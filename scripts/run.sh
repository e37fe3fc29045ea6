#!/usr/bin/env bash
# Sets up what is missing, builds, and serves HRIS Connect at http://127.0.0.1:3000 on its embedded
# defaults: SQLite under ./data, the dev sign-in page, and the Merge sandbox (its own program,
# `merge-sandbox`, on 127.0.0.1:4010) beside the server. With MERGE_API_BASE_URL set, only the server
# runs, against that Merge. Ctrl-C stops both.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
scripts/setup.sh
cargo leptos build --split
export LEPTOS_SITE_ROOT="${LEPTOS_SITE_ROOT:-target/site}"
bind="${HRIS_BIND_ADDR:-127.0.0.1:3000}"
data_dir="${HRIS_DATA_DIR:-./data}"
sandbox_addr="${SANDBOX_ADDR:-127.0.0.1:4010}"
with_sandbox=
if [ -z "${MERGE_API_BASE_URL:-}" ]; then
  cargo build -p merge-sandbox
  with_sandbox=1
  export MERGE_API_BASE_URL="http://${sandbox_addr}/api"
  export MERGE_API_KEY="${MERGE_API_KEY:-sandbox-api-key}"
  export MERGE_LINK_SCRIPT_URL="http://${sandbox_addr}/initialize.js"
fi

pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true' EXIT INT TERM
target/debug/server &
pids+=($!)
if [ -n "$with_sandbox" ]; then
  # The sandbox signs its webhooks with the server's first webhook key: MERGE_WEBHOOK_KEYS, or the
  # dev key the server generates once in <data dir>/webhook-keys at start.
  key="${MERGE_WEBHOOK_KEYS:-}"
  if [ -z "$key" ]; then
    for _ in $(seq 300); do
      [ -s "$data_dir/webhook-keys" ] && break
      kill -0 "${pids[0]}" 2>/dev/null || exit 1 # the server stopped (its error is above)
      sleep 0.1
    done
    key=$(cat "$data_dir/webhook-keys")
  fi
  SANDBOX_WEBHOOK_KEY="${key%%,*}" target/debug/merge-sandbox --addr "$sandbox_addr" \
    --api-key "$MERGE_API_KEY" --webhook-url "${HRIS_PUBLIC_URL:-http://$bind}/webhooks/merge" &
  pids+=($!)
fi
echo "HRIS Connect: open http://${bind}/signin"
# Ends when either stops (the server on Ctrl-C or an error; the trap stops the other).
wait -n "${pids[@]}"
