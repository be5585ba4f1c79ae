#!/usr/bin/env bash
# Runs codefleet for the GitHub Action (action.yml) and turns its JSON report into the step's
# outputs. codefleet itself writes the Markdown step summary ($GITHUB_STEP_SUMMARY) and the
# `::error` annotations (at most 10 per step, then one line counting the rest); this script
# adds only what codefleet cannot know: masking, outputs, and whether the step fails.
#
# Inputs (environment, as action.yml sets them):
#   INPUT_PIPELINE            the pipeline file; empty: nothing runs (codefleet is installed
#                             and on PATH for later steps)
#   INPUT_REPOS               repositories (paths or URLs), one a line or space-separated;
#                             each becomes --repo (empty: the pipeline's repos:)
#   INPUT_ARGS                more arguments, split like shell words (quotes kept, nothing
#                             expanded), e.g. `--var old=a --var new=b --dry-run`
#   INPUT_PUSH, INPUT_PR      true/false: --push, --pr
#   INPUT_SHARD               K/N: --shard
#   INPUT_TOKEN               the GitHub token (GITHUB_TOKEN for codefleet); masked
#   INPUT_MODEL_API_KEY       the model's key (OPENAI_API_KEY and ANTHROPIC_API_KEY unless
#                             set); masked
#   INPUT_FAIL_ON             never | error (default: exit 1 or 2 fails) | change (also when
#                             something changed, or would: a gate for `--check`)
#   INPUT_WORKING_DIRECTORY   where to run (default: the workspace)
#   RUNNER_TEMP, GITHUB_OUTPUT
#
# Outputs: run-id, branch, changed, repos-changed, failures, report, exit-code, and the pull
# requests as peter-evans/create-pull-request names them: pull-request-number,
# pull-request-url, pull-request-operation (created, updated, closed or none; set when the run
# covered one repository, else none) and pull-requests (JSON: [{repo, number, url, operation}],
# one per repository with a pull request record, repo as owner/name of the remote pushed to).
set -uo pipefail

: "${RUNNER_TEMP:?RUNNER_TEMP is not set: this runs inside GitHub Actions or its test}"
: "${GITHUB_OUTPUT:?GITHUB_OUTPUT is not set}"

# Masked first, before anything could print them.
[ -n "${INPUT_TOKEN:-}" ] && echo "::add-mask::$INPUT_TOKEN"
[ -n "${INPUT_MODEL_API_KEY:-}" ] && echo "::add-mask::$INPUT_MODEL_API_KEY"

output() {
  echo "$1=$2" >>"$GITHUB_OUTPUT"
}

truthy() {
  case "$(echo "${1:-}" | tr '[:upper:]' '[:lower:]')" in
    true | yes | 1 | on) return 0 ;;
    *) return 1 ;;
  esac
}

fail_on=${INPUT_FAIL_ON:-error}
case "$fail_on" in
  never | error | change) ;;
  *)
    echo "::error title=codefleet::fail-on must be never, error or change, not \`$fail_on\`"
    exit 2
    ;;
esac
if [ -z "${INPUT_PIPELINE:-}" ]; then
  echo "No pipeline given: codefleet is installed and on PATH ($(command -v codefleet))."
  output changed false
  output repos-changed 0
  output failures 0
  output pull-request-operation none
  output pull-requests "[]"
  exit 0
fi

cd "${INPUT_WORKING_DIRECTORY:-.}" || {
  echo "::error title=codefleet::working-directory \`$INPUT_WORKING_DIRECTORY\` does not exist"
  exit 2
}

args=(--json run "$INPUT_PIPELINE")
set -f # a `*` in a repository path is codefleet's to expand, not the shell's
for repo in ${INPUT_REPOS:-}; do
  args+=(--repo "$repo")
done
set +f
truthy "${INPUT_PUSH:-}" && args+=(--push)
truthy "${INPUT_PR:-}" && args+=(--pr)
[ -n "${INPUT_SHARD:-}" ] && args+=(--shard "$INPUT_SHARD")
if [ -n "$(echo "${INPUT_ARGS:-}" | tr -d '[:space:]')" ]; then
  # xargs splits on blanks and honours quotes and backslashes, and runs nothing: the words
  # reach codefleet as written, without globbing or substitution.
  words=$(mktemp "$RUNNER_TEMP/codefleet-args.XXXXXX")
  if ! printf '%s' "$INPUT_ARGS" | xargs printf '%s\0' >"$words" 2>"$words.err"; then
    echo "::error title=codefleet::cannot split the input \`args\`: $(cat "$words.err")"
    rm -f "$words" "$words.err"
    exit 2
  fi
  while IFS= read -r -d '' word; do
    args+=("$word")
  done <"$words"
  rm -f "$words" "$words.err"
fi

if [ -n "${INPUT_TOKEN:-}" ]; then
  export GITHUB_TOKEN="$INPUT_TOKEN"
fi
if [ -n "${INPUT_MODEL_API_KEY:-}" ]; then
  export OPENAI_API_KEY="${OPENAI_API_KEY:-$INPUT_MODEL_API_KEY}"
  export ANTHROPIC_API_KEY="${ANTHROPIC_API_KEY:-$INPUT_MODEL_API_KEY}"
fi

report=$(mktemp "$RUNNER_TEMP/codefleet-report.XXXXXX")
mv "$report" "$report.json"
report=$report.json
echo "codefleet ${args[*]}"
codefleet "${args[@]}" >"$report"
code=$?
output report "$report"
output exit-code "$code"

