#!/usr/bin/env bash
# Installs codefleet for the GitHub Action (action.yml): the release binary for this runner's OS
# and architecture, checked against its published SHA-256 and kept in the runner's tool cache;
# or, with `version: source` or when no binary exists for this runner or version, built with
# `cargo install --locked --path` from the action's own checkout.
#
# Inputs (environment, as action.yml sets them):
#   INPUT_VERSION        a release (`0.2.0`, `v0.2.0`), `latest`, `source`, or empty: the
#                        action's own ref when it is a version tag, else `source`
#   INPUT_TOKEN          sent to the GitHub API to resolve `latest` (optional)
#   ACTION_PATH          the action's checkout (github.action_path)
#   ACTION_REPOSITORY    owner/name the releases belong to (github.action_repository)
#   ACTION_REF           the ref the action was used at (github.action_ref)
#   RUNNER_OS, RUNNER_ARCH, RUNNER_TOOL_CACHE, RUNNER_TEMP, GITHUB_OUTPUT, GITHUB_PATH
#   CODEFLEET_RELEASES_URL  where release assets live (default:
#                        $GITHUB_SERVER_URL/$ACTION_REPOSITORY/releases/download); tests point
#                        it at a local server
#   GITHUB_API_URL       the API `latest` is resolved against
#
# Outputs: version, target, path (the directory put on PATH), source (true when built).
# Release assets, as .github/workflows/release.yml names them:
#   codefleet-<version>-<target>.tar.gz (.zip on Windows) and the same name + .sha256
set -euo pipefail

fail() {
  echo "::error title=codefleet install::$*"
  exit 1
}

# The Rust target of the release binary for RUNNER_OS/RUNNER_ARCH; empty when none is built.
target_for() {
  case "$1/$2" in
    Linux/X64) echo x86_64-unknown-linux-gnu ;;
    Linux/ARM64) echo aarch64-unknown-linux-gnu ;;
    macOS/ARM64) echo aarch64-apple-darwin ;;
    Windows/X64) echo x86_64-pc-windows-msvc ;;
    *) echo "" ;;
  esac
}

sha256_of() {
  if command -v sha256sum >/dev/null 2>&1; then
    sha256sum "$1" | cut -d' ' -f1
  else
    shasum -a 256 "$1" | cut -d' ' -f1
  fi
}

# Fetches URL into FILE; returns 1 when the server says it does not exist (or is unreachable).
fetch() {
  local url=$1 file=$2
  shift 2
  curl --fail --silent --show-error --location --retry 3 --retry-delay 1 \
    --connect-timeout 15 "$@" --output "$file" "$url" 2>"$file.err"
}

output() {
  echo "$1=$2" >>"$GITHUB_OUTPUT"
}

: "${RUNNER_OS:?RUNNER_OS is not set: this runs inside GitHub Actions or its test}"
: "${RUNNER_ARCH:?RUNNER_ARCH is not set}"
: "${RUNNER_TEMP:?RUNNER_TEMP is not set}"
: "${GITHUB_OUTPUT:?GITHUB_OUTPUT is not set}"
: "${GITHUB_PATH:?GITHUB_PATH is not set}"
action_path=${ACTION_PATH:?ACTION_PATH is not set}
tool_cache=${RUNNER_TOOL_CACHE:-$RUNNER_TEMP/tool-cache}
exe=codefleet
[ "$RUNNER_OS" = Windows ] && exe=codefleet.exe

