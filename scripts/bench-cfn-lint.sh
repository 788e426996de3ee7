#!/usr/bin/env bash
# Times cfn-lint and the in-process validator on the same templates.
#
#   scripts/bench-cfn-lint.sh [FILE...]
#
# Without files: the three fixtures of tests/fixtures/schema/ three times (9 templates, as in
# examples/bench_validate.rs). Needs cfn-lint on PATH (pip install 'cfn-lint==1.58.*').
set -euo pipefail
cd "$(dirname "$0")/.."
dir=tests/fixtures/schema
if [ "$#" -eq 0 ]; then
  set -- $dir/core.template.json $dir/pipeline.template.json $dir/monitoring.template.json \
         $dir/core.template.json $dir/pipeline.template.json $dir/monitoring.template.json \
         $dir/core.template.json $dir/pipeline.template.json $dir/monitoring.template.json
fi
echo "cfn-lint $(cfn-lint --version 2>&1 | awk '{print $2}') on $# templates:"
start=$(date +%s.%N)
# One process for all files (cfn-lint's fastest mode); --regions us-east-1 only.
cfn-lint --regions us-east-1 -- "$@" || true
end=$(date +%s.%N)
echo "  one process, all files: $(echo "$end - $start" | bc) s"
start=$(date +%s.%N)
for f in "$@"; do cfn-lint --regions us-east-1 -- "$f" || true; done
end=$(date +%s.%N)
echo "  one process per file:   $(echo "$end - $start" | bc) s"
echo "kiro-infra in-process (schemas compiled once):"
cargo build --quiet --release --example bench_validate
if [ "$#" -eq 9 ] && [ "$1" = "$dir/core.template.json" ]; then
  ./target/release/examples/bench_validate --iterations 300
else
  ./target/release/examples/bench_validate --iterations 100 "$@"
fi
