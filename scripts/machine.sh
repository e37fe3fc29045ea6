# Sourced by the benchmark scripts: `machine` prints the table of the machine a measurement ran on.
machine() {
  local commit dirty=""
  commit=$(git rev-parse --short HEAD)
  git diff --quiet HEAD -- . ':!bench/' 2>/dev/null || dirty=" (with uncommitted changes)"
  echo "## Machine"
  echo
  echo "| what | value |"
  echo "|---|---|"
  echo "| date | $(date -u '+%Y-%m-%d %H:%M UTC') |"
  echo "| git commit | $commit$dirty |"
  echo "| cpu | $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs) |"
  echo "| cores | $(nproc) |"
  echo "| memory | $(awk '/MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo) |"
  echo "| os | $(. /etc/os-release && echo "$PRETTY_NAME"), Linux $(uname -r) |"
  echo "| chromium | $(/usr/bin/chromium --version 2>/dev/null | head -1) |"
  echo "| rustc | $(rustc --version) |"
  echo "| load average at start (1 / 5 / 15 min) | $(cut -d' ' -f1-3 /proc/loadavg) |"
  echo
}
