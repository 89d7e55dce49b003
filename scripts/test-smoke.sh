#!/usr/bin/env bash
# The generated smoke.sh: shellcheck-clean (POSIX sh), and correct against a local stand-in
# server that answers the good way (all pass, exit 0) and the bad way (all fail, exit 1).
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
smoke="$repo/out/apps/atlas/smoke.sh"
shellcheck -s sh "$smoke"
passed=0; failed=0
for mode in good bad; do
  port=$((30000 + RANDOM % 20000))
  python3 "$repo/tests/tools/standin.py" "$mode" "$port" & pid=$!
  for _ in $(seq 50); do curl -s -o /dev/null "http://127.0.0.1:$port/" && break; sleep 0.1; done
  set +e; output=$(sh "$smoke" "http://127.0.0.1:$port"); code=$?; set -e
  kill "$pid"; wait "$pid" 2>/dev/null || true
  while IFS= read -r line; do echo "  [$mode] $line"; done <<< "$output"
  if [ "$mode" = good ]; then want_code=0; want_line="4 passed, 0 failed"; else want_code=1; want_line="0 passed, 4 failed"; fi
  if [ "$code" = "$want_code" ] && echo "$output" | grep -qx "$want_line"; then
    passed=$((passed + 1))
  else
    echo "FAIL smoke.sh against the $mode stand-in: exit $code" >&2; failed=$((failed + 1))
  fi
done
echo "smoke: $passed passed, $failed failed"
[ "$failed" = 0 ]
