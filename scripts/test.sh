#!/usr/bin/env bash
# The whole test suite, as CI runs it: installs the real tools (cfn-lint, cfn-guard, moto, AWS CLI)
# into a cache on first use, then checks formatting, lints, and runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."
eval "$(scripts/install-tools.sh)"
cargo fmt --check
cargo clippy --all-targets --quiet -- -D warnings
cargo test --all-targets
