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
# tally LOG STATUS: adds the summary of one `deno test` run to passed/failed.
passed=0
failed=0
tally() {
  local summary p f
  summary=$(grep -E '^(ok|FAILED) \| [0-9]+ passed' "$1" | tail -n 1)
  if [ -z "$summary" ]; then
    echo "test.sh: deno test printed no summary (exit $2)" >&2
    failed=$((failed + 1))
    return
  fi
  p=$(sed -E 's/.*\| ([0-9]+) passed.*/\1/' <<<"$summary")
  f=$(sed -E 's/.*\| ([0-9]+) failed.*/\1/' <<<"$summary")
  passed=$((passed + p))
  failed=$((failed + f))
}
tally "$log" "$status"

# The core of the end-to-end suite (shell, exec, signals, modes, pool, sweep,
# SFTP) and the runtime contract, once more against each engine named in
# ENGINES_TO_TEST (`tls`: a second dockerd with --tlsverify on loopback;
# `podman`: Podman's service), each started by tests/helpers/with_engine.ts,
# after a whole-suite run (no arguments). Both by default; ENGINES_TO_TEST=""
# skips them. See docs/engines.md.
CORE_FILTER='/^(end to end: (sessions in|container modes|container lifecycle|SFTP)|the runtime contract)/'
CORE_FILES=(tests/e2e/session_e2e_test.ts tests/e2e/modes_e2e_test.ts
  tests/e2e/lifecycle_e2e_test.ts tests/e2e/sftp_e2e_test.ts
  tests/e2e/runtime_contract_e2e_test.ts)
if [ "$#" = 0 ]; then
  for engine in ${ENGINES_TO_TEST-tls podman}; do
    echo "test.sh: the core suite against the $engine engine"
    set +e
    NO_COLOR=1 deno run -A tests/helpers/with_engine.ts "$engine" -- \
      deno test -A --filter "$CORE_FILTER" "${CORE_FILES[@]}" 2>&1 | tee "$log"
    engine_status=${PIPESTATUS[0]}
    set -e
    tally "$log" "$engine_status"
    [ "$engine_status" = 0 ] || status=$engine_status
  done
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
