#!/usr/bin/env bash
# apply-large-patch.sh — one large real patch (Django 5.0.14 → 5.1.4 source archives from PyPI:
# thousands of hunks over hundreds of files), applied side by side by `codefleet apply`,
# `git apply` and GNU `patch`, timed with hyperfine on the same input; the tree is reset before
# every run and synced to disk. Prints the table and the ratio codefleet / git apply.
#
#   usage: bench/apply-large-patch.sh [CACHE_DIR]     (default: bench/cache, git-ignored)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
cache=${1:-$here/cache}
old=${OLD:-5.0.14}
new=${NEW:-5.1.4}
bin=${CODEFLEET:-$root/target/release/codefleet}
(cd "$root" && cargo build --release --quiet)
command -v hyperfine >/dev/null || { echo "hyperfine is needed: apt-get install hyperfine" >&2; exit 2; }

mkdir -p "$cache/dl" "$cache/src"
for v in "$old" "$new"; do
  if [ ! -d "$cache/src/django-$v" ]; then
    python3 -m pip download -q --no-deps --no-binary :all: -d "$cache/dl" "django==$v"
    mkdir -p "$cache/src/django-$v"
    tar -C "$cache/src/django-$v" --strip-components=1 -xzf "$cache"/dl/[Dd]jango-"$v".tar.gz
  fi
done

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp -r "$cache/src/django-$old" "$work/old"
cp -r "$cache/src/django-$new" "$work/new"
# Text-only patch: binary files (images, .mo catalogues) are left out for all three tools.
(cd "$work" && git diff --no-index --no-renames old new > full.diff) || true
python3 - "$work/full.diff" "$work/patch.diff" <<'PY'
import sys, re
src, dst = sys.argv[1], sys.argv[2]
data = open(src, encoding="utf-8", errors="surrogateescape").read()
chunks = re.split(r'(?m)^(?=diff --git )', data)
keep = [c for c in chunks if c and 'Binary files' not in c and 'GIT binary patch' not in c]
out = ''.join(keep)
out = re.sub(r'(?m)^--- a/old/', '--- a/', out)
out = re.sub(r'(?m)^\+\+\+ b/new/', '+++ b/', out)
out = re.sub(r'(?m)^diff --git a/(?:old|new)/(\S+) b/(?:old|new)/', r'diff --git a/\1 b/', out)
open(dst, "w", encoding="utf-8", errors="surrogateescape").write(out)
PY
files=$(grep -c '^diff --git' "$work/patch.diff")
hunks=$(grep -c '^@@' "$work/patch.diff")
echo "patch: django $old → $new, $files files, $hunks hunks, $(wc -c < "$work/patch.diff") bytes"

# `sync`: the copy's dirty pages are written back before the timed command, not during it.
reset="rm -rf $work/t && cp -r $work/old $work/t && sync"
hyperfine --warmup 2 --runs ${RUNS:-30} --export-markdown "$work/table.md" \
  --prepare "$reset" \
  -n codefleet "cd $work/t && $bin apply --format udiff ../patch.diff >/dev/null" \
  -n 'git apply' "cd $work/t && git apply --whitespace=nowarn ../patch.diff" \
  -n 'GNU patch' "cd $work/t && patch -s -p1 < ../patch.diff >/dev/null"
cat "$work/table.md"
# The three results must agree before the times mean anything.
for tool in codefleet git patch; do
  eval "$reset"
  case $tool in
    codefleet) (cd "$work/t" && "$bin" apply --format udiff ../patch.diff >/dev/null) ;;
    git) (cd "$work/t" && git apply --whitespace=nowarn ../patch.diff) ;;
    patch) (cd "$work/t" && patch -s -p1 < ../patch.diff >/dev/null) ;;
  esac
  rm -rf "$work/r-$tool"; mv "$work/t" "$work/r-$tool"
done
diff -r -q "$work/r-codefleet" "$work/r-git" && echo "codefleet result == git apply result"
diff -r -q "$work/r-git" "$work/r-patch" && echo "git apply result == GNU patch result"
