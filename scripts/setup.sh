#!/usr/bin/env bash
# Installs what building Strata needs on Debian/Ubuntu, skipping whatever is already there.
# Sourced by scripts/start.sh and scripts/test.sh.
set -euo pipefail

apt_install() {
  local missing=()
  for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  # Some images delete downloaded .debs after each dpkg run, which breaks large installs.
  printf '#clear DPkg::Post-Invoke;\n' > /tmp/strata-apt.conf
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get -c /tmp/strata-apt.conf install -y -qq \
    --no-install-recommends "${missing[@]}"
}

if command -v dpkg >/dev/null 2>&1; then
  apt_install build-essential pkg-config curl ca-certificates python3
fi

if ! command -v cargo >/dev/null 2>&1; then
  [ -x "$HOME/.cargo/bin/cargo" ] || curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs | sh -s -- -y --profile minimal
  export PATH="$HOME/.cargo/bin:$PATH"
fi
if command -v rustup >/dev/null 2>&1; then
  rustup component list --installed 2>/dev/null | grep -q '^rustfmt' || rustup component add rustfmt
  rustup component list --installed 2>/dev/null | grep -q '^clippy' || rustup component add clippy
fi
