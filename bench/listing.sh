#!/usr/bin/env bash
# How a million-entry version behaves: builds one (10,000 files added under 100 folders) and times
# what the app's file browser does per page (resolve, decode the manifest, filter) via `strata
# files`, plus `show` and a one-file `add` to the big draft.
set -euo pipefail
cd "$(dirname "$0")/.."
bin="${STRATA_BIN:-target/release/strata}"
[ -x "$bin" ] || cargo build --release -p strata-cli
work="${TMPDIR:-/tmp}/strata-listing"
rm -rf "$work"; mkdir -p "$work/src"
export STRATA_HOME="$work/home"
python3 - "$work/src" <<'PY'
import os, sys
root = sys.argv[1]
for i in range(10000):
    d = os.path.join(root, f"c{i % 100:02d}")
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, f"f{i:05d}.txt"), "w") as f:
        f.write(f"file {i}")
PY
id=$("$bin" -q create big/listing)
for p in $(seq -w 0 99); do "$bin" -q add "$id" "$work/src" --to "part$p" > /dev/null; done
t() { local s e; s=$(date +%s.%N); "$@" > /dev/null; e=$(date +%s.%N); printf '%-44s %6.3f s\n' "${*:2}" "$(echo "$e - $s" | bc)"; }
echo "entries: $("$bin" show "$id" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["file_count"])')"
t "$bin" show "$id"
t "$bin" files "$id"
t "$bin" files "$id" --glob 'part42/**'
echo extra > "$work/extra.txt"
t "$bin" add "$id" "$work/extra.txt"
rm -rf "$work"
