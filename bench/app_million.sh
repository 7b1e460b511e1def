#!/usr/bin/env bash
# Builds the release CLI and the release app with its UI embedded, and times the app's file
# browser, lineage and diff on a version of a million files in a real window (Xvfb + WebDriver).
# Arguments go to app_million.py (--reps, --parts, --keep, --shot).
set -euo pipefail
cd "$(dirname "$0")/.."
(cd ui && { [ -d node_modules ] || npm ci; } && npm run build)
cargo build --release --locked -p strata-cli -p strata-app --features strata-app/custom-protocol
command -v tauri-driver >/dev/null || [ -x "$HOME/.cargo/bin/tauri-driver" ] || cargo install tauri-driver --locked
if [ -n "${DISPLAY:-}" ]; then
  python3 bench/app_million.py "$@"
else
  xvfb-run -a -s '-screen 0 1280x800x24' python3 bench/app_million.py "$@"
fi
