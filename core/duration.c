/* duration: time.ParseDuration and Duration.String. See duration.h. */
#include "duration.h"

#include <stdio.h>
#include <string.h>

static bool fail(char *errbuf, size_t errsize, const char *fmt, const char *a, const char *b)
{
    if (errbuf && errsize)
        snprintf(errbuf, errsize, fmt, a, b);
    return false;
}

static const struct {
    const char *name;
    uint64_t ns;
} units[] = {
    {"ns", 1}, {"us", 1000}, {"\xc2\xb5s", 1000}, {"\xce\xbcs", 1000},
    {"ms", 1000000}, {"s", 1000000000}, {"m", 60000000000ull}, {"h", 3600000000000ull},
};

bool dur_parse(const char *orig, int64_t *out, char *errbuf, size_t errsize)
{
    const char *s = orig;
    bool neg = false;
    if (*s == '-' || *s == '+') {
        neg = *s == '-';
        s++;
    }
    if (strcmp(s, "0") == 0) {
        *out = 0;
        return true;
    }
    if (*s == 0)
        return fail(errbuf, errsize, "time: invalid duration \"%s\"%s", orig, "");
    uint64_t total = 0;
    const uint64_t limit = (uint64_t)1 << 63;
    while (*s) {
        if (!(*s == '.' || (*s >= '0' && *s <= '9')))
            return fail(errbuf, errsize, "time: invalid duration \"%s\"%s", orig, "");
        uint64_t v = 0;
        bool pre = false, post = false, overflow = false;
        while (*s >= '0' && *s <= '9') {
            if (v > (limit - 1) / 10)
                overflow = true;
            v = v * 10 + (uint64_t)(*s - '0');
            if (v > limit)
                overflow = true;
            s++;
            pre = true;
        }
        uint64_t frac = 0, scale = 1;
        if (*s == '.') {
            s++;
            while (*s >= '0' && *s <= '9') {
                if (scale < 1000000000000000000ull) {
                    frac = frac * 10 + (uint64_t)(*s - '0');
                    scale *= 10;
                }
                s++;
                post = true;
            }
        }
        if (!pre && !post)
            return fail(errbuf, errsize, "time: invalid duration \"%s\"%s", orig, "");
        if (overflow)
            return fail(errbuf, errsize, "time: invalid duration \"%s\"%s", orig, "");
        const char *u = s;
        while (*s && *s != '.' && !(*s >= '0' && *s <= '9'))
            s++;
        size_t ulen = (size_t)(s - u);
        if (ulen == 0)
            return fail(errbuf, errsize, "time: missing unit in duration \"%s\"%s", orig, "");
        uint64_t unit = 0;
        for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
            if (strlen(units[i].name) == ulen && memcmp(units[i].name, u, ulen) == 0)
                unit = units[i].ns;
        if (!unit) {
            char ubuf[32];
            snprintf(ubuf, sizeof ubuf, "%.*s", (int)(ulen < 31 ? ulen : 31), u);
            if (errbuf && errsize)
                snprintf(errbuf, errsize, "time: unknown unit \"%s\" in duration \"%s\"", ubuf, orig);
            return false;
        }
        if (v > limit / unit)
            return fail(errbuf, errsize, "time: invalid duration \"%s\"%s", orig, "");
        v *= unit;
        if (frac) {
            /* frac/scale of a unit, computed without floating point */
            unsigned __int128 f = (unsigned __int128)frac * unit / scale;
            v += (uint64_t)f;
            if (v > limit)
                return fail(errbuf, errsize, "time: invalid duration \"%s\"%s", orig, "");
        }
        total += v;
        if (total > limit)
            return fail(errbuf, errsize, "time: invalid duration \"%s\"%s", orig, "");
    }
    if (!neg && total > limit - 1)
        return fail(errbuf, errsize, "time: invalid duration \"%s\"%s", orig, "");
    *out = neg ? (int64_t)(0 - total) : (int64_t)total;
    return true;
}

/* Format v / 10^prec with trailing zeros of the fraction removed. */
static int put_frac(char *buf, int w, uint64_t v, int prec, uint64_t *rest)
{
    bool print = false;
    for (int i = 0; i < prec; i++) {
        int digit = (int)(v % 10);
        print = print || digit != 0;
        if (print)
            buf[--w] = (char)('0' + digit);
        v /= 10;
    }
    if (print)
        buf[--w] = '.';
    *rest = v;
    return w;
}

static int put_int(char *buf, int w, uint64_t v)
{
    if (v == 0) {
        buf[--w] = '0';
        return w;
    }
    while (v > 0) {
        buf[--w] = (char)('0' + v % 10);
        v /= 10;
    }
    return w;
}

char *dur_format(int64_t d, char *out, size_t size)
{
    char buf[32];
    int w = (int)sizeof buf;
    uint64_t u = d < 0 ? (uint64_t)0 - (uint64_t)d : (uint64_t)d;
    bool neg = d < 0;
    if (u < 1000000000ull) {
        int prec = 0;
        const char *unit;
        if (u == 0) {
            snprintf(out, size, "0s");
            return out;
        } else if (u < 1000) {
            unit = "ns";
        } else if (u < 1000000) {
            prec = 3;
            unit = "\xc2\xb5s";
        } else {
            prec = 6;
            unit = "ms";
        }
        size_t ul = strlen(unit);
        w -= (int)ul;
        memcpy(buf + w, unit, ul);
        w = put_frac(buf, w, u, prec, &u);
        w = put_int(buf, w, u);
    } else {
        buf[--w] = 's';
        w = put_frac(buf, w, u, 9, &u);
        w = put_int(buf, w, u % 60);
        u /= 60;
        if (u > 0) {
            buf[--w] = 'm';
            w = put_int(buf, w, u % 60);
            u /= 60;
            if (u > 0) {
                buf[--w] = 'h';
                w = put_int(buf, w, u);
            }
        }
    }
    if (neg)
        buf[--w] = '-';
    snprintf(out, size, "%.*s", (int)sizeof buf - w, buf + w);
    return out;
}
