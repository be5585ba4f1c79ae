#!/usr/bin/env bash
# make-seeds.sh — builds the fuzz seeds under fuzz/seeds/<target>/ from the behaviour fixtures
# (tests/fixtures/coders/<format>/<case>/: the first file of before/, a 0xFF byte, the reply)
# and the pipelines (pipelines/, tests/fixtures/invalid/). Seeds are small and committed.
set -euo pipefail
cd "$(dirname "$0")"
fx=../tests/fixtures/coders
declare -A target=([diff]=diff [diff-fenced]=diff_fenced [udiff]=udiff [whole]=whole [patch]=patch)
for fmt in "${!target[@]}"; do
  out=seeds/${target[$fmt]}
  rm -rf "$out"; mkdir -p "$out"
  for case in "$fx/$fmt"/*/; do
    reply=$(ls "$case" | grep -E '^reply' | head -n1 || true)
    [ -n "$reply" ] || continue
    first=$(find "$case/before" -type f 2>/dev/null | sort | head -n1 || true)
    name=$(basename "$case")
    {
      [ "$fmt" = udiff ] && printf '\001'      # udiff's first byte: odd = patch file
      [ -n "$first" ] && cat "$first"
      printf '\377'
      cat "$case/$reply"
    } > "$out/$name"
  done
done
rm -rf seeds/pipeline; mkdir -p seeds/pipeline
cp ../pipelines/*.yml ../tests/fixtures/invalid/*.yml seeds/pipeline/
rm -rf seeds/replace; mkdir -p seeds/replace
printf '\001\\blog::(info|warn)!\377tracing::$1!\377fn f() { log::info!("x"); log::warn!("y"); }\n' > seeds/replace/regex
printf '\000printk(\377pr_printk(\377printk("a");\nprintk("b");\n' > seeds/replace/literal
printf '\007(?P<v>[0-9]+)\377${v}0\377a1 b22 c333\n' > seeds/replace/named
for d in seeds/*/; do echo "$(ls "$d" | wc -l) seeds in $d"; done
