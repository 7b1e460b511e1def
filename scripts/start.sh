#!/usr/bin/env bash
# Sets up and starts the Strata desktop app on your catalog (STRATA_HOME, or your data dir).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
setup_system
setup_rust
setup_ui
cargo build --release --locked -p strata-app -p strata-cli --features strata-app/custom-protocol
echo "Starting Strata; the command line is $PWD/target/release/strata"
exec ./target/release/strata-app
