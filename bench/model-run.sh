#!/usr/bin/env bash
# model-run.sh — a whole `codefleet run` of a per-file prompt task over 200 files, against a
# local scripted model server answering each request after 200 ms with an edit that applies:
# wall time against the ideal ceil(200 / concurrency) × 200 ms, and the overhead per request
# (tests/it/model_tasks.rs, run_benchmark, release build). The transport alone is
# bench/llm-overhead.sh.
#
#   usage: bench/model-run.sh [CONCURRENCY...]      (default: 1 8 32)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
levels=("$@")
[ ${#levels[@]} -gt 0 ] || levels=(1 8 32)
for n in "${levels[@]}"; do
  RUN_BENCH_CONCURRENCY=$n cargo test --release --quiet --test it -- \
    --ignored --exact model_tasks::run_benchmark --nocapture 2>&1 | grep '^concurrency'
done
