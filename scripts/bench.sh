#!/usr/bin/env bash
# Whole-process benchmarks of the release binary (numbers go into the README's "Speed" section):
#   synth (all environments, files written; cold, and again on unchanged templates with the
#   verdict cached), check (all rules on the 9 templates) against the real cfn-guard 3.2.1 on
#   the same rules and data, schema validation against cfn-lint, and diff against templates/.
# Wall time: best, median and mean of N runs; peak memory: /usr/bin/time's maximum resident set.
set -euo pipefail
cd "$(dirname "$0")/.."
eval "$(scripts/install-tools.sh)"
cargo build --release --quiet
bin=target/release/kiro-infra
n=${N:-20}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# best/median/mean wall milliseconds of a command run $n times; $prep (a shell command, not
# timed) runs before each run when set.
prep=
measure() {
  local total=0 start end us all=()
  for _ in $(seq "$n"); do
    if [ -n "$prep" ]; then eval "$prep"; fi
    # bash's own clock, in microseconds (any decimal separator): `$(date +%s%N)` would start
    # a process, and the one after the command counted ~1 ms into every time.
    start=${EPOCHREALTIME//[!0-9]/}
    "$@" > /dev/null 2>&1 || true
    end=${EPOCHREALTIME//[!0-9]/}
    us=$(( end - start ))
    total=$(( total + us ))
    all+=("$us")
  done
  local sorted=($(printf '%s\n' "${all[@]}" | sort -n))
  local best=${sorted[0]} median=${sorted[$((n / 2))]}
  printf '%d.%03d ms best, %d.%03d ms median, %d.%03d ms mean' $((best / 1000)) $((best % 1000)) \
    $((median / 1000)) $((median % 1000)) $((total / n / 1000)) $((total / n % 1000))
}
peak() { /usr/bin/time -f '%M' "$@" 2>&1 >/dev/null | tail -1; }

echo "machine: $(nproc) cores, $(uname -m); $n runs each"
echo "floor: starting and timing a process that does nothing (/bin/true): $(measure /bin/true)"
export KIRO_NO_CACHE=1
prep='rm -rf "$work/fresh"'
echo "synth, cold, into an empty directory (every check run, 9 templates + manifest written): $(measure $bin synth --out "$work/fresh")"
prep=
echo "  peak memory: $(peak $bin synth --out "$work/t") KiB"
echo "synth, cold, output already up to date (every check run, files compared, none written): $(measure $bin synth --out "$work/t")"
unset KIRO_NO_CACHE
export KIRO_CACHE_DIR="$work/cache"
"$bin" synth --out "$work/t" 2>/dev/null
echo "synth again, verdict cached (files compared, none written):    $(measure $bin synth --out "$work/t")"
echo "  peak memory: $(peak $bin synth --out "$work/t") KiB"
unset KIRO_CACHE_DIR
"$bin" synth --out "$work/t" 2>/dev/null
templates=$(ls "$work"/t/*/*.template.json)
echo "check, all built-in rules + schemas on the 9 templates:   $(measure $bin check $templates)"
rules_args=()
for r in rules/*.guard; do rules_args+=(-r "$r"); done
data_args=()
for t in $templates; do data_args+=(-d "$t"); done
m=$(( n < 5 ? n : 5 )); n_saved=$n; n=$m
echo "cfn-guard 3.2.1 validate, same rules and templates:       $(measure "$CFN_GUARD" validate "${rules_args[@]}" "${data_args[@]}")"
n=3
echo "cfn-lint 1.58 on the same 9 templates:                    $(measure "$KIRO_CFN_LINT" $templates)"
n=$n_saved
if [ -f target/release/kiro-infra ] && "$bin" diff --help >/dev/null 2>&1; then
  echo "diff of the 9 templates against templates/:              $(measure $bin diff)"
fi
