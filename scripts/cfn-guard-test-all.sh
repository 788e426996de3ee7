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

# Phase 2: the model templates of our own stacks (rules/fixtures) must pass every default-profile rule.
default_rules="$(awk '/^# @id /{id=$3} /^# @profile default/{print id}' "$here"/rules/*.guard | sort -u)"
for fixture in "$here"/rules/fixtures/*.yaml; do
  [ -f "$fixture" ] || continue
  failed=""
  for rules in "$here"/rules/*.guard; do
    out="$("$guard" validate -r "$rules" -d "$fixture" -S fail 2>/dev/null)"
    for id in $(printf '%s\n' "$out" | sed -n 's/^[^ ]*\.guard\/\([A-Z0-9_]*\) *FAIL$/\1/p'); do
      if printf '%s\n' "$default_rules" | grep -qx "$id"; then failed="$failed $id"; fi
    done
  done
  if [ -n "$failed" ]; then
    echo "FAIL fixture $(basename "$fixture"): default rules failing:$failed"
    status=1
  else
    echo "ok   fixture $(basename "$fixture") passes every default rule"
  fi
done
exit $status
