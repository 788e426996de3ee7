#!/usr/bin/env bash
# Regenerates the rule table in README.md from `kiro-infra rules list --format markdown`.
set -euo pipefail
cd "$(dirname "$0")/.."
table=$(cargo run --quiet -- rules list --format markdown)
python3 - "$table" <<'PY'
import sys
table = sys.argv[1] + "\n"
text = open("README.md").read()
start = text.index("<!-- rules:start -->\n") + len("<!-- rules:start -->\n")
end = text.index("<!-- rules:end -->")
open("README.md", "w").write(text[:start] + table + text[end:])
PY
