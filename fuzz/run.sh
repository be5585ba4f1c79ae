#!/usr/bin/env bash
# run.sh — runs every fuzz target for SECONDS each (default 600), JOBS at a time (default 1),
# from the committed seeds, and prints one line per target: executions, coverage, crashes.
#
#   usage: fuzz/run.sh [SECONDS] [TARGET…]       needs: cargo install cargo-fuzz; nightly
set -euo pipefail
cd "$(dirname "$0")"
secs=${1:-600}; shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(diff diff_fenced udiff whole patch pipeline replace)
cargo +nightly fuzz build -O "${targets[@]}" >/dev/null 2>&1 || cargo +nightly fuzz build -O
mkdir -p logs
for t in "${targets[@]}"; do
  mkdir -p "corpus/$t"
  # -rss_limit_mb keeps a runaway input from eating the machine; artifacts land in artifacts/$t.
  cargo +nightly fuzz run -O "$t" "corpus/$t" "seeds/$t" -- -max_total_time="$secs" \
    -rss_limit_mb=2048 -max_len=65536 -print_final_stats=1 > "logs/$t.log" 2>&1 || true
  execs=$(grep -m1 'stat::number_of_executed_units' "logs/$t.log" | awk '{print $2}')
  cov=$(grep -Eo 'cov: [0-9]+' "logs/$t.log" | tail -n1 | awk '{print $2}')
  crashes=$(ls "artifacts/$t" 2>/dev/null | wc -l)
  printf '%-12s %6ss %12s execs  cov %6s  crashes %s\n' "$t" "$secs" "${execs:-?}" "${cov:-?}" "$crashes"
done
