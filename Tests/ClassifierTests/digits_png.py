#!/usr/bin/env python3
"""Renders scikit-learn's handwritten digits (8×8, 0–16) as 32×32 grey PNGs, dark ink on white, written by hand
(zlib + struct, no imaging library). Usage: digits_png.py OUTDIR  → OUTDIR/digit-NNNN.png and OUTDIR/labels.json"""
import json
import os
import struct
import sys
import zlib

from sklearn import datasets


def png(width, height, grey_rows):
    def chunk(kind, data):
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)
    raw = b"".join(b"\x00" + bytes(row) for row in grey_rows)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    digits = datasets.load_digits()
    labels = {}
    for i, (image, target) in enumerate(zip(digits.images, digits.target)):
        rows = []
        for y in range(32):
            rows.append([255 - int(image[y // 4][x // 4] * 255 / 16) for x in range(32)])
        key = f"digit-{i:04d}"
        with open(os.path.join(out, key + ".png"), "wb") as f:
            f.write(png(32, 32, rows))
        labels[key] = str(int(target))
    with open(os.path.join(out, "labels.json"), "w") as f:
        json.dump(labels, f)
    print(len(labels))


main()
