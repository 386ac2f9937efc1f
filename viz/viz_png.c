/* viz_png: a small deterministic PNG encoder on zlib. See viz_png.h. */
#include "viz_png.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

static void put32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 24);
    p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
}

/* One chunk: length, type, data, CRC of type and data. */
static bool chunk(FILE *f, const char *type, const unsigned char *data, size_t len)
{
    unsigned char head[8], crcb[4];
    put32(head, (uint32_t)len);
    memcpy(head + 4, type, 4);
    uLong crc = crc32(0L, Z_NULL, 0);
    crc = crc32(crc, (const Bytef *)type, 4);
    if (len)
        crc = crc32(crc, data, (uInt)len);
    put32(crcb, (uint32_t)crc);
    return fwrite(head, 1, 8, f) == 8 && (len == 0 || fwrite(data, 1, len, f) == len) &&
           fwrite(crcb, 1, 4, f) == 4;
}

bool viz_png_write(const char *path, const uint32_t *pixels, int w, int h, int pitch_bytes,
                   char *err, size_t errsize)
{
    bool ok = false;
    FILE *f = NULL;
    unsigned char *raw = NULL, *z = NULL;
    size_t tmplen = strlen(path) + 8;
    char *tmp = malloc(tmplen);
    if (!tmp) {
        snprintf(err, errsize, "out of memory");
        return false;
    }
    snprintf(tmp, tmplen, "%s.part", path);
    /* Filtered rows: a filter byte (1: Sub) then RGB triples. Sub makes
     * the flat areas of a frame compress well. */
    size_t row = (size_t)w * 3 + 1;
    size_t rawlen = row * (size_t)h;
    raw = malloc(rawlen);
    uLongf zlen = compressBound((uLong)rawlen);
    z = malloc(zlen);
    if (!raw || !z) {
        snprintf(err, errsize, "out of memory");
        goto out;
    }
    for (int y = 0; y < h; y++) {
        const uint32_t *src = (const uint32_t *)((const unsigned char *)pixels + (size_t)y * (size_t)pitch_bytes);
        unsigned char *d = raw + (size_t)y * row;
        d[0] = 1;
        unsigned char pr = 0, pg = 0, pb = 0;
        for (int x = 0; x < w; x++) {
            uint32_t p = src[x];
            unsigned char r = (unsigned char)(p >> 16), g = (unsigned char)(p >> 8), b = (unsigned char)p;
            d[1 + 3 * x] = (unsigned char)(r - pr);
            d[2 + 3 * x] = (unsigned char)(g - pg);
            d[3 + 3 * x] = (unsigned char)(b - pb);
            pr = r;
            pg = g;
            pb = b;
        }
    }
    if (compress2(z, &zlen, raw, (uLong)rawlen, 6) != Z_OK) {
        snprintf(err, errsize, "zlib could not compress the frame");
        goto out;
    }
    f = fopen(tmp, "wb");
    if (!f) {
        snprintf(err, errsize, "cannot create %s: %s", tmp, strerror(errno));
        goto out;
    }
    static const unsigned char sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    unsigned char ihdr[13];
    put32(ihdr, (uint32_t)w);
    put32(ihdr + 4, (uint32_t)h);
    ihdr[8] = 8;  /* bit depth */
    ihdr[9] = 2;  /* colour type: truecolour */
    ihdr[10] = 0; /* deflate */
    ihdr[11] = 0; /* adaptive filtering */
    ihdr[12] = 0; /* no interlace */
    if (fwrite(sig, 1, 8, f) != 8 || !chunk(f, "IHDR", ihdr, sizeof ihdr) ||
        !chunk(f, "IDAT", z, zlen) || !chunk(f, "IEND", NULL, 0)) {
        snprintf(err, errsize, "cannot write %s: %s", tmp, strerror(errno));
        goto out;
    }
    if (fclose(f) != 0) {
        f = NULL;
        snprintf(err, errsize, "cannot write %s: %s", tmp, strerror(errno));
        goto out;
    }
    f = NULL;
    if (rename(tmp, path) != 0) {
        snprintf(err, errsize, "cannot rename %s to %s: %s", tmp, path, strerror(errno));
        goto out;
    }
    ok = true;
out:
    if (f)
        fclose(f);
    if (!ok)
        remove(tmp);
    free(tmp);
    free(raw);
    free(z);
    return ok;
}
