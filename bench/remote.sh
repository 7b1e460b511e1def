#!/usr/bin/env bash
# Builds the release binary and runs the remote benchmark against SeaweedFS on loopback.
# rclone (the raw-transfer baseline) comes from the distribution when missing. Extra arguments
# go to remote.py.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
setup_test_servers
cargo build --release -p strata-cli
command -v rclone >/dev/null || apt_install rclone || echo "rclone unavailable: baseline skipped"
python3 bench/remote.py "$@"
