#!/usr/bin/env bash
# Switching a mutable copy between versions in place: 20,000 small files in 100 folders, two
# versions 1 % apart (200 files changed). Times `get REF --to DIR --mutable --overwrite` each way
# (median of REPS, default 5) next to physical baselines measured in the same run: one `cp` of
# just the changed files over an old copy, and `cp -r` of the whole folder (what rewriting every
# file costs, as `get --mutable` into an empty folder does). Also `status` of an unchanged folder
# next to a no-change `snapshot`.
set -euo pipefail
cd "$(dirname "$0")/.."
bin="${STRATA_BIN:-${CARGO_TARGET_DIR:-target}/release/strata}"
[ -x "$bin" ] || cargo build --release -p strata-cli
reps="${REPS:-5}"
work="${TMPDIR:-/tmp}/strata-switch"
rm -rf "$work"; mkdir -p "$work"
export STRATA_HOME="$work/home"

python3 - "$work/src" <<'PY'
import os, random, sys
root = sys.argv[1]
rng = random.Random(7)
for i in range(20000):
    d = os.path.join(root, f"class{i % 100:02d}")
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, f"img{i:05d}.jpg"), "wb") as f:
        f.write(rng.randbytes(rng.randint(2048, 8192)))
PY
"$bin" -q snapshot bench/switch "$work/src" > /dev/null
# 1 %: every 100th file gets new content.
python3 - "$work/src" "$work/changed.txt" <<'PY'
import os, sys
root, out = sys.argv[1], sys.argv[2]
changed = []
for i in range(0, 20000, 100):
    rel = f"class{i % 100:02d}/img{i:05d}.jpg"
    with open(os.path.join(root, rel), "ab") as f:
        f.write(b"relabelled")
    changed.append(rel)
open(out, "w").write("\n".join(changed) + "\n")
PY
"$bin" -q snapshot bench/switch "$work/src" > /dev/null
"$bin" -q get bench/switch@1.0.0 --to "$work/copy" --mutable > /dev/null
"$bin" -q get bench/switch@1.0.1 --to "$work/new" --mutable > /dev/null

declare -A times
# Seconds of one run of a command (its output dropped), appended to times[$1].
t() {
    local name=$1 s e; shift
    sync
    s=$(date +%s%N); "$@" > /dev/null; e=$(date +%s%N)
    times[$name]+="$(( (e - s) / 1000 )) "
}
median() { tr ' ' '\n' <<< "${times[$1]}" | grep . | sort -n | awk '{a[NR]=$1} END {printf "%.3f", a[int((NR+1)/2)]/1e6}'; }

for r in $(seq "$reps"); do
    t switch-up "$bin" -q get bench/switch@1.0.1 --to "$work/copy" --mutable --overwrite
    t switch-down "$bin" -q get bench/switch@1.0.0 --to "$work/copy" --mutable --overwrite
    t full-get "$bin" -q get bench/switch@1.0.1 --to "$work/full-$r" --mutable
    rm -rf "$work/cpc"; cp -r "$work/copy" "$work/cpc"
    t cp-changed sh -c "cd '$work/new' && xargs -a '$work/changed.txt' cp --parents -t '$work/cpc'"
    t cp-r cp -r "$work/new" "$work/cpr-$r"
    t status "$bin" -q status "$work/src" --dataset bench/switch
    t snapshot "$bin" -q snapshot bench/switch "$work/src"
    rm -rf "$work/full-$r" "$work/cpr-$r"
done

# The switch really touched only the changed files, and left a copy equal to a fresh one.
"$bin" -q get bench/switch@1.0.1 --to "$work/copy" --mutable --overwrite > /dev/null
diff -r "$work/copy" "$work/new" > /dev/null || { echo "switched copy differs from a fresh one"; exit 1; }
written=$("$bin" get bench/switch@1.0.0 --to "$work/copy" --mutable --overwrite --json \
    | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["written"], d["unchanged"])')

row() { printf '%-52s %7s s  %s\n' "$1" "$(median "$2")" "${3:-}"; }
ratio() { awk -v a="$(median "$1")" -v b="$(median "$2")" 'BEGIN {printf "%.2fx %s", a / b, "'"$3"'"}'; }
echo "20,000 files in 100 folders; 200 differ between the versions; median of $reps"
echo "written, unchanged by one switch: $written"
row "switch 1.0.0 -> 1.0.1 (get --mutable --overwrite)" switch-up "$(ratio switch-up cp-changed 'cp of the changed files'), $(ratio switch-up cp-r 'cp -r')"
row "switch 1.0.1 -> 1.0.0" switch-down "$(ratio switch-down cp-changed 'cp of the changed files'), $(ratio switch-down cp-r 'cp -r')"
row "get --mutable into an empty folder (every file)" full-get "$(ratio full-get cp-r 'cp -r')"
row "baseline: one cp of the 200 changed files" cp-changed
row "baseline: cp -r of the whole folder" cp-r
row "status of an unchanged folder" status "$(ratio status snapshot 'no-change snapshot')"
row "snapshot of an unchanged folder" snapshot
rm -rf "$work"
