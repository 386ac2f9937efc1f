#!/usr/bin/env python3
"""png_stats: reads a PNG as chansim writes it (8-bit RGB or RGBA, any
filter) with the standard library only, and prints its size, the number of
distinct colours and the share of pixels that differ from the most common
one. Exit 1 if the image looks blank: fewer than MIN_COLOURS colours or
less than MIN_INK of the pixels off the ground colour.

png_stats.py FILE.png --count RRGGBB X0 Y0 X1 Y1 prints how many pixels of
that colour the box [X0, X1) x [Y0, Y1) holds."""
import struct
import sys
import zlib
from collections import Counter

MIN_COLOURS = 12
MIN_INK = 0.03


def read_png(path):
    data = open(path, "rb").read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG")
    at, idat, w = 8, b"", 0
    while at < len(data):
        (n,) = struct.unpack(">I", data[at:at + 4])
        kind, body = data[at + 4:at + 8], data[at + 8:at + 8 + n]
        if kind == b"IHDR":
            w, h, depth, ctype = struct.unpack(">IIBB", body[:10])
            if depth != 8 or ctype not in (2, 6):
                raise ValueError("unsupported PNG (depth %d, colour type %d)" % (depth, ctype))
            bpp = 3 if ctype == 2 else 4
        elif kind == b"IDAT":
            idat += body
        at += 12 + n
    raw = zlib.decompress(idat)
    stride = w * bpp
    prev = bytearray(stride)
    pixels = []
    for y in range(h):
        f = raw[y * (stride + 1)]
        row = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = row[i - bpp] if i >= bpp else 0
            b = prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            if f == 1:
                row[i] = (row[i] + a) & 255
            elif f == 2:
                row[i] = (row[i] + b) & 255
            elif f == 3:
                row[i] = (row[i] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pred = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
                row[i] = (row[i] + pred) & 255
        pixels.extend(bytes(row[i:i + 3]) for i in range(0, stride, bpp))
        prev = row
    return w, h, pixels


def count_colour(path, rgb, x0, y0, x1, y1):
    """Pixels of colour rgb (hex) in the box [x0, x1) x [y0, y1)."""
    w, h, px = read_png(path)
    want = bytes.fromhex(rgb)
    return sum(1 for y in range(y0, min(y1, h)) for x in range(x0, min(x1, w)) if px[y * w + x] == want)


def main():
    if len(sys.argv) == 8 and sys.argv[2] == "--count":
        print(count_colour(sys.argv[1], sys.argv[3], *map(int, sys.argv[4:8])))
        return 0
    w, h, px = read_png(sys.argv[1])
    counts = Counter(px)
    ground, n = counts.most_common(1)[0]
    ink = 1 - n / len(px)
    print("%s: %dx%d, %d colours, %.1f%% off the ground colour #%s"
          % (sys.argv[1], w, h, len(counts), 100 * ink, ground.hex()))
    if len(counts) < MIN_COLOURS or ink < MIN_INK:
        print("the image looks blank", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
