#!/usr/bin/env bash
# Sets up and runs every check and test: formatting, lints, generated types, front-end unit tests,
# engine and CLI tests, the remote suite against real object-store servers, the app's command
# tests, and the app end to end in a real window.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
setup_system "${TEST_PACKAGES[@]}"
setup_rust
if ! command -v tauri-driver >/dev/null 2>&1 && [ ! -x "$HOME/.cargo/bin/tauri-driver" ]; then
  cargo install tauri-driver --locked
fi
setup_ui
setup_test_servers

echo "== cargo fmt --check"
cargo fmt --all -- --check
echo "== cargo clippy"
cargo clippy --workspace --all-targets --locked --features strata-app/custom-protocol -- -D warnings
echo "== front-end unit tests"
(cd ui && npx vitest run)
echo "== cargo test (the app's window runs under Xvfb)"
xvfb-run -a -s '-screen 0 1280x800x24' \
  cargo test --workspace --locked --features strata-app/custom-protocol
