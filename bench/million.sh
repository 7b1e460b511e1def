#!/usr/bin/env bash
# Builds the release binary and runs the million-file benchmark. Arguments go to million.py
# (N files, default 1,000,000; --reps; --data; --keep).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -p strata-cli
command -v b3sum >/dev/null || cargo install b3sum --locked || echo "b3sum unavailable: the baseline only reads the files"
python3 bench/million.py "$@"
