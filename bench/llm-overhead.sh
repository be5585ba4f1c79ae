#!/usr/bin/env bash
# llm-overhead.sh — what the model transport adds on top of the model's own latency: 200
# streamed requests to a local scripted server answering each after 200 ms, at several
# concurrencies, then the same 200 from the response cache (tests/it/llm.rs, overhead_benchmark).
#
#   usage: bench/llm-overhead.sh [CONCURRENCY...]      (default: 1 8 32 64)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
levels=("$@")
[ ${#levels[@]} -gt 0 ] || levels=(1 8 32 64)
for n in "${levels[@]}"; do
  LLM_BENCH_CONCURRENCY=$n cargo test --release --quiet --test it -- \
    --ignored --exact llm::overhead_benchmark --nocapture 2>&1 | grep '^concurrency'
done
