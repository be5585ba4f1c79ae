#!/usr/bin/env bash
# small-repos.sh — many small repositories (issue "Performance", the fleet goal): N generated
# repositories of a few files each, a literal replacement with a commit in every one, side by
# side in one hyperfine run with what users do today: fastmod over all of them, then a
# `git commit -am` loop. Then the same for 10·N repositories, to show the time per repository
# stays flat; peak RSS and the most file descriptors codefleet held open, sampled from /proc.
#
#   usage: bench/small-repos.sh [N]        (default N=1000; needs fastmod and hyperfine;
#          FASTMOD_DIR adds a directory to PATH; RUNS=k hyperfine runs, default 5;
#          SCALE=m the second size is m·N, default 10, 0 skips it)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
n=${1:-1000}
scale=${SCALE:-10}
[ -n "${FASTMOD_DIR:-}" ] && export PATH="$FASTMOD_DIR:$PATH"
for tool in fastmod hyperfine git; do
  command -v "$tool" >/dev/null || { echo "$tool is needed" >&2; exit 2; }
done
bin=${CODEFLEET:-$root/target/release/codefleet}
[ -x "$bin" ] || (cd "$root" && cargo build --release --quiet)
export GIT_CONFIG_GLOBAL=/dev/null GIT_CONFIG_NOSYSTEM=1
export GIT_AUTHOR_NAME=bench GIT_AUTHOR_EMAIL=bench@example.invalid
export GIT_COMMITTER_NAME=bench GIT_COMMITTER_EMAIL=bench@example.invalid
export GIT_AUTHOR_DATE='2025-01-01T00:00:00Z' GIT_COMMITTER_DATE='2025-01-01T00:00:00Z'
work=${WORK:-$(mktemp -d)}
trap '[ -z "${KEEP:-}" ] && rm -rf "$work"' EXIT

# One template repository (a small crate: five files, `old_name` in three), copied N times.
make_fleet() { # dir count
  local dir=$1 count=$2 t=$work/template
  if [ ! -d "$t" ]; then
    mkdir -p "$t/src"
    printf '[package]\nname = "x"\nversion = "0.1.0"\n' > "$t/Cargo.toml"
    printf '# x\n\nCall `old_name()`.\n' > "$t/README.md"
    printf 'pub fn old_name() -> u32 { 1 }\n' > "$t/src/lib.rs"
    printf 'fn main() { println!("{}", x::old_name()); }\n' > "$t/src/main.rs"
    printf 'target/\n' > "$t/.gitignore"
    (cd "$t" && git init -q -b main && git add -A && git commit -q -m init && git tag base)
  fi
  rm -rf "$dir" && mkdir -p "$dir"
  for i in $(seq -w 1 "$count"); do cp -r "$t" "$dir/r$i"; done
}
reset_fleet() { # dir: every repository back at `base`, no run branch, no codefleet state
  echo "for d in $1/*/; do git -C \$d reset -q --hard base; git -C \$d branch -D -q codefleet/bench-small 2>/dev/null; rm -rf \$d.git/codefleet; done; true"
}
pipeline() { # dir
  printf 'version: 1\nname: bench-small\nrepos:\n  - path: %s/*\ntasks:\n  - name: rename\n    replace: { find: old_name, with: new_name }\n' "$1" > "$work/p-$(basename "$1").yml"
}
peak() { # command...: runs it, prints "peak RSS MiB, most open fds"
  "$@" >/dev/null 2>&1 & local pid=$! fds=0 c
  while kill -0 "$pid" 2>/dev/null; do
    c=$(ls "/proc/$pid/fd" 2>/dev/null | wc -l); [ "$c" -gt "$fds" ] && fds=$c
    sleep 0.01
  done
  wait "$pid" || true
  echo "most open file descriptors: $fds"
}

for count in "$n" $([ "$scale" != 0 ] && echo $((n * scale))); do
  dir=$work/fleet-$count
  make_fleet "$dir" "$count"
  pipeline "$dir"
  reset=$(reset_fleet "$dir")
  echo "== $count repositories of 5 files; $(nproc) cores"
  hyperfine --warmup 1 --runs "${RUNS:-5}" --prepare "$reset" --export-markdown "$work/$count.md" \
    -n "codefleet run ($count repositories, a commit in each)" "$bin run -q $work/p-fleet-$count.yml" \
    -n "fastmod + git commit -am loop" \
    "fastmod --accept-all -F old_name new_name $dir >/dev/null && for d in $dir/*/; do git -C \$d commit -qam bench; done"
  eval "$reset"
  /usr/bin/time -f "codefleet peak RSS: %M KB, %e s wall, %U s user, %S s system" "$bin" run -q "$work/p-fleet-$count.yml"
  branches=$(for d in "$dir"/*/; do git -C "$d" rev-parse -q --verify codefleet/bench-small >/dev/null && echo; done | wc -l)
  echo "run branches made: $branches of $count"
  eval "$reset"
  peak "$bin" run -q "$work/p-fleet-$count.yml"
  eval "$reset"
  cat "$work/$count.md"
done
