#!/bin/sh
# tests/run.sh - run every unit-test program and every end-to-end test, then
# print the closing line "N passed, N failed" (the sum of theirs).
#   TLSGRADE  the binary under test      UNIT_DIR  the unit-test programs
# A suite that crashes or prints no summary counts as one failure.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
: "${TLSGRADE:=$top/tlsgrade}" "${UNIT_DIR:=$top/build/plain/tests}"
export TLSGRADE
# Reports say when they were made: one fixed time for the whole suite, so
# that tests comparing two runs' reports compare what they were read from.
: "${SOURCE_DATE_EPOCH:=1700000000}"
export SOURCE_DATE_EPOCH
passed=0 failed=0
log=$(mktemp)
trap 'rm -f "$log"' EXIT

run_suite() { # name command...
  name=$1; shift
  "$@" >"$log" 2>&1
  rc=$?
  line=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$log" | tail -n 1)
  if [ -z "$line" ]; then
    cat "$log"
    echo "FAIL $name: no summary line (exit status $rc)"
    failed=$((failed + 1))
    return
  fi
  p=${line%% passed*}; f=${line#*passed, }; f=${f%% failed}
  if [ "$f" -ne 0 ] || [ "$rc" -ne 0 ]; then
    cat "$log"
    [ "$f" -eq 0 ] && f=1
  fi
  echo "$name: $line"
  passed=$((passed + p)); failed=$((failed + f))
}

for t in "$UNIT_DIR"/test_*; do
  [ -x "$t" ] && run_suite "unit/$(basename "$t")" "$t"
done
for t in "$top"/tests/e2e/test_*.py; do
  [ -f "$t" ] && run_suite "e2e/$(basename "$t" .py)" python3 "$t"
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
