#!/usr/bin/env bash
# compare-builds.sh — two builds of codefleet side by side, in one hyperfine run per scenario,
# to show that a change costs no speed: the kernel literal replacement with its commit, the
# kernel scan that matches nothing, and a literal replacement with a commit in each of the
# ~800 crate repositories; peak RSS of the kernel run for each.
#
#   usage: bench/compare-builds.sh OLD_BINARY NEW_BINARY CORPUS_ROOT
#          (CORPUS_ROOT from ../shared/corpus/make-corpus.sh: linux/ and repos/<crate>/;
#           RUNS=N sets hyperfine's runs, default 5)
#   e.g.:  git worktree add /tmp/old 76490c3 && (cd /tmp/old && cargo build --release)
#          bench/compare-builds.sh /tmp/old/target/release/codefleet target/release/codefleet /tmp/perf
set -euo pipefail
old=${1:?usage: bench/compare-builds.sh OLD_BINARY NEW_BINARY CORPUS_ROOT}
new=${2:?usage: bench/compare-builds.sh OLD_BINARY NEW_BINARY CORPUS_ROOT}
corpus=${3:?usage: bench/compare-builds.sh OLD_BINARY NEW_BINARY CORPUS_ROOT}
linux=$corpus/linux
command -v hyperfine >/dev/null || { echo "hyperfine is needed" >&2; exit 2; }
export GIT_AUTHOR_NAME=bench GIT_AUTHOR_EMAIL=bench@example.invalid
export GIT_COMMITTER_NAME=bench GIT_COMMITTER_EMAIL=bench@example.invalid

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
pipeline() { # name find with [repos glob]
  {
    echo "version: 1"
    echo "name: $1"
    [ -n "${4:-}" ] && printf 'repos:\n  - path: %s\n' "$4"
    echo "tasks:"
    echo "  - name: replace"
    echo "    replace: { find: '$2', with: '$3' }"
  } > "$work/$1.yml"
}
pipeline bench-printk 'printk(' 'pr_printk('
pipeline bench-nothing 'codefleet_matches_nothing(' 'x('
pipeline bench-unwrap '.unwrap()' '.unwrap_x()' "$corpus/repos/*"

# Each run starts without the objects an earlier run wrote (see bench/runs-kernel.sh): the
# base packed once, then what is unreachable from it removed, loose or packed.
git -C "$linux" repack -adq
base_pack=$(ls "$linux"/.git/objects/pack/pack-*.pack)
reset="git -C $linux reset -q --hard base && \
  (git -C $linux branch -D -q codefleet/bench-printk codefleet/bench-nothing 2>/dev/null || true) && \
  rm -rf $linux/.git/codefleet && git -C $linux reflog expire --expire=now --all && \
  git -C $linux prune --expire=now && \
  for f in $linux/.git/objects/pack/pack-*; do case \$f in ${base_pack%.pack}.*) ;; *) rm -f \$f;; esac; done"
reset_repos="for d in $corpus/repos/*/; do git -C \$d branch -D -q codefleet/bench-unwrap 2>/dev/null || true; \
  rm -rf \$d.git/codefleet; git -C \$d prune --expire=now; done; true"
runs=${RUNS:-5}
eval "$reset"
hyperfine --warmup 1 --runs "$runs" --prepare "$reset" --export-markdown "$work/1.md" \
  -n 'old: kernel replace + commit' "$old run -q $work/bench-printk.yml --repo $linux" \
  -n 'new: kernel replace + commit' "$new run -q $work/bench-printk.yml --repo $linux"
hyperfine --warmup 1 --runs "$runs" --prepare "$reset" --export-markdown "$work/2.md" \
  -n 'old: kernel, matches nothing' "$old run -q $work/bench-nothing.yml --repo $linux" \
  -n 'new: kernel, matches nothing' "$new run -q $work/bench-nothing.yml --repo $linux"
hyperfine --warmup 1 --runs "$runs" --prepare "$reset_repos" --export-markdown "$work/3.md" \
  -n 'old: 800 repositories' "$old run -q $work/bench-unwrap.yml" \
  -n 'new: 800 repositories' "$new run -q $work/bench-unwrap.yml"
eval "$reset_repos"
for b in old new; do
  bin=$old; [ $b = new ] && bin=$new
  eval "$reset"
  /usr/bin/time -f '%M' -o "$work/rss" "$bin" run -q "$work/bench-printk.yml" --repo "$linux" >/dev/null || true
  echo "$b: kernel run peak RSS $(( $(cat "$work/rss") / 1024 )) MiB"
done
eval "$reset"
cat "$work/1.md" "$work/2.md" "$work/3.md"
