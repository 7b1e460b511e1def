#!/usr/bin/env bash
# Builds the release binary and runs the large-file transfer benchmark (SeaweedFS and a folder
# remote, with rclone and cp -r + sync as baselines). Extra arguments go to large.py, e.g.
# `--data /tmp/large --work /tmp/large-work` to keep the 1 GiB set and the homes off the clone.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
setup_test_servers
cargo build --release -p strata-cli
command -v rclone >/dev/null || apt_install rclone || echo "rclone unavailable: baseline skipped"
python3 bench/large.py "$@"
