/*
 * coro: stackful coroutines and the stacks they run on.
 *
 * A coroutine is a saved stack pointer (or a ucontext in the portable
 * fallback) plus the stack it runs on. coro_transfer() saves the running
 * context and resumes another; nothing else changes hands. The scheduler is
 * the only caller (its code, running on the loop's stack or, at the end of
 * a step, on the goroutine's own, which then switches straight to the
 * next goroutine).
 *
 * Stacks come from a pool of slabs (one mmap per slab, never one per
 * stack), are reserved but not committed (pages are touched lazily), and
 * are reused after a goroutine exits. The first CORO_GUARDED_MAX stacks get
 * a PROT_NONE guard page below them, so an overflow faults at once and is
 * reported as "goroutine N: stack overflow". Guard pages split mappings and
 * the kernel allows about 65,530 per process, so the stacks beyond those get
 * a zero canary instead: the bytes just below the stack must still read as
 * zero whenever the goroutine is switched out. Those bytes lie in the top
 * page of the stack below, which that stack's goroutine keeps resident, so
 * the canary costs no page of its own (a parked goroutine costs its top
 * page).
 *
 * Ownership: the pool owns every slab; coro_stack_get() lends a stack until
 * coro_stack_put(). Nothing here allocates per switch.
 */
#ifndef CHANSIM_CORO_H
#define CHANSIM_CORO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#if defined(CHANSIM_CORO_UCONTEXT)
#include <ucontext.h>
#endif

/* Stacks that get a guard page; beyond this, a zero canary. */
#define CORO_GUARDED_MAX 16384
/* Bytes just below an unguarded stack that must stay zero. */
#define CORO_CANARY_BYTES 64
/* Small stacks: a pool asked for stacks below a page gets stacks of that
 * size rounded up to CORO_SMALL_STACK_ALIGN (at least CORO_SMALL_STACK_MIN),
 * packed several to a page with only the canary between them (no guard
 * page: it would cost a page each). The stack's own descriptor, and the
 * scheduler's goroutine descriptor, take a few hundred of those bytes. */
#define CORO_SMALL_STACK_MIN 1024
#define CORO_SMALL_STACK_ALIGN 256

typedef struct coro {
#if defined(CHANSIM_CORO_UCONTEXT)
    ucontext_t uc;         /* saved context of the portable fallback */
#else
    void *sp;              /* saved stack pointer while switched out */
#endif
    void *stack_lo;        /* lowest usable byte of the stack; NULL for the thread's own */
    size_t stack_size;     /* usable bytes from stack_lo */
    void *asan_fake;       /* AddressSanitizer's fake stack while switched out */
} coro_t;

typedef struct coro_stack {
    struct coro_stack *next_free; /* pool free list link; valid while pooled */
    struct coro_pool *pool;       /* the pool it belongs to */
    void *lo;                     /* lowest usable byte (above the guard page) */
    size_t size;                  /* usable bytes */
    bool guarded;                 /* a guard page lies just below lo */
    unsigned valgrind_id;         /* Valgrind's handle for the stack, if registered */
} coro_stack_t;

typedef struct coro_pool coro_pool_t;

/* Create a pool of stacks of stack_size bytes: below a page, small stacks
 * (see CORO_SMALL_STACK_MIN); else rounded up to pages, at least four.
 * Caller owns; free with coro_pool_destroy, which keeps a few slabs mapped
 * (with their guard pages) for the next pool of the same stack size, so
 * that a process making run after run maps and faults its stacks once,
 * and unmaps the others. */
coro_pool_t *coro_pool_create(size_t stack_size);
void coro_pool_destroy(coro_pool_t *pool);
size_t coro_pool_stack_size(const coro_pool_t *pool);
/* Stacks ever created by this pool (pooled or lent). */
size_t coro_pool_stack_count(const coro_pool_t *pool);

/* Borrow a stack; never NULL (out of memory is a fatal report). The
 * descriptor lives at the top of the stack itself. */
coro_stack_t *coro_stack_get(coro_pool_t *pool);
/* Return a stack to the pool. The stack must not be running. */
void coro_stack_put(coro_pool_t *pool, coro_stack_t *st);
/* The highest usable address of st (the descriptor sits just above it). */
void *coro_stack_top(const coro_stack_t *st);
/* True if an unguarded stack's canary is intact (always true if guarded). */
bool coro_stack_canary_ok(const coro_stack_t *st);
/* Start loading an unguarded stack's canary (in another page than the
 * stack's top) a step ahead of coro_stack_canary_ok. */
static inline void coro_stack_prefetch_canary(const coro_stack_t *st)
{
    if (!st->guarded)
        __builtin_prefetch((const char *)st->lo - CORO_CANARY_BYTES);
}

/* Prepare c to run fn(arg) on [lo, top) when first transferred to. fn must
 * never return: it ends by transferring away for good (coro_exit_to). */
void coro_init(coro_t *c, void *lo, void *top, void (*fn)(void *), void *arg);
/* Mark c as the thread's own context (the scheduler's). */
void coro_init_thread(coro_t *c);
/* Save the running context into from and resume to. */
void coro_transfer(coro_t *from, coro_t *to);
/* Leave a coroutine for good (its stack may be reused once to runs). */
void coro_exit_to(coro_t *from, coro_t *to);

/* Install the SIGSEGV handler that turns a guard-page fault into a clear
 * "goroutine N: stack overflow" report. who(addr) names the goroutine whose
 * guard page holds addr, or returns 0. Idempotent. */
void coro_install_overflow_handler(uint64_t (*who)(void *addr));

#endif
