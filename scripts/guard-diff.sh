#!/usr/bin/env bash
# Our Guard engine against the real cfn-guard 3.2.1 on someone else's rules and tests: for every
# X.guard under DIR with a test file (tests/X_tests.yml|yaml or X_tests.yml|yaml beside it),
# runs `cfn-guard test` and `kiro-infra rules test` and compares, case by case, which
# expectations each one finds unmet (and a parse error against a parse error at the same
# line:column). Made for peer rule suites such as a checkout of aws-guard-rules-registry
# (`rules/aws/`), which the project does not vendor.
#
# Usage: scripts/guard-diff.sh DIR
# Prints a line per difference and a summary; exit 0 when every file agrees, 1 on any
# difference, 2 on bad usage.
set -euo pipefail
if [ $# -ne 1 ] || [ ! -d "$1" ]; then
  echo "usage: $0 DIR (a directory of .guard files with their cfn-guard test files)" >&2
  exit 2
fi
here="$(cd "$(dirname "$0")/.." && pwd)"
eval "$("$here/scripts/install-tools.sh")"
cargo build --release --quiet --manifest-path "$here/Cargo.toml"
exec "$KIRO_PYTHON" - "$1" "$CFN_GUARD" "$here/target/release/kiro-infra" <<'PY'
import os, re, subprocess, sys

root, guard, kiro = sys.argv[1:4]

def test_file(path):
    d, stem = os.path.dirname(path), os.path.basename(path)[:-len(".guard")]
    for c in (f"{d}/tests/{stem}_tests.yml", f"{d}/tests/{stem}_tests.yaml",
              f"{d}/{stem}_tests.yml", f"{d}/{stem}_tests.yaml"):
        if os.path.exists(c):
            return c
    return None

def guard_unmet(out):
    """(case, rule, evaluated) for each unmet expectation in `cfn-guard test` output."""
    unmet, name, failing = set(), None, False
    for line in out.splitlines():
        if m := re.match(r"Name: (.*)", line):
            name, failing = m.group(1).strip(), False
        elif line.strip() == "FAIL Rules:":
            failing = True
        elif line.strip() == "PASS Rules:" or line.startswith("Test Case"):
            failing = False
        elif failing and (m := re.match(r"\s+(\S+): Expected = \S+, Evaluated = \[?(\w+)", line)):
            unmet.add((name, m.group(1), m.group(2)))
    return unmet

def kiro_unmet(out):
    return {(m.group(1).strip(), m.group(2), m.group(3))
            for m in re.finditer(r"^MISMATCH .*?: case `(.*)`: rule (\S+) expected \S+ got (\w+)", out, re.M)}

def parse_error_at(out):
    """line:column of a parse error, from either tool's wording."""
    m = re.search(r"at line (\d+) at column (\d+)", out) or re.search(r"\.guard:(\d+):(\d+):", out)
    return m and (m.group(1), m.group(2))

same = differ = 0
for dirpath, _, files in sorted(os.walk(root)):
    for f in sorted(files):
        if not f.endswith(".guard"):
            continue
        rules = os.path.join(dirpath, f)
        tests = test_file(rules)
        if tests is None:
            continue
        a = subprocess.run([guard, "test", "-r", rules, "-t", tests], capture_output=True, text=True)
        b = subprocess.run([kiro, "rules", "test", "-r", rules, "-t", tests], capture_output=True, text=True)
        a_out, b_out = a.stdout + a.stderr, b.stdout + b.stderr
        if a.returncode in (0, 7) and b.returncode in (0, 3):
            ours, theirs = kiro_unmet(b_out), guard_unmet(a_out)
            agree = ours == theirs
            detail = f"cfn-guard only {sorted(theirs - ours)}, kiro-infra only {sorted(ours - theirs)}"
        else:
            at_a, at_b = parse_error_at(a_out), parse_error_at(b_out)
            agree = a.returncode == b.returncode == 1 and at_a is not None and at_a == at_b
            detail = f"cfn-guard exit {a.returncode} {at_a}, kiro-infra exit {b.returncode} {at_b}"
        if agree:
            same += 1
        else:
            differ += 1
            print(f"DIFF {os.path.relpath(rules, root)}: {detail}")
print(f"{same + differ} rules files with tests: {same} agree, {differ} differ")
sys.exit(1 if differ else 0)
PY
