#!/usr/bin/env bash
# aider-diff.sh — the full differential run against aider 0.86.2 (fuzz/aider-diff/): thousands
# of seeded replies generated from real source files, aider's own test inputs and the real
# replies of aider's chat history, each applied by aider's coder code and by `codefleet apply`.
# Prints, per format, the share of cases each tool brings to the intended result and the
# disagreements by class, then the disagreements per perturbation; the disagreeing cases are
# written to target/aider-diff/disagreements.md for reading.
#
#   usage: bench/aider-diff.sh [CASES_PER_FORMAT] [SEED]     (defaults: 1000, 1)
#
# CODEFLEET=path overrides the binary (default: target/release/codefleet, built if missing).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
count=${1:-1000}
seed=${2:-1}
venv=${AIDER_VENV:-$root/target/aider-venv}
out=${OUT:-$root/target/aider-diff}
"$root/fuzz/aider-diff/install.sh" "$venv"
bin=${CODEFLEET:-$root/target/release/codefleet}
[ -x "$bin" ] || (cd "$root" && cargo build --release --quiet)
mkdir -p "$out"
py=$venv/bin/python
h=$root/fuzz/aider-diff
"$py" "$h/gen.py" --venv "$venv" --seed "$seed" --count "$count" >"$out/cases.jsonl"
"$py" "$h/inputs.py" --venv "$venv" >>"$out/cases.jsonl"
echo "$(wc -l <"$out/cases.jsonl") cases (seed $seed); codefleet: $bin" >&2
"$py" "$h/harness.py" "$out/cases.jsonl" --codefleet "$bin" --breakdown \
  --results "$out/results.jsonl" --disagreements "$out/disagreements.md"
echo "disagreeing cases: $out/disagreements.md" >&2
