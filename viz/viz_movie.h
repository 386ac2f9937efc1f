/*
 * viz_movie: recorded frames as one file for slides: an animated GIF
 * (giflib) or, when ffmpeg is installed, an MP4 video (H.264, frames piped
 * to ffmpeg).
 *
 * A GIF is deterministic: the same frames give the same bytes (each frame
 * quantized to its own 256 colours by giflib's median cut, delays from
 * the frame rate in hundredths of a second without drift, looping for
 * ever). It is written under a temporary name beside the final one and
 * renamed when complete. An MP4 is ffmpeg's, byte-identical only as far
 * as ffmpeg is.
 *
 * Ownership: viz_movie_open returns a movie that viz_movie_close finishes
 * and frees (or viz_movie_abort, leaving nothing at the path).
 */
#ifndef CHANSIM_VIZ_MOVIE_H
#define CHANSIM_VIZ_MOVIE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct viz_movie viz_movie_t;

/* A path that names a movie (ends in .gif or .mp4, any case) rather than
 * a folder of PNG frames. */
bool viz_movie_path(const char *path);
/* Start a w x h movie of fps frames a second. NULL and err filled on
 * failure (no ffmpeg for an MP4, a folder that does not exist). */
viz_movie_t *viz_movie_open(const char *path, int w, int h, int fps, char *err, size_t errsize);
/* Add a frame: rows of pitch_bytes bytes of 0xXXRRGGBB pixels. */
bool viz_movie_add(viz_movie_t *m, const uint32_t *pixels, int pitch_bytes, char *err, size_t errsize);
/* Finish the file and free m. */
bool viz_movie_close(viz_movie_t *m, char *err, size_t errsize);
/* Give up: nothing is left at the path; frees m. NULL is ignored. */
void viz_movie_abort(viz_movie_t *m);

#endif
