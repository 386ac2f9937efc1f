#!/usr/bin/env python3
"""gif_stats: reads an animated GIF as chansim writes it (giflib, a local
colour map per frame) with the standard library only: checks its blocks,
counts its frames, adds up their delays, and decodes the LZW data of one
frame (the last unless given) to count its colours and the share of pixels
off the most common one.

usage: gif_stats.py FILE.gif [FRAME]
prints: "W H FRAMES DELAY_CS COLOURS INK" ; exit 1 if the GIF is malformed."""
import sys
from collections import Counter


def lzw_decode(data, min_code, npixels):
    clear, end = 1 << min_code, (1 << min_code) + 1
    out = []
    size = min_code + 1
    table = [[i] for i in range(clear)] + [None, None]
    prev = None
    bits = nbits = pos = 0
    while len(out) < npixels:
        while nbits < size:
            if pos >= len(data):
                raise ValueError("LZW data ends early")
            bits |= data[pos] << nbits
            nbits += 8
            pos += 1
        code = bits & ((1 << size) - 1)
        bits >>= size
        nbits -= size
        if code == clear:
            size = min_code + 1
            table = table[:clear + 2]
            prev = None
            continue
        if code == end:
            break
        if code < len(table) and table[code] is not None:
            entry = table[code]
            if prev is not None:
                table.append(prev + [entry[0]])
        elif prev is not None and code == len(table):
            entry = prev + [prev[0]]
            table.append(entry)
        else:
            raise ValueError("bad LZW code %d" % code)
        out.extend(entry)
        prev = entry
        if len(table) == (1 << size) and size < 12:
            size += 1
    if len(out) < npixels:
        raise ValueError("a frame has %d pixels, want %d" % (len(out), npixels))
    return out[:npixels]


def read_gif(path, want_frame=None):
    d = open(path, "rb").read()
    if d[:6] not in (b"GIF87a", b"GIF89a"):
        raise ValueError("not a GIF")
    w, h = d[6] | d[7] << 8, d[8] | d[9] << 8
    flags = d[10]
    at = 13
    if flags & 0x80:
        at += 3 * (2 << (flags & 7))
    frames, delay, last = 0, 0, None
    while True:
        if at >= len(d):
            raise ValueError("no trailer")
        b = d[at]
        if b == 0x3B:
            break
        if b == 0x21:
            label = d[at + 1]
            at += 2
            while d[at]:
                if label == 0xF9:
                    delay += d[at + 2] | d[at + 3] << 8
                at += d[at] + 1
            at += 1
        elif b == 0x2C:
            fw, fh = d[at + 5] | d[at + 6] << 8, d[at + 7] | d[at + 8] << 8
            fl = d[at + 9]
            at += 10
            pal = None
            if fl & 0x80:
                n = 2 << (fl & 7)
                pal = [tuple(d[at + 3 * i:at + 3 * i + 3]) for i in range(n)]
                at += 3 * n
            min_code = d[at]
            at += 1
            data = bytearray()
            while d[at]:
                data += d[at + 1:at + 1 + d[at]]
                at += d[at] + 1
            at += 1
            if want_frame is None or frames == want_frame:
                last = (fw, fh, pal, min_code, bytes(data))
            frames += 1
        else:
            raise ValueError("unknown block 0x%02x at %d" % (b, at))
    return w, h, frames, delay, last


def main():
    want = int(sys.argv[2]) if len(sys.argv) > 2 else None
    try:
        w, h, frames, delay, last = read_gif(sys.argv[1], want)
        if last is None:
            raise ValueError("no such frame")
        fw, fh, pal, min_code, data = last
        if pal is None:
            raise ValueError("the frame has no colour map")
        px = lzw_decode(data, min_code, fw * fh)
    except (ValueError, IndexError) as e:
        print("gif_stats: %s: %s" % (sys.argv[1], e), file=sys.stderr)
        return 1
    counts = Counter(pal[i] for i in px)
    ink = 1 - counts.most_common(1)[0][1] / len(px)
    print(w, h, frames, delay, len(counts), "%.3f" % ink)
    return 0


if __name__ == "__main__":
    sys.exit(main())
