/*
 * mem: the one allocator family of core, sim and the view.
 *
 * mem_malloc, mem_calloc, mem_realloc and mem_strdup behave as their libc
 * namesakes except that they never return NULL for a request they could not
 * meet: running out of memory ends the process with one message,
 * "chansim: out of memory", and abort() (the simulation cannot go on with a
 * half-built object, and every caller would otherwise repeat the check).
 * A request of zero bytes is not a failure: mem_malloc(0) and
 * mem_realloc(p, 0) may return NULL, as libc's do, and callers treat the
 * result as an empty block. Memory from this family is released with free().
 *
 * Simulated programs do not run out of memory through this path: a pattern
 * that models exhaustion reports it as Go would (go_fatal), not here.
 */
#ifndef CHANSIM_MEM_H
#define CHANSIM_MEM_H

#include <stddef.h>

void *mem_malloc(size_t size) __attribute__((malloc, returns_nonnull));
void *mem_calloc(size_t n, size_t size) __attribute__((malloc, returns_nonnull));
/* As realloc; NULL only when size is 0 (p is then freed, as by realloc). */
void *mem_realloc(void *p, size_t size);
/* A copy of s; s must not be NULL. */
char *mem_strdup(const char *s) __attribute__((malloc, returns_nonnull));
/* A copy of the first n bytes of s (fewer if s ends first), terminated. */
char *mem_strndup(const char *s, size_t n) __attribute__((malloc, returns_nonnull));

/* End the process with the out-of-memory message. For allocations made
 * outside this family (a library's own allocator, mmap). */
void mem_oom(void) __attribute__((noreturn, cold));

#endif
