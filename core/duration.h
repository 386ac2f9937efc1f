/*
 * duration: Go's duration syntax on simulated nanoseconds.
 *
 * dur_parse follows time.ParseDuration: a possibly signed sequence of
 * decimal numbers, each with an optional fraction and a unit ("ns", "us",
 * "µs", "ms", "s", "m", "h"), such as "300ms", "-1.5h" or "2h45m"; "0"
 * alone needs no unit. dur_format follows Duration.String ("1h2m0.5s",
 * "250ms", "0s"). Integer arithmetic only, so every platform agrees.
 */
#ifndef CHANSIM_DURATION_H
#define CHANSIM_DURATION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Parse s into *out. On failure returns false and sets *err to Go's
 * message ("time: invalid duration \"x\"", "time: missing unit in duration
 * \"5\"", "time: unknown unit \"q\" in duration \"5q\""), written into
 * errbuf of errsize bytes. */
bool dur_parse(const char *s, int64_t *out, char *errbuf, size_t errsize);
/* Format d as Go's Duration.String; returns buf. buf needs 32 bytes. */
char *dur_format(int64_t d, char *buf, size_t size);

#endif