# One value from the report (a JSON object; an array when several pipelines ran: the first).
field() {
  if command -v jq >/dev/null 2>&1; then
    jq -r "(if type == \"array\" then .[0] else . end) | $1 // empty" "$report" 2>/dev/null
  else
    local py
    py=$(command -v python3 || command -v python) || return 0
    "$py" - "$report" "$1" <<'EOF' 2>/dev/null
import json, sys
r = json.load(open(sys.argv[1]))
r = r[0] if isinstance(r, list) else r
expr = sys.argv[2]
if expr.startswith("[.repos[].branch"):
    v = next((x.get("branch") for x in r.get("repos", []) if x.get("branch")), None)
elif expr.startswith("(.totals"):
    t = r.get("totals", {})
    v = sum(t.get(k, 0) for k in ("repos_failed", "tasks_failed", "files_failed", "publish_failed"))
else:
    v = r
    for k in expr.lstrip(".").split("."):
        v = v.get(k) if isinstance(v, dict) else None
print("" if v is None else v)
EOF
  fi
}

# Each repository's pull request: the report's publish.pull_request, its action named as
# peter-evans/create-pull-request names operations (a reopened one was updated). With `first`,
# the run's only repository's entry, or nothing when the run covered several.
pull_requests() {
  if command -v jq >/dev/null 2>&1; then
    jq -c --arg which "$1" '
      [(if type == "array" then .[] else . end) | .repos[]?] as $repos
      | [$repos[] | select(.publish.pull_request != null) | . as $r | .publish.pull_request as $p
         | {repo: ((($r.publish.remote // "") | try capture("(?<r>[^/:]+/[^/]+?)(\\.git)?/*$").r catch null) // $r.path),
            number: $p.number, url: $p.url,
            operation: ({opened: "created", updated: "updated", reopened: "updated", closed: "closed"}[$p.action] // "none"),
            forge: ($p.forge // "github")}]
      | if $which == "first" then (if ($repos | length) == 1 then (.[0] // empty) else empty end) else . end' \
      "$report" 2>/dev/null
  else
    local py
    py=$(command -v python3 || command -v python) || return 0
    "$py" - "$report" "$1" <<'EOF' 2>/dev/null
import json, re, sys
r = json.load(open(sys.argv[1]))
repos = [x for one in (r if isinstance(r, list) else [r]) for x in one.get("repos", [])]
ops = {"opened": "created", "updated": "updated", "reopened": "updated", "closed": "closed"}
prs = []
for x in repos:
    pub = x.get("publish") or {}
    p = pub.get("pull_request")
    if p is None:
        continue
    m = re.search(r"([^/:]+/[^/]+?)(\.git)?/*$", pub.get("remote") or "")
    prs.append({"repo": m.group(1) if m else x.get("path"), "number": p.get("number"),
                "url": p.get("url"), "operation": ops.get(p.get("action"), "none"),
                "forge": p.get("forge") or "github"})
if sys.argv[2] == "first":
    if len(repos) == 1 and prs:
        print(json.dumps(prs[0], separators=(",", ":")))
else:
    print(json.dumps(prs, separators=(",", ":")))
EOF
  fi
}

# One field of the run's only pull request (empty when there is none).
pr_field() {
  [ -n "$first_pr" ] || return 0
  if command -v jq >/dev/null 2>&1; then
    printf '%s' "$first_pr" | jq -r ".$1 // empty"
  else
    printf '%s' "$first_pr" | "$(command -v python3 || command -v python)" -c \
      'import json, sys; v = json.load(sys.stdin).get(sys.argv[1]); print("" if v is None else v)' "$1"
  fi
}

if [ -s "$report" ]; then
  # The human summary (and a dry run's diffs) for the log, from the report just written; the
  # step summary is codefleet's already, so it is not written twice.
  GITHUB_STEP_SUMMARY="" codefleet --color always report merge "$report" || true
  run_id=$(field .run_id)
  branch=$(field '[.repos[].branch | select(. != null)][0]')
  repos_changed=$(field .totals.repos_changed)
  failures=$(field '(.totals | .repos_failed + .tasks_failed + .files_failed + .publish_failed)')
  prs=$(pull_requests all)
  first_pr=$(pull_requests first)
else
  # Nothing ran (a usage or pipeline error): codefleet said why on stderr.
  run_id="" branch="" repos_changed=0 failures=0 prs="" first_pr=""
fi
repos_changed=${repos_changed:-0}
failures=${failures:-0}
changed=false
[ "$repos_changed" -gt 0 ] 2>/dev/null && changed=true
output run-id "$run_id"
output branch "$branch"
output changed "$changed"
output repos-changed "$repos_changed"
output failures "$failures"
output pull-request-number "$(pr_field number)"
output pull-request-url "$(pr_field url)"
pr_operation=$(pr_field operation)
output pull-request-operation "${pr_operation:-none}"
output forge "$(pr_field forge)"
output pull-requests "${prs:-[]}"

case "$code" in
  0 | 3) ;;
  2) echo "::error title=codefleet::codefleet exited 2: nothing ran (see the log above)" ;;
  130) echo "::error title=codefleet::codefleet was interrupted" ;;
esac

case "$fail_on" in
  never) exit 0 ;;
  error)
    case "$code" in
      0 | 3) exit 0 ;;
      *) exit "$code" ;;
    esac
    ;;
  change)
    if [ "$code" != 0 ] && [ "$code" != 3 ]; then exit "$code"; fi
    if [ "$changed" = true ] || [ "$code" = 3 ]; then
      echo "::error title=codefleet::the pipeline changed $repos_changed repositories (fail-on: change)"
      exit 3
    fi
    exit 0
    ;;
esac
