#!/usr/bin/env bash
# Class statistics: `strata stats` of the small set (bench/gen.py: 20,000 files of 2-16 KB in 100
# class folders under train/ and val/) read as ImageFolder, cold (the statistics cache emptied
# first) and cached; of a YOLO set with 20,000 label files; and a comparison of two 20,000-file
# versions 1 % apart (200 files moved to another class folder), cold and cached. Medians of REPS
# (default 5), next to baselines measured in the same run on the same folders: `find | wc -l`,
# and Python counting classes with collections.Counter (over paths for ImageFolder, over every
# label file's lines for YOLO). Release build.
#
# Thumbnails: `strata preview REF --out DIR` over 1,000 photo-like 640×480 JPEGs (ImageMagick
# plasma, ~115 KB each), cold (thumbnail cache emptied) and cached, next to ImageMagick's
# `mogrify -thumbnail 256x256` to PNG over the same files (two processes, one per core, as strata
# uses both). Needs ImageMagick (`apt-get install imagemagick`); generating the JPEGs takes ~1.5 min.
#
# COCO (COCO=1; ~2 min to generate, 450 MB in $TMPDIR): `strata stats` cold of a version holding
# only annotations/instances_train2017.json shaped like the real one (bench/gen_coco.py: 118k
# images, 860k annotations), with its peak RSS from /usr/bin/time -v, next to Python's
# `json.load` + `collections.Counter` of the category ids on the same file. Medians of COCO_REPS
# (default 3).
#
# PARTS (default "stats thumbs") picks the parts; COCO=1 adds "coco". Generated data is removed.
set -euo pipefail
cd "$(dirname "$0")/.."
bin="${STRATA_BIN:-${CARGO_TARGET_DIR:-target}/release/strata}"
[ -x "$bin" ] || cargo build --release -p strata-cli
reps="${REPS:-5}"
work="${TMPDIR:-/tmp}/strata-insight"
rm -rf "$work"; mkdir -p "$work"
export STRATA_HOME="$work/home"

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

row() { printf '%-58s %7s s  %s\n' "$1" "$(median "$2")" "${3:-}"; }
ratio() { awk -v a="$(median "$1")" -v b="$(median "$2")" 'BEGIN {printf "%.2fx %s", a / b, "'"$3"'"}'; }
parts="${PARTS:-stats thumbs}"
[ "${COCO:-0}" = 1 ] && parts="$parts coco"
has() { [[ " $parts " == *" $1 "* ]]; }

bench_stats() {
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
}

bench_thumbs() {
    local photos="$work/photos" out="$work/thumbs" n=1000 im
    # The real ImageMagick, not a stand-in of the same name earlier on PATH.
    im=$(command -v /usr/bin/convert || true)
    "${im:-false}" -version 2> /dev/null | grep -q ImageMagick || {
        echo "thumbnails: ImageMagick is needed (apt-get install imagemagick)"; return 1; }
    mkdir -p "$photos"
    # Plasma fractals: smooth colour with fine grain, compressing like photos (~115 KB at q90).
    seq 0 $((n - 1)) | xargs -P 2 -I{} sh -c \
        'f=$(printf "%s/img%04d.jpg" "$1" "$2"); /usr/bin/convert -seed "$2" -size 640x480 plasma:fractal -quality 90 "$f"' \
        _ "$photos" {}
    "$bin" -q snapshot bench/photos "$photos" > /dev/null
    local mean
    mean=$(du -sb "$photos" | awk -v n="$n" '{printf "%.0f", $1 / n / 1000}')
    for _ in $(seq "$reps"); do
        rm -rf "$STRATA_HOME/cache/thumbs" "$out"
        t thumbs-cold "$bin" -q preview bench/photos --out "$out"
        t thumbs-cached "$bin" -q preview bench/photos --out "$out"
        rm -rf "$work/im"; mkdir -p "$work/im"
        t mogrify sh -c "ls '$photos'/*.jpg | xargs -P 2 -n $((n / 2)) /usr/bin/mogrify -path '$work/im' -format png -thumbnail 256x256"
    done
    local got made
    got=$(find "$out" -name '*.png' | wc -l)
    made=$(find "$work/im" -name '*.png' | wc -l)
    [ "$got" = "$n" ] && [ "$made" = "$n" ] || { echo "expected $n thumbnails, got $got (ImageMagick $made)"; return 1; }
    per_s() { awk -v s="$(median "$1")" -v n="$n" 'BEGIN {printf "%.0f/s", n / s}'; }
    echo
    echo "$n JPEGs of 640×480 (mean $mean KB) to 256-pixel PNG thumbnails; median of $reps"
    row "preview --out DIR, cold (thumbnail cache emptied)" thumbs-cold "$(per_s thumbs-cold); $(ratio thumbs-cold mogrify 'mogrify')"
    row "preview --out DIR, cached" thumbs-cached "$(per_s thumbs-cached)"
    row "baseline: mogrify -thumbnail 256x256 to PNG, 2 processes" mogrify "$(per_s mogrify)"
    rm -rf "$photos" "$out" "$work/im"
}

bench_coco() {
    local dir="$work/coco" json
    json="$dir/annotations/instances_train2017.json"
    mkdir -p "$dir/annotations"
    local s e
    s=$(date +%s); python3 bench/gen_coco.py "$json"; e=$(date +%s)
    echo
    echo "COCO: generated $(du -m "$json" | cut -f1) MB in $((e - s)) s"
    "$bin" -q snapshot bench/coco "$dir" > /dev/null
    local format rss
    format=$("$bin" stats bench/coco --json | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["source"]["format"], len(d["classes"]), d["totals"]["instances"])')
    [ "${format%% *}" = coco ] || { echo "expected the COCO file to be detected, got: $format"; return 1; }
    local counter_coco='
import collections, json, sys
d = json.load(open(sys.argv[1]))
c = collections.Counter(a["category_id"] for a in d["annotations"] if not a.get("iscrowd"))
print(len(c))'
    for _ in $(seq "${COCO_REPS:-3}"); do
        cold; sync
        t coco-cold /usr/bin/time -v -o "$work/rss" "$bin" -q stats bench/coco
        rss=$(awk -F': ' '/Maximum resident/ {print $2}' "$work/rss")
        times[coco-rss]+="$rss "
        t coco-py /usr/bin/time -v -o "$work/rss-py" python3 -c "$counter_coco" "$json"
        rss=$(awk -F': ' '/Maximum resident/ {print $2}' "$work/rss-py")
        times[coco-py-rss]+="$rss "
    done
    # /usr/bin/time gives KiB.
    mib() { tr ' ' '\n' <<< "${times[$1]}" | grep . | sort -n | awk '{a[NR]=$1} END {printf "%.0f MiB", a[int((NR+1)/2)]/1024}'; }
    echo "detected: $format (format, classes, instances); median of ${COCO_REPS:-3}"
    row "stats, COCO instances_train2017-sized, cold" coco-cold "peak RSS $(mib coco-rss); $(ratio coco-cold coco-py 'json.load + Counter')"
    row "baseline: Python json.load + collections.Counter" coco-py "peak RSS $(mib coco-py-rss)"
    rm -rf "$dir"
}

# `if`, not `&&`: a function run as part of an `&&` list would not stop at its first failure.
if has stats; then bench_stats; fi
if has thumbs; then bench_thumbs; fi
if has coco; then bench_coco; fi
rm -rf "$work"
