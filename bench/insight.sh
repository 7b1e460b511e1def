#!/usr/bin/env bash
# Class statistics: `strata stats` of the small set (bench/gen.py: 20,000 files of 2-16 KB in 100
# class folders under train/ and val/) read as ImageFolder, cold (the statistics cache emptied
# first) and cached; of a YOLO set with 20,000 label files; and a comparison of two 20,000-file
# versions 1 % apart (200 files moved to another class folder), cold and cached. Medians of REPS
# (default 5), next to baselines measured in the same run on the same folders: `find | wc -l`,
# and Python counting classes with collections.Counter (over paths for ImageFolder, over every
# label file's lines for YOLO). Release build.
set -euo pipefail
cd "$(dirname "$0")/.."
bin="${STRATA_BIN:-${CARGO_TARGET_DIR:-target}/release/strata}"
[ -x "$bin" ] || cargo build --release -p strata-cli
reps="${REPS:-5}"
work="${TMPDIR:-/tmp}/strata-insight"
rm -rf "$work"; mkdir -p "$work"
export STRATA_HOME="$work/home"

python3 bench/gen.py small "$work/small"
# gen.py writes a labels.csv too; without it the folders are the only labels (ImageFolder).
rm "$work/small/labels.csv"
"$bin" -q snapshot bench/small "$work/small" > /dev/null
# 1 %: 200 files move to the next class folder.
python3 - "$work/small" <<'PY'
import os, sys
root = sys.argv[1]
for i in range(0, 20000, 100):
    c = i % 100
    split = "train" if (i // 100) % 10 < 8 else "val"
    src = os.path.join(root, split, f"class{c:03d}", f"img{i:05d}.jpg")
    os.rename(src, os.path.join(root, split, f"class{(c + 1) % 100:03d}", f"img{i:05d}.jpg"))
PY
"$bin" -q snapshot bench/small "$work/small" > /dev/null

# YOLO: 20,000 images (random bytes, 2-4 KB) and a label file each with 1-8 boxes of 80 classes.
python3 - "$work/yolo" <<'PY'
import os, random, sys
root = sys.argv[1]
rng = random.Random(3)
names = "".join(f"  {i}: class{i:02d}\n" for i in range(80))
os.makedirs(root, exist_ok=True)
open(os.path.join(root, "data.yaml"), "w").write(
    f"train: images/train\nval: images/val\nnames:\n{names}")
for i in range(20000):
    split = "train" if i % 10 < 8 else "val"
    for d in ("images", "labels"):
        os.makedirs(os.path.join(root, d, split), exist_ok=True)
    with open(os.path.join(root, "images", split, f"{i:06d}.jpg"), "wb") as f:
        f.write(rng.randbytes(rng.randint(2048, 4096)))
    lines = [f"{rng.randrange(80)} {rng.random():.4f} {rng.random():.4f} 0.1 0.1"
             for _ in range(rng.randint(1, 8))]
    open(os.path.join(root, "labels", split, f"{i:06d}.txt"), "w").write("\n".join(lines) + "\n")
PY
"$bin" -q snapshot bench/yolo "$work/yolo" > /dev/null

declare -A times
# Microseconds of one run of a command (its output dropped), appended to times[$1].
t() {
    local name=$1 s e; shift
    s=$(date +%s%N); "$@" > /dev/null; e=$(date +%s%N)
    times[$name]+="$(( (e - s) / 1000 )) "
}
median() { tr ' ' '\n' <<< "${times[$1]}" | grep . | sort -n | awk '{a[NR]=$1} END {printf "%.3f", a[int((NR+1)/2)]/1e6}'; }
cold() { rm -rf "$STRATA_HOME/cache/insight"; }
stats() { "$bin" -q stats "$@"; }

counter_paths='
import collections, os, sys
c = collections.Counter()
for d, _, files in os.walk(sys.argv[1]):
    for f in files:
        c[os.path.basename(d)] += 1
print(len(c))'
counter_yolo='
import collections, os, sys
c = collections.Counter()
for d, _, files in os.walk(os.path.join(sys.argv[1], "labels")):
    for f in files:
        for line in open(os.path.join(d, f)):
            c[line.split(" ", 1)[0]] += 1
print(len(c))'

for _ in $(seq "$reps"); do
    cold; t if-cold stats bench/small --labels imagefolder
    t if-cached stats bench/small --labels imagefolder
    cold; t yolo-cold stats bench/yolo
    t yolo-cached stats bench/yolo
    cold; t cmp-cold stats bench/small --labels imagefolder --against bench/small@1.0.0
    t cmp-cached stats bench/small --labels imagefolder --against bench/small@1.0.0
    t find sh -c "find '$work/small' -type f | wc -l"
    t counter python3 -c "$counter_paths" "$work/small"
    t counter-yolo python3 -c "$counter_yolo" "$work/yolo"
done

# The comparison found exactly the 200 moves.
moved=$("$bin" stats bench/small --labels imagefolder --against bench/small@1.0.0 --json \
    | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["moved_count"], d["cached"])')
[ "${moved%% *}" = 200 ] || { echo "expected 200 moved files, got $moved"; exit 1; }

row() { printf '%-58s %7s s  %s\n' "$1" "$(median "$2")" "${3:-}"; }
ratio() { awk -v a="$(median "$1")" -v b="$(median "$2")" 'BEGIN {printf "%.2fx %s", a / b, "'"$3"'"}'; }
echo "20,000 files; median of $reps; moved files found by the comparison, cached: $moved"
row "stats, ImageFolder, cold" if-cold "$(ratio if-cold counter 'Counter over paths')"
row "stats, ImageFolder, cached" if-cached "$(ratio if-cached find 'find | wc -l')"
row "stats, YOLO (20,000 label files), cold" yolo-cold "$(ratio yolo-cold counter-yolo 'Counter over label lines')"
row "stats, YOLO, cached" yolo-cached
row "stats --against a version 1 % apart, cold (both versions)" cmp-cold
row "stats --against, cached" cmp-cached
row "baseline: find | wc -l" find
row "baseline: Python Counter of class folders" counter
row "baseline: Python Counter of YOLO label lines" counter-yolo
rm -rf "$work"
