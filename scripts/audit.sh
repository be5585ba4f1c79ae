#!/bin/sh
# Checks the dependencies in Cargo.lock against the RustSec advisory database with
# `cargo audit`. The database is a git repository on GitHub: where GitHub cannot be reached
# (an offline or registry-only build machine) this says so and exits 0 without a verdict;
# `--strict` makes that an error (for CI, where the network is there).
set -eu
cd "$(dirname "$0")/.."
strict=0
[ "${1:-}" = "--strict" ] && strict=1

if ! command -v cargo-audit >/dev/null 2>&1; then
    echo "audit.sh: cargo-audit is not installed; install it with: cargo install cargo-audit --locked" >&2
    exit $((strict * 2))
fi
if ! git ls-remote https://github.com/rustsec/advisory-db HEAD >/dev/null 2>&1; then
    echo "audit.sh: the advisory database (github.com/rustsec/advisory-db) cannot be reached; no audit done" >&2
    exit $((strict * 2))
fi
exec cargo audit --deny warnings
