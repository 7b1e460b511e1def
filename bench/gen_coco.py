#!/usr/bin/env python3
"""Writes a COCO instances file shaped like instances_train2017.json (118k images, 860k
annotations with polygon segmentations, ~450 MB) to measure `strata stats` on it.

    python3 bench/gen_coco.py OUT.json [--images 118287] [--annotations 860001]
"""
import argparse
import random

# COCO's 80 categories use ids 1..90 with gaps.
COCO_IDS = [i for i in range(1, 91) if i not in (12, 26, 29, 30, 45, 66, 68, 69, 71, 83)]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--images", type=int, default=118_287)
    ap.add_argument("--annotations", type=int, default=860_001)
    ap.add_argument("--points", type=int, default=30, help="polygon points per annotation")
    a = ap.parse_args()
    rnd = random.Random(7)
    with open(a.out, "w") as f:
        f.write('{"info": {"description": "synthetic", "year": 2017}, "licenses": [{"id": 1, "name": "x"}],\n')
        f.write('"images": [')
        for i in range(a.images):
            if i:
                f.write(",")
            f.write(
                '{"license": 1, "file_name": "%012d.jpg", "coco_url": "http://images.example/train2017/%012d.jpg", '
                '"height": %d, "width": %d, "date_captured": "2013-11-14 11:18:45", "id": %d}'
                % (i + 1, i + 1, rnd.randint(200, 640), rnd.randint(200, 640), i + 1)
            )
        f.write('],\n"annotations": [')
        for k in range(a.annotations):
            if k:
                f.write(",")
            crowd = 1 if k % 100 == 0 else 0
            # ~1 % of images get no annotation: ids drawn from the first 99 %.
            image_id = rnd.randint(1, max(1, a.images * 99 // 100))
            cat = COCO_IDS[min(int(rnd.expovariate(0.08)), len(COCO_IDS) - 1)]
            x, y = rnd.uniform(0, 500), rnd.uniform(0, 400)
            if crowd:
                seg = '{"counts": [%s], "size": [480, 640]}' % ",".join(str(rnd.randint(0, 300)) for _ in range(40))
            else:
                pts = ",".join("%.2f" % (rnd.uniform(0, 640)) for _ in range(2 * a.points))
                seg = "[[%s]]" % pts
            f.write(
                '{"segmentation": %s, "area": %.4f, "iscrowd": %d, "image_id": %d, '
                '"bbox": [%.2f, %.2f, %.2f, %.2f], "category_id": %d, "id": %d}'
                % (seg, rnd.uniform(10, 50000), crowd, image_id, x, y, rnd.uniform(5, 100), rnd.uniform(5, 100), cat, k + 1)
            )
        f.write('],\n"categories": [')
        f.write(",".join('{"supercategory": "s", "id": %d, "name": "class%d"}' % (c, c) for c in COCO_IDS))
        f.write("]}\n")


if __name__ == "__main__":
    main()
