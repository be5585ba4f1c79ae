#!/usr/bin/env bash
# campaign-status.sh — `codefleet status` over 500 repositories' pull requests (300 open, 100
# merged, 100 without one) against the in-process fake GitHub answering every call after
# 50 ms: wall time against the ideal (API calls ÷ concurrency) × 50 ms (goal: within 1.5×),
# and the calls made against the README's formula R + 5·O (tests/it/campaign.rs,
# status_benchmark, release build).
#
#   usage: bench/campaign-status.sh [JOBS...]      (default: 8 32)
#   env:   STATUS_BENCH_REPOS (500), STATUS_BENCH_DELAY_MS (50)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
levels=("$@")
[ ${#levels[@]} -gt 0 ] || levels=(8 32)
for n in "${levels[@]}"; do
  STATUS_BENCH_JOBS=$n cargo test --release --quiet --test it -- \
    --ignored --exact campaign::status_benchmark --nocapture 2>&1 | grep -E '^(repos|[0-9]+ repos)'
done
