#!/usr/bin/env bash
# real-diffs.sh — apply the patch between two consecutive published versions of real packages
# (crates.io and PyPI source archives) with `codefleet apply --format udiff`, check that it
# reproduces the new version byte for byte, and compare with what `git apply` produces.
#
#   usage: bench/real-diffs.sh [CACHE_DIR]      (default: bench/cache, git-ignored)
#
# Archives are downloaded once into CACHE_DIR (crates.io through `cargo fetch` of a throwaway
# manifest; PyPI through `pip download --no-binary`). Pairs with binary changes are avoided:
# neither tool applies a binary hunk from a text diff.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
cache=${1:-$here/cache}
mkdir -p "$cache"
bin=${CODEFLEET:-$root/target/release/codefleet}
[ -x "$bin" ] || (cd "$root" && cargo build --release --quiet)

# name old new kind
pairs=(
  "regex 1.11.0 1.11.1 crate"
  "serde_json 1.0.132 1.0.133 crate"
  "clap_builder 4.5.20 4.5.21 crate"
  "requests 2.32.2 2.32.3 pypi"
  "django 5.1.3 5.1.4 pypi"
)

fetch_crate() { # name version -> unpacked dir
  local name=$1 ver=$2 dir="$cache/src/$1-$2"
  [ -d "$dir" ] && { echo "$dir"; return; }
  local home="$cache/cargo-home"
  mkdir -p "$cache/src" "$cache/m-$name-$ver/src"
  printf '[package]\nname="fetch-%s"\nversion="0.0.0"\nedition="2021"\n[dependencies]\n%s = "=%s"\n' \
    "${name//_/-}" "$name" "$ver" > "$cache/m-$name-$ver/Cargo.toml"
  : > "$cache/m-$name-$ver/src/lib.rs"
  CARGO_HOME="$home" cargo fetch --quiet --manifest-path "$cache/m-$name-$ver/Cargo.toml" >&2
  cp -r "$home"/registry/src/*/"$name-$ver" "$dir"
  echo "$dir"
}

fetch_pypi() { # name version -> unpacked dir
  local name=$1 ver=$2 dir="$cache/src/$1-$2"
  [ -d "$dir" ] && { echo "$dir"; return; }
  mkdir -p "$cache/dl" "$cache/src"
  python3 -m pip download -q --no-deps --no-binary :all: -d "$cache/dl" "$name==$ver" >&2
  local archive
  archive=$(ls "$cache"/dl/* | grep -i -- "$name-$ver\.tar\.gz$" | head -n1)
  mkdir -p "$dir"
  tar -C "$dir" --strip-components=1 -xzf "$archive"
  echo "$dir"
}

printf '%-14s %-20s %7s %7s  %-10s %-10s %s\n' package versions files hunks codefleet "git apply" "same as git apply"
status=0
for p in "${pairs[@]}"; do
  read -r name old new kind <<<"$p"
  if [ "$kind" = crate ]; then a=$(fetch_crate "$name" "$old"); b=$(fetch_crate "$name" "$new")
  else a=$(fetch_pypi "$name" "$old"); b=$(fetch_pypi "$name" "$new"); fi
  work=$(mktemp -d)
  cp -r "$a" "$work/old"; cp -r "$b" "$work/new"
  (cd "$work" && git diff --no-index --no-renames old new > patch.diff) || true
  # git diff --no-index writes a/old/... b/new/...; make the paths repo-relative.
  sed -i -E -e 's#^(--- a)/old/#\1/#' -e 's#^(\+\+\+ b)/new/#\1/#' -e 's#^diff --git a/(old|new)/(.*) b/(old|new)/(.*)$#diff --git a/\2 b/\4#' "$work/patch.diff"
  if grep -q '^GIT binary patch\|^Binary files' "$work/patch.diff"; then
    echo "note: $name has binary changes; they are not part of the comparison" >&2
  fi
  files=$(grep -c '^diff --git' "$work/patch.diff" || true)
  hunks=$(grep -c '^@@' "$work/patch.diff" || true)
  cp -r "$work/old" "$work/cf"; cp -r "$work/old" "$work/ga"
  if (cd "$work/cf" && "$bin" apply --format udiff ../patch.diff >/dev/null 2>"$work/cf.err"); then cf=ok; else cf="FAIL($?)"; status=1; fi
  if (cd "$work/ga" && git apply --whitespace=nowarn ../patch.diff 2>"$work/ga.err"); then ga=ok; else ga="FAIL"; fi
  if diff -r -q "$work/cf" "$work/new" >"$work/cf-vs-new.txt" 2>&1; then cfnew=yes; else cfnew=no; [ "$cf" = ok ] && cf="DIFFERS"; status=1; fi
  if diff -r -q "$work/cf" "$work/ga" >/dev/null 2>&1; then same=yes; else same=no; fi
  printf '%-14s %-20s %7s %7s  %-10s %-10s %s\n' "$name" "$old→$new" "$files" "$hunks" "$cf" "$ga" "$same"
  [ "$cfnew" = yes ] || { echo "  codefleet result differs from $name $new:" >&2; head -5 "$work/cf-vs-new.txt" >&2; head -5 "$work/cf.err" >&2; }
  rm -rf "$work"
done
exit $status
