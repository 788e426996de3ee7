#!/usr/bin/env bash
# Installs the real tools the test suite runs against, into a cache reused between runs:
#   cfn-lint 1.58.x, moto (server) and the AWS CLI in a Python venv, and cfn-guard 3.2.1 from crates.io.
# Prints the environment variables the tests read (KIRO_CFN_LINT, KIRO_PYTHON, KIRO_AWS, CFN_GUARD).
# Usage: eval "$(scripts/install-tools.sh)"
set -euo pipefail
cache="${KIRO_TOOLS_DIR:-$HOME/.cache/kiro-infra}"
venv="$cache/venv"
guard_root="$cache/cfn-guard-3.2.1"
mkdir -p "$cache"

want_py='cfn-lint==1.58.* moto[server,cloudformation]==5.* awscli==1.*'
stamp="$venv/.kiro-infra-requirements"
if [ ! -x "$venv/bin/python" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want_py" ]; then
  echo "installing $want_py into $venv" >&2
  python3 -m venv "$venv" >&2
  "$venv/bin/pip" install --quiet --disable-pip-version-check $want_py >&2
  echo "$want_py" > "$stamp"
fi

if [ ! -x "$guard_root/bin/cfn-guard" ] || ! "$guard_root/bin/cfn-guard" --version 2>/dev/null | grep -q '3\.2\.1'; then
  echo "installing cfn-guard 3.2.1 from crates.io into $guard_root (a few minutes, once)" >&2
  cargo install --quiet cfn-guard --version 3.2.1 --locked --root "$guard_root" >&2
fi

echo "export KIRO_CFN_LINT='$venv/bin/cfn-lint'"
echo "export KIRO_PYTHON='$venv/bin/python'"
echo "export KIRO_AWS='$venv/bin/aws'"
echo "export CFN_GUARD='$guard_root/bin/cfn-guard'"
