#!/usr/bin/env bash
# Builds the release binary and runs the offline-session benchmark (export/import of the small
# set next to tar; import --upload into SeaweedFS on loopback next to upload). Extra arguments
# go to session.py.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
setup_test_servers
cargo build --release -p strata-cli
python3 bench/session.py "$@"
