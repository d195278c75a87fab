#!/usr/bin/env python3
"""MNIST as a scanner sees it: dark ink on white paper (every pixel 255 - v), written as IDX files.

Bright backgrounds are what cameras and scanners deliver; they put every input of a first layer
near 255, where x86's vpmaddubsw pair sums saturate (docs/results/hardware-profiles.md).
    scripts/ink-on-paper.py data/mnist out/mnist-ink
"""
import os
import sys

src, dst = sys.argv[1], sys.argv[2]
os.makedirs(dst, exist_ok=True)
for split in ("train", "t10k"):
    with open(os.path.join(src, f"{split}-images-idx3-ubyte"), "rb") as f:
        data = f.read()
    if data[:4] != b"\x00\x00\x08\x03":
        sys.exit(f"{src}/{split}-images-idx3-ubyte: not an IDX file of unsigned bytes in 3 dimensions")
    with open(os.path.join(dst, f"{split}-images-idx3-ubyte"), "wb") as f:
        f.write(data[:16] + bytes(255 - b for b in data[16:]))
    with open(os.path.join(src, f"{split}-labels-idx1-ubyte"), "rb") as f, \
            open(os.path.join(dst, f"{split}-labels-idx1-ubyte"), "wb") as g:
        g.write(f.read())
