#!/usr/bin/env bash
# remote-fleet.sh — a remote fleet over a real network path (issue "Performance"): N bare
# repositories (the make-corpus crates) served by `git http-backend` behind a server that
# answers every HTTP request 20 ms late (bench/git-http-delay.py; both on 127.0.0.1). A cold
# `codefleet run --push` (empty clone cache, default clone concurrency) against a sequential
# `git clone --depth 1` loop of the same URLs.
#
#   usage: bench/remote-fleet.sh CORPUS_ROOT [N]   (N default 200; DELAY_MS default 20)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
corpus=${1:?usage: bench/remote-fleet.sh CORPUS_ROOT [N]}
n=${2:-200}
delay=${DELAY_MS:-20}
bin=${CODEFLEET:-$root/target/release/codefleet}
[ -x "$bin" ] || (cd "$root" && cargo build --release --quiet)
export GIT_CONFIG_GLOBAL=/dev/null GIT_CONFIG_NOSYSTEM=1
export GIT_AUTHOR_NAME=bench GIT_AUTHOR_EMAIL=bench@example.invalid
export GIT_COMMITTER_NAME=bench GIT_COMMITTER_EMAIL=bench@example.invalid
work=${WORK:-$(mktemp -d)}
port=${PORT:-18080}
trap 'kill $server 2>/dev/null; [ -z "${KEEP:-}" ] && rm -rf "$work"' EXIT
mkdir -p "$work/srv"
for d in $(ls -d "$corpus"/repos/*/ | head -n "$n"); do
  git clone -q --bare "$d" "$work/srv/$(basename "$d").git"
done
python3 "$root/bench/git-http-delay.py" "$work/srv" "$port" "$delay" & server=$!
until curl -s -o /dev/null "http://127.0.0.1:$port/"; do sleep 0.1; done
ls "$work/srv" | sed "s#^#http://127.0.0.1:$port/#" > "$work/urls.txt"
printf 'version: 1\nname: bench-fleet\nrepos:\n  - list: urls.txt\ntasks:\n  - name: unwrap\n    files: ["**/*.rs"]\n    replace: { find: ".unwrap()", with: ".unwrap_x()" }\n' > "$work/p.yml"
secs() { date +%s.%N; }
t0=$(secs)
"$bin" run -q "$work/p.yml" --push --cache-dir "$work/cache" || true
t1=$(secs)
pushed=$(for r in "$work"/srv/*.git; do git -C "$r" rev-parse -q --verify refs/heads/codefleet/bench-fleet >/dev/null && echo; done | wc -l)
t2=$(secs)
while read -r url; do git clone -q --depth 1 "$url" "$work/clones/$(basename "$url")"; done < "$work/urls.txt"
t3=$(secs)
python3 - "$t0" "$t1" "$t2" "$t3" "$n" "$pushed" "$delay" <<'PY'
import sys
t0, t1, t2, t3 = map(float, sys.argv[1:5]); n, pushed, delay = sys.argv[5:8]
cf, loop = t1 - t0, t3 - t2
print(f"{n} repositories over http, {delay} ms per request")
print(f"codefleet run --push, cold cache: {cf:.2f} s ({pushed} branches pushed)")
print(f"git clone --depth 1 loop:        {loop:.2f} s")
print(f"speed-up: {loop / cf:.2f}x")
PY
