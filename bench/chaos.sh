#!/usr/bin/env bash
# Crash suite at full length: real `strata` processes (the test build, with its overflow and
# debug checks) killed with SIGKILL at random moments across snapshot, add, get, upload, pull and
# gc, two homes sharing a bucket.
# After every kill the same command must complete, every version must verify and every final
# version must give back exactly its files. The CI test runs the same loop with 30 kills.
#
#   bench/chaos.sh [KILLS] [SEED]     defaults: 300 kills, a fresh seed (printed; replay with it)
set -euo pipefail
cd "$(dirname "$0")/.."
export STRATA_CHAOS_KILLS="${1:-300}"
[ -n "${2:-}" ] && export STRATA_CHAOS_SEED="$2"
cargo test -p strata-cli --test cli chaos::random_kills_lose_nothing -- --exact --nocapture 2>&1 \
  | grep -E '^chaos|panicked|FAILED|test result'
