/*
 * mem: libc's allocators with one out-of-memory report. See mem.h.
 *
 * A zero-byte request is passed on as 1 byte where libc may return NULL for
 * it, so that the family's results are never NULL except where mem.h says so
 * (mem_realloc to size 0, which frees).
 */
#include "mem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void mem_oom(void)
{
    fputs("chansim: out of memory\n", stderr);
    abort();
}

void *mem_malloc(size_t size)
{
    void *p = malloc(size ? size : 1);
    if (!p)
        mem_oom();
    return p;
}

void *mem_calloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p)
        mem_oom();
    return p;
}

void *mem_realloc(void *p, size_t size)
{
    if (size == 0) {
        free(p);
        return NULL;
    }
    void *q = realloc(p, size);
    if (!q)
        mem_oom();
    return q;
}

char *mem_strdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *p = mem_malloc(n);
    memcpy(p, s, n);
    return p;
}

char *mem_strndup(const char *s, size_t n)
{
    size_t len = strnlen(s, n);
    char *p = mem_malloc(len + 1);
    memcpy(p, s, len);
    p[len] = 0;
    return p;
}
