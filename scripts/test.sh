#!/usr/bin/env bash
# Sets up what the tests need (Deno, a Docker engine, a busybox image, OpenSSH,
# sshpass, paramiko) and runs the whole test suite, unit and end-to-end.
# Ends with a line "N passed, N failed". Extra arguments go to `deno test`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --test
log=$(mktemp)
trap 'rm -f "$log"' EXIT
set +e
NO_COLOR=1 deno task test "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e
summary=$(grep -E '^(ok|FAILED) \| [0-9]+ passed' "$log" | tail -n 1)
passed=$(sed -E 's/.*\| ([0-9]+) passed.*/\1/' <<<"$summary")
failed=$(sed -E 's/.*\| ([0-9]+) failed.*/\1/' <<<"$summary")
if [ -z "$summary" ]; then
  passed=0
  failed=1
  echo "test.sh: deno test printed no summary (exit $status)" >&2
fi
# Suite-level invariant: no capsule container outlives the tests.
left=$(docker ps -aq --filter label=io.capsule.managed=true)
if [ -n "$left" ]; then
  echo "test.sh: capsule containers left behind after the suite:" >&2
  docker ps -a --filter label=io.capsule.managed=true >&2
  failed=$((failed + 1))
  [ "$status" = 0 ] && status=1
fi
echo "${passed} passed, ${failed} failed"
exit "$status"
