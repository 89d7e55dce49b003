#!/usr/bin/env bash
# The generated smoke.sh: shellcheck-clean (POSIX sh), and correct against a local stand-in
# server: the good way (all pass, exit 0), the bad way (all fail, exit 1), a document that
# only looks like PostgREST's (the OpenAPI check fails), and an app without the optional
# checks (skips shown in the summary; --strict turns them into exit 1). `atlas` of the
# example serves a second schema (Accept-Profile); `billing` has anonymous = false (401
# without a token; the other checks need TOKEN).
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
atlas="$repo/out/apps/atlas/smoke.sh"
billing="$repo/out/apps/billing/smoke.sh"
shellcheck -s sh "$atlas" "$billing"
passed=0; failed=0
# Set per case: the stand-in's extra arguments, and the TOKEN smoke.sh sends.
standin_args=(); token=""
# case MODE SCRIPT WANT_CODE WANT_SUMMARY [ARGS...]
case_() {
  local mode=$1 script=$2 want_code=$3 want_line=$4 port pid output code; shift 4
  port=$((30000 + RANDOM % 20000))
  python3 "$repo/tests/tools/standin.py" "$mode" "$port" "${standin_args[@]}" & pid=$!
  for _ in $(seq 50); do curl -s -o /dev/null "http://127.0.0.1:$port/" && break; sleep 0.1; done
  set +e; output=$(TOKEN=$token sh "$script" "$@" "http://127.0.0.1:$port" 2>&1); code=$?; set -e
  kill "$pid"; wait "$pid" 2>/dev/null || true
  while IFS= read -r line; do echo "  [$mode $(basename "$(dirname "$script")") $*${token:+ TOKEN}] $line"; done <<< "$output"
  if [ "$code" = "$want_code" ] && echo "$output" | grep -qx "$want_line"; then
    passed=$((passed + 1))
  else
    echo "FAIL smoke.sh ($script $*) against the $mode stand-in: exit $code, want $want_code and '$want_line'" >&2
    failed=$((failed + 1))
  fi
}
standin_args=(anonymous api_v2); token=""
case_ good "$atlas" 0 "5 passed, 0 failed, 0 skipped"
case_ good "$atlas" 0 "5 passed, 0 failed, 0 skipped" --strict
case_ bad "$atlas" 1 "0 passed, 5 failed, 0 skipped"
case_ fake "$atlas" 1 "4 passed, 1 failed, 0 skipped"
standin_args=(closed); token=""
case_ good "$billing" 0 "1 passed, 0 failed, 4 skipped"
case_ good "$billing" 1 "1 passed, 0 failed, 4 skipped" --strict
case_ bad "$billing" 1 "0 passed, 1 failed, 4 skipped"
token="test-token"
case_ good "$billing" 0 "2 passed, 0 failed, 3 skipped"
case_ bad "$billing" 1 "0 passed, 2 failed, 3 skipped"
echo "smoke: $passed passed, $failed failed"
[ "$failed" = 0 ]
