#!/usr/bin/env bash
# runs-kernel.sh — `codefleet run` on the Linux kernel corpus, side by side with the peers, in
# one hyperfine run per scenario (issue "Runs", benchmarks 1 and 2):
#   1. a literal replacement touching ~4,000 files (`printk(` → `pr_printk(`), the full run
#      including the branch commit, against `fastmod --accept-all` alone (writes files, commits
#      nothing) and against `fastmod … && git commit -am …` (what users do today); peak RSS too;
#   2. a replacement that matches almost nothing, against `rg -l` of the same pattern.
#
#   usage: bench/runs-kernel.sh CORPUS_ROOT      (built by ../shared/corpus/make-corpus.sh;
#          needs CORPUS_ROOT/linux and fastmod + rg on PATH or in CORPUS_ROOT/cargo-bin/bin)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
corpus=${1:?usage: bench/runs-kernel.sh CORPUS_ROOT}
linux=$corpus/linux
export PATH="$corpus/cargo-bin/bin:$PATH"
for tool in fastmod rg hyperfine git; do
  command -v "$tool" >/dev/null || { echo "$tool is needed" >&2; exit 2; }
done
bin=${CODEFLEET:-$root/target/release/codefleet}
(cd "$root" && cargo build --release --quiet)
export GIT_AUTHOR_NAME=bench GIT_AUTHOR_EMAIL=bench@example.invalid
export GIT_COMMITTER_NAME=bench GIT_COMMITTER_EMAIL=bench@example.invalid

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
pipeline() { # name find with
  cat > "$work/$1.yml" <<YAML
version: 1
name: $1
tasks:
  - name: replace
    replace: { find: '$2', with: '$3' }
YAML
}
pipeline bench-printk 'printk(' 'pr_printk('
pipeline bench-nothing 'codefleet_matches_nothing(' 'x('

# Every run starts from the same state: the tree at tag `base`, no run branch, no journal, and
# none of the objects an earlier run wrote (else every tool after the first finds its blobs
# already stored and skips compressing and writing them): the base is packed once, and the
# reset drops what is not reachable from it, loose or in another pack.
git -C "$linux" repack -adq
base_pack=$(ls "$linux"/.git/objects/pack/pack-*.pack)
reset="git -C $linux reset -q --hard base && git -C $linux clean -fdq && \
  (git -C $linux branch -D -q codefleet/bench-printk codefleet/bench-nothing 2>/dev/null || true) && \
  rm -rf $linux/.git/codefleet && git -C $linux reflog expire --expire=now --all && \
  git -C $linux prune --expire=now && \
  for f in $linux/.git/objects/pack/pack-*; do case \$f in ${base_pack%.pack}.*) ;; *) rm -f \$f;; esac; done"
eval "$reset"
files=$(cd "$linux" && git ls-files | wc -l)
changed=$(cd "$linux" && rg -l -F 'printk(' | wc -l)
echo "kernel: $files files; 'printk(' in $changed files; $(nproc) cores"

hyperfine --warmup 1 --runs "${RUNS:-5}" --prepare "$reset" --export-markdown "$work/1.md" \
  -n 'codefleet run (with commit)' "$bin run -q $work/bench-printk.yml --repo $linux" \
  -n 'fastmod alone' "cd $linux && fastmod --accept-all -F 'printk(' 'pr_printk(' >/dev/null" \
  -n 'fastmod + git commit -am' "cd $linux && fastmod --accept-all -F 'printk(' 'pr_printk(' >/dev/null && git commit -qam bench"
eval "$reset"
/usr/bin/time -f '%M' -o "$work/rss" "$bin" run -q "$work/bench-printk.yml" --repo "$linux" || true
commit_files=$(git -C "$linux" diff --name-only base codefleet/bench-printk | wc -l)
echo "codefleet peak RSS: $(( $(cat "$work/rss") / 1024 )) MiB; files in the commit: $commit_files"
eval "$reset"

hyperfine --warmup 1 --runs "${RUNS:-5}" --prepare "$reset" --export-markdown "$work/2.md" \
  -n 'codefleet run (matches nothing)' "$bin run -q $work/bench-nothing.yml --repo $linux" \
  -n 'rg -l' "cd $linux && rg -l -F 'codefleet_matches_nothing(' || true"
eval "$reset"
cat "$work/1.md" "$work/2.md"