version=${INPUT_VERSION:-}
version=${version#v}
if [ -z "$version" ]; then
  # Pinned as `uses: owner/codefleet@v1.2.3`: that release. A branch or a SHA: build it.
  ref=${ACTION_REF:-}
  if [[ "$ref" =~ ^v[0-9]+\.[0-9]+\.[0-9]+([-+].*)?$ ]]; then
    version=${ref#v}
  else
    version=source
  fi
fi

target=$(target_for "$RUNNER_OS" "$RUNNER_ARCH")
repo=${ACTION_REPOSITORY:-}

if [ "$version" = latest ]; then
  [ -n "$repo" ] || fail "version: latest needs the action's repository (github.action_repository)"
  api=${GITHUB_API_URL:-https://api.github.com}
  auth=()
  [ -n "${INPUT_TOKEN:-}" ] && auth=(--header "Authorization: Bearer $INPUT_TOKEN")
  json=$RUNNER_TEMP/codefleet-latest.json
  # ${a[@]+...}: an empty array under `set -u` is an error in the bash 3.2 of macOS.
  if fetch "$api/repos/$repo/releases/latest" "$json" ${auth[@]+"${auth[@]}"}; then
    tag=$(tr -d '\n' <"$json" | sed -n 's/.*"tag_name"[[:space:]]*:[[:space:]]*"\([^"]*\)".*/\1/p')
    [ -n "$tag" ] || fail "no tag_name in $api/repos/$repo/releases/latest"
    version=${tag#v}
  else
    echo "::warning title=codefleet install::no release found for $repo ($(cat "$json.err")); building from source"
    version=source
  fi
fi

if [ "$version" != source ] && [ -z "$target" ]; then
  echo "::notice title=codefleet install::no release binary for $RUNNER_OS $RUNNER_ARCH; building from source"
  version=source
fi

if [ "$version" != source ]; then
  dir=$tool_cache/codefleet/$version/$target
  if [ -x "$dir/bin/$exe" ]; then
    echo "codefleet $version ($target) from the tool cache: $dir/bin"
  else
    base=${CODEFLEET_RELEASES_URL:-${GITHUB_SERVER_URL:-https://github.com}/$repo/releases/download}
    ext=tar.gz
    [ "$RUNNER_OS" = Windows ] && ext=zip
    asset=codefleet-$version-$target.$ext
    url=$base/v$version/$asset
    work=$(mktemp -d "$RUNNER_TEMP/codefleet-install.XXXXXX")
    if fetch "$url" "$work/$asset"; then
      fetch "$url.sha256" "$work/$asset.sha256" ||
        fail "$asset has no checksum at $url.sha256 ($(cat "$work/$asset.sha256.err")): refusing to install it"
      want=$(cut -d' ' -f1 <"$work/$asset.sha256" | tr -d '\r\n' | tr 'A-F' 'a-f')
      got=$(sha256_of "$work/$asset")
      if [ "$want" != "$got" ]; then
        rm -rf "$work"
        fail "checksum mismatch for $asset: expected $want, got $got; refusing to install it"
      fi
      mkdir -p "$work/unpacked"
      if [ "$ext" = zip ]; then
        if command -v unzip >/dev/null 2>&1; then
          unzip -q "$work/$asset" -d "$work/unpacked"
        else
          7z x -bd -y "-o$work/unpacked" "$work/$asset" >/dev/null
        fi
      else
        tar -xzf "$work/$asset" -C "$work/unpacked"
      fi
      found=$(find "$work/unpacked" -type f -name "$exe" | head -n 1)
      [ -n "$found" ] || fail "$asset holds no $exe"
      chmod +x "$found"
      # Into the cache under a temporary name, then renamed: a half-copied binary is never used.
      mkdir -p "$dir/bin"
      cp "$found" "$dir/bin/$exe.partial"
      mv -f "$dir/bin/$exe.partial" "$dir/bin/$exe"
      rm -rf "$work"
      echo "codefleet $version ($target) installed from $url (sha256 $got)"
    else
      echo "::warning title=codefleet install::no release asset $url ($(cat "$work/$asset.err")); building from source"
      rm -rf "$work"
      version=source
    fi
  fi
fi

if [ "$version" = source ]; then
  [ -f "$action_path/Cargo.toml" ] || fail "no Cargo.toml in the action's checkout $action_path"
  command -v cargo >/dev/null 2>&1 || fail "building from source needs cargo (dtolnay/rust-toolchain, or rustup)"
  # Keyed by the checkout's sources, so a cache step (or a self-hosted runner's tool cache)
  # reuses a build of the same code and never a stale one.
  key=$(cd "$action_path" && find Cargo.toml Cargo.lock src -type f 2>/dev/null | LC_ALL=C sort |
    while IFS= read -r f; do sha256_of "$f"; done | sha256_of /dev/stdin | cut -c1-16)
  dir=$tool_cache/codefleet/source-$key/${target:-$RUNNER_OS-$RUNNER_ARCH}
  if [ -x "$dir/bin/$exe" ]; then
    echo "codefleet built from source ($key) found in the tool cache: $dir/bin"
  else
    cargo install --locked --path "$action_path" --root "$dir" --bin codefleet
  fi
  [ -x "$dir/bin/$exe" ] || fail "cargo install did not produce $dir/bin/$exe"
fi

echo "$dir/bin" >>"$GITHUB_PATH"
output version "$version"
output target "${target:-}"
output path "$dir/bin"
output source "$([ "$version" = source ] && echo true || echo false)"
