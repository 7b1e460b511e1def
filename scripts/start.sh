#!/usr/bin/env bash
# Sets up and starts Strata on its default home (your data dir). Until the desktop app lands this
# builds the `strata` command line and walks through a short tour on a sample folder.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
cargo build --release --locked -p strata-cli
bin="$PWD/target/release/strata"
sample="${TMPDIR:-/tmp}/strata-tour"
rm -rf "$sample"
mkdir -p "$sample"/{cat,dog}
for i in 1 2 3; do
  head -c 4096 /dev/urandom > "$sample/cat/$i.jpg"
  head -c 4096 /dev/urandom > "$sample/dog/$i.jpg"
done

step() { printf '\n$ %s\n' "$*"; "$@"; }
step "$bin" snapshot tour/pets "$sample"
head -c 4096 /dev/urandom > "$sample/cat/4.jpg"
rm "$sample/dog/1.jpg"
step "$bin" snapshot tour/pets "$sample"
step "$bin" log tour/pets
step "$bin" diff tour/pets@1.0.0 tour/pets@1.0.1
step "$bin" get tour/pets
printf '\nThe strata binary is %s; try `%s --help`.\n' "$bin" "$bin"
