#!/usr/bin/env bash
# install.sh — the venv the differential test against aider runs in: aider-chat 0.86.2 from
# PyPI without its dependencies (litellm, tree-sitter, … are never imported: harness.py stubs
# them), plus the four small pure-Python modules its coder files import, at aider's pins.
#
#   usage: fuzz/aider-diff/install.sh [VENV]     (default: target/aider-venv)
#
# Idempotent and quick: an existing venv that already imports aider 0.86.2 is left alone. The
# sdist (which ships aider's tests) is downloaded once next to the venv, for inputs.py.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
venv=${1:-$root/target/aider-venv}
if [ -x "$venv/bin/python" ] && [ -d "$venv/aider-sdist/tests" ] &&
  "$venv/bin/python" -c "import importlib.metadata as m; assert m.version('aider-chat') == '0.86.2'; import diff_match_patch, tqdm, oslex, packaging" 2>/dev/null; then
  exit 0
fi
python3 -m venv "$venv"
pip=("$venv/bin/pip" install -q --disable-pip-version-check)
"${pip[@]}" --no-deps aider-chat==0.86.2
"${pip[@]}" --no-deps diff-match-patch==20241021 tqdm==4.67.3 oslex==0.1.3 mslex==1.3.0 packaging==26.0
# aider's own test inputs (tests/basic/test_*.py, tests/fixtures) ship only in the sdist.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$venv/bin/pip" download -q --disable-pip-version-check --no-deps --no-binary :all: -d "$tmp" aider-chat==0.86.2
rm -rf "$venv/aider-sdist"
mkdir -p "$venv/aider-sdist"
tar -C "$venv/aider-sdist" --strip-components=1 -xzf "$tmp"/aider_chat-0.86.2.tar.gz
