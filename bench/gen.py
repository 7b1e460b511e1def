#!/usr/bin/env python3
"""Generates the benchmark datasets.

small: 20,000 files of 2-16 KB in 100 class folders (train/val split) plus labels.csv (~180 MB)
large: 8 files of 128 MB
Content is pseudo-random (incompressible, all distinct) and reproducible from a seed.
"""
import os
import random
import sys


def small(root, files=20000, classes=100, seed=1):
    rng = random.Random(seed)
    os.makedirs(root, exist_ok=True)
    rows = ["path,label"]
    for i in range(files):
        c = i % classes
        split = "train" if (i // classes) % 10 < 8 else "val"
        d = os.path.join(root, split, f"class{c:03d}")
        os.makedirs(d, exist_ok=True)
        size = rng.randint(2048, 16384)
        name = f"img{i:05d}.jpg"
        with open(os.path.join(d, name), "wb") as f:
            f.write(rng.randbytes(size))
        rows.append(f"{split}/class{c:03d}/{name},class{c:03d}")
    with open(os.path.join(root, "labels.csv"), "w") as f:
        f.write("\n".join(rows) + "\n")


def large(root, files=8, mb=128, seed=2):
    rng = random.Random(seed)
    os.makedirs(root, exist_ok=True)
    chunk = 8 << 20
    for i in range(files):
        with open(os.path.join(root, f"shard{i}.bin"), "wb") as f:
            for _ in range((mb << 20) // chunk):
                f.write(rng.randbytes(chunk))


if __name__ == "__main__":
    which, root = sys.argv[1], sys.argv[2]
    {"small": small, "large": large}[which](root)
