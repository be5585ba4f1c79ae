#!/usr/bin/env bash
# remotes.sh — many remote repositories over loopback (issue "Many remote repositories"):
#   1. cold: `codefleet run --push` on N `file://` remotes with an empty clone cache: clone
#      all, run one literal replacement (`.unwrap()` → `.unwrap_x()`), push every run branch;
#   2. warm: the same run again (fetch instead of clone; pushes find the remotes up to date);
#   3. the peer: a plain `git clone` loop over the same URLs (sequential, and 4 at a time).
# Prints wall times and repositories per second.
#
#   usage: bench/remotes.sh CORPUS_ROOT   (CORPUS_ROOT/repos/<crate>/ are git repositories, as
#          ../shared/corpus/make-corpus.sh builds them; or CORPUS_ROOT is any directory of
#          crate sources such as ~/.cargo/registry/src/index.crates.io-*, which are turned into
#          one-commit repositories first)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
corpus=${1:?usage: bench/remotes.sh CORPUS_ROOT}
jobs=${CLONE_JOBS:-4}
bin=${CODEFLEET:-$root/target/release/codefleet}
[ -x "$bin" ] || (cd "$root" && cargo build --release --quiet)
export GIT_CONFIG_GLOBAL=/dev/null GIT_CONFIG_NOSYSTEM=1
export GIT_AUTHOR_NAME=bench GIT_AUTHOR_EMAIL=bench@example.invalid
export GIT_COMMITTER_NAME=bench GIT_COMMITTER_EMAIL=bench@example.invalid
export GIT_AUTHOR_DATE='2025-01-01T00:00:00Z' GIT_COMMITTER_DATE='2025-01-01T00:00:00Z'

work=${WORK:-$(mktemp -d)}
trap '[ -z "${KEEP:-}" ] && rm -rf "$work"' EXIT
mkdir -p "$work/srv"

# The "server": one bare repository per crate.
src=$corpus/repos
[ -d "$src" ] || src=$corpus
for d in "$src"/*/; do
  name=$(basename "$d")
  if [ -d "$d/.git" ]; then
    git clone -q --bare "$d" "$work/srv/$name.git"
  else
    tmp=$work/tmp-$name
    cp -r "$d" "$tmp"
    (cd "$tmp" && git init -q -b main && git add -A >/dev/null 2>&1 &&
      git commit -q --no-verify -m "corpus: $name")
    git clone -q --bare "$tmp" "$work/srv/$name.git"
    rm -rf "$tmp"
  fi
done
ls -d "$work"/srv/*.git | sed 's#^#file://#' > "$work/urls.txt"
n=$(wc -l < "$work/urls.txt")
cat > "$work/p.yml" <<YAML
version: 1
name: bench-remotes
repos:
  - list: urls.txt
tasks:
  - name: unwrap
    files: ["**/*.rs"]
    replace: { find: '.unwrap()', with: '.unwrap_x()' }
YAML

secs() { python3 -c 'import sys,time; print(f"{time.time():.3f}")'; }
measure() { # label command...
  local t0 t1; t0=$(secs); "${@:2}" > "$work/out.txt" 2>&1 || true; t1=$(secs)
  python3 -c "d=$t1-$t0; print(f'%-44s %7.2f s  %6.1f repos/s' % ('$1', d, $n/d))"
}

echo "$n repositories served from file:// on loopback; clone jobs $jobs; $(nproc) cores"
rm -rf "$work/cache"
measure "codefleet run --push (cold cache)" \
  "$bin" run "$work/p.yml" --push --clone-jobs "$jobs" --cache-dir "$work/cache" -q
grep -c '' "$work/out.txt" >/dev/null || true
pushed=$(for u in "$work"/srv/*.git; do git -C "$u" rev-parse -q --verify refs/heads/codefleet/bench-remotes >/dev/null && echo; done | wc -l)
echo "  run branches on the remotes: $pushed"
measure "codefleet run --push (warm cache)" \
  "$bin" run "$work/p.yml" --push --clone-jobs "$jobs" --cache-dir "$work/cache" -q
rm -rf "$work/clones" && mkdir "$work/clones"
measure "git clone loop (sequential)" \
  bash -c "cd '$work/clones' && while read -r u; do git clone -q --bare \"\$u\"; done < '$work/urls.txt'"
rm -rf "$work/clones" && mkdir "$work/clones"
measure "git clone, $jobs at a time (xargs -P$jobs)" \
  bash -c "cd '$work/clones' && xargs -P$jobs -n1 git clone -q --bare < '$work/urls.txt'"
