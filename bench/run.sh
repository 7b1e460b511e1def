#!/usr/bin/env bash
# Builds the release binary and runs the local benchmark. Extra arguments go to local.py.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -p strata-cli
command -v b3sum >/dev/null || cargo install b3sum --locked || echo "b3sum unavailable: hashing baseline skipped"
python3 bench/local.py "$@"
