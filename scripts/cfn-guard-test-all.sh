#!/usr/bin/env bash
# Run the real cfn-guard 3.2.1 over every rules/tests/<stem>_tests.yaml against rules/<stem>.guard.
# Exits non-zero if any case does not meet its expectation, or if a rules file has no test file.
set -u
here="$(cd "$(dirname "$0")/.." && pwd)"
guard="${CFN_GUARD:-$HOME/.cache/kiro-infra/cfn-guard-3.2.1/bin/cfn-guard}"
if [ ! -x "$guard" ]; then
  echo "cfn-guard not found at $guard (set CFN_GUARD)" >&2
  exit 2
fi
status=0
for rules in "$here"/rules/*.guard; do
  stem="$(basename "$rules" .guard)"
  tests="$here/rules/tests/${stem}_tests.yaml"
  if [ ! -f "$tests" ]; then
    echo "MISSING tests for $rules" >&2
    status=1
    continue
  fi
  out="$("$guard" test -r "$rules" -t "$tests" 2>&1)"
  rc=$?
  cases=$(printf '%s\n' "$out" | grep -c '^Test Case #')
  if [ "$rc" -ne 0 ]; then
    echo "FAIL $stem (exit $rc)"
    printf '%s\n' "$out" | grep -v 'No Test expectation' | grep -B3 -A4 'FAIL Rules' >&2
    [ "$rc" -ne 7 ] && printf '%s\n' "$out" | tail -20 >&2
    status=1
  else
    echo "ok   $stem ($cases cases)"
  fi
done
exit $status
