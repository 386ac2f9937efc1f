/*
 * viz_png: writes RGB images as PNG files with zlib, so that recorded
 * frames need nothing beyond SDL2, SDL2_ttf and zlib.
 *
 * The encoder is deterministic: the same pixels give the same bytes (one
 * IDAT chunk, fixed compression level and filter), which is what lets a
 * run recorded twice be compared byte for byte. The file is written under
 * a temporary name beside the final one and renamed when complete.
 */
#ifndef CHANSIM_VIZ_PNG_H
#define CHANSIM_VIZ_PNG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Write a w x h image to path. pixels holds rows of pitch_bytes bytes,
 * each pixel a 32-bit value 0xXXRRGGBB (SDL's ARGB8888 and RGB888, read
 * as integers, so byte order does not matter). Returns false and fills
 * err on failure; nothing is left at path then. */
bool viz_png_write(const char *path, const uint32_t *pixels, int w, int h, int pitch_bytes,
                   char *err, size_t errsize);

#endif
