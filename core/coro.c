/*
 * coro: context switches and the stack pool. See coro.h for the design:
 * slabs of lazily committed stacks, guard pages for the first
 * CORO_GUARDED_MAX stacks, a zero canary beyond them.
 */
#include "coro.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "invariant.h"
#include "mem.h"

#if defined(__SANITIZE_ADDRESS__)
#define CORO_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define CORO_ASAN 1
#endif
#endif

#ifdef CORO_ASAN
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
#endif

#if defined(__has_include)
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#define CORO_VALGRIND 1
#endif
#endif

#if !defined(CHANSIM_CORO_UCONTEXT) && !defined(__x86_64__) && !defined(__aarch64__)
#error "no assembly context switch for this architecture: configure with -DCHANSIM_CORO=ucontext"
#endif

#define SLAB_STACKS 64
/* Stacks are page-aligned, so without care every goroutine's descriptor
 * and top frames would sit at the same offset in their page and compete
 * for the same few cache sets. Stack i of a slab keeps its top (its
 * descriptor, then the goroutine's frames) STACK_COLOR_BYTES * (1 + i %
 * STACK_COLORS) bytes lower: a thousand goroutines spawned and ended in
 * turn cost about a third less. The top page still holds a parked
 * goroutine's descriptor and frames. The top STACK_COLOR_BYTES of every
 * stack are never its own: in a slab without guard pages they are the
 * next stack's canary. */
#define STACK_COLORS 32
#define STACK_COLOR_BYTES 64
_Static_assert(CORO_CANARY_BYTES <= STACK_COLOR_BYTES, "a canary fits above a descriptor");

typedef struct slab {
    struct slab *next;  /* next slab of the same pool */
    char *base;         /* start of the mapping */
    size_t bytes;       /* length of the mapping */
    char *first;        /* lowest usable byte of stack 0 */
    size_t stride;      /* bytes from one stack's lowest usable byte to the next's */
    bool guarded;       /* a guard page below each stack (see slab_add) */
    bool small;         /* stacks below a page, packed (see coro_pool_create) */
    size_t stack_size;  /* usable bytes per stack of the pool it was mapped for */
    uint64_t guards;    /* bit i: stack i's guard page is protected */
} slab_t;
_Static_assert(SLAB_STACKS <= 64, "a slab's guard pages are one bit each in a uint64_t");

/* Slabs of destroyed pools, still mapped, for the next pool of the same
 * stack size: a process that makes run after run (explore's workers)
 * neither maps nor protects again, and finds the pages its last run
 * touched still resident. At most SPARE_MAX; they keep their guard pages
 * (and their place in the process's budget of them). */
#define SPARE_MAX 8
static slab_t *spare;
static size_t nspare;

/* Where stack i of a slab keeps its descriptor. A small stack (below a
 * page, see coro_pool_create) is not coloured: small stacks share pages
 * and so sit at varied offsets already; its top STACK_COLOR_BYTES are
 * still the next stack's canary. */
static coro_stack_t *stack_desc(const slab_t *s, size_t usable, size_t i)
{
    size_t color = s->small ? STACK_COLOR_BYTES : (1 + i % STACK_COLORS) * STACK_COLOR_BYTES;
    return (coro_stack_t *)(s->first + i * s->stride + usable - color) - 1;
}

struct coro_pool {
    size_t stack_size;     /* bytes per stack: a page multiple, or small */
    size_t page;           /* system page size */
    bool small;            /* stack_size below a page: packed, canaries only */
    slab_t *slabs;         /* every slab, newest first */
    coro_stack_t *free;    /* stacks ready for reuse, most recent first */
    size_t count;          /* stacks created */
    struct coro_pool *next_pool; /* link in the list the overflow handler reads */
};

/* Guarded stacks across all pools: the mapping budget is per process. */
static size_t guarded_total;
/* Pools alive, for the overflow handler. */
static coro_pool_t *pools;

coro_pool_t *coro_pool_create(size_t stack_size)
{
    coro_pool_t *p = mem_calloc(1, sizeof *p);
    p->page = (size_t)sysconf(_SC_PAGESIZE);
    if (stack_size < p->page) {
        /* Small stacks: several to a page, no guard page (it would cost a
         * page each), only the canary between neighbours. */
        if (stack_size < CORO_SMALL_STACK_MIN)
            stack_size = CORO_SMALL_STACK_MIN;
        p->stack_size = (stack_size + CORO_SMALL_STACK_ALIGN - 1) / CORO_SMALL_STACK_ALIGN *
                        CORO_SMALL_STACK_ALIGN;
        p->small = p->stack_size < p->page;
    } else {
        if (stack_size < 4 * p->page)
            stack_size = 4 * p->page;
        p->stack_size = (stack_size + p->page - 1) / p->page * p->page;
    }
    if (!p->small && p->stack_size < 4 * p->page)
        p->stack_size = 4 * p->page;
    p->next_pool = pools;
    pools = p;
    return p;
}

void coro_pool_destroy(coro_pool_t *p)
{
    if (!p)
        return;
    for (coro_pool_t **pp = &pools; *pp; pp = &(*pp)->next_pool) {
        if (*pp == p) {
            *pp = p->next_pool;
            break;
        }
    }
    slab_t *s = p->slabs;
    while (s) {
        slab_t *next = s->next;
#ifdef CORO_VALGRIND
        for (size_t i = 0; i < SLAB_STACKS; i++)
            VALGRIND_STACK_DEREGISTER(stack_desc(s, p->stack_size, i)->valgrind_id);
#endif
        if (nspare < SPARE_MAX) {
            s->next = spare;
            spare = s;
            nspare++;
        } else {
            guarded_total -= (size_t)__builtin_popcountll(s->guards);
            munmap(s->base, s->bytes);
            free(s);
        }
        s = next;
    }
    free(p);
}

size_t coro_pool_stack_size(const coro_pool_t *p) { return p->stack_size; }
size_t coro_pool_stack_count(const coro_pool_t *p) { return p->count; }

/* Map a slab of SLAB_STACKS stacks, as one of two layouts.
 *
 * Guarded, while the process's budget of guard pages lasts: each stack is
 * a PROT_NONE guard page followed by stack_size usable bytes.
 *
 * Unguarded: the stacks follow each other with no gap, after one page.
 * Stack i's canary is the CORO_CANARY_BYTES just below its lowest usable
 * byte: the top bytes of stack i - 1, above that stack's descriptor (or of
 * the page before stack 0). Checking a canary so reads a page that its
 * neighbour's descriptor and frames keep resident anyway: a canary in the
 * stack's own bottom page would cost a page per goroutine on kernels that
 * commit a page on a read fault instead of mapping the shared zero page.
 *
 * Small stacks (below a page) are unguarded, and stack 0's canary needs
 * only CORO_CANARY_BYTES before it, not a page.
 *
 * Either way the descriptor sits in the top bytes of its stack. */
static slab_t *slab_map(coro_pool_t *p)
{
    bool guard = !p->small && guarded_total + SLAB_STACKS <= CORO_GUARDED_MAX;
    size_t stride = guard ? p->page + p->stack_size : p->stack_size;
    size_t before = guard ? 0 : p->small ? CORO_CANARY_BYTES : p->page;
    size_t bytes = (before + stride * SLAB_STACKS + p->page - 1) / p->page * p->page;
    char *base = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (base == MAP_FAILED)
        mem_oom();
    slab_t *s = mem_malloc(sizeof *s);
    s->base = base;
    s->bytes = bytes;
    s->first = base + (guard ? p->page : before);
    s->stride = stride;
    s->guarded = guard;
    s->small = p->small;
    s->stack_size = p->stack_size;
    s->guards = 0;
    for (size_t i = 0; guard && i < SLAB_STACKS; i++) {
        if (mprotect(s->first + i * stride - p->page, p->page, PROT_NONE) == 0) {
            s->guards |= (uint64_t)1 << i;
            guarded_total++;
        }
    }
    return s;
}

/* A spare slab mapped for stacks of this pool's size, or NULL. Its
 * canaries are zeroed again (a run that overflowed left them dirty). */
static slab_t *slab_spare(coro_pool_t *p)
{
    for (slab_t **sp = &spare; *sp; sp = &(*sp)->next) {
        slab_t *s = *sp;
        if (s->stack_size != p->stack_size)
            continue;
        *sp = s->next;
        nspare--;
        for (size_t i = 0; i < SLAB_STACKS; i++) {
            char *lo = s->first + i * s->stride;
#ifdef CORO_ASAN
            /* frames of goroutines abandoned at the end of the last run */
            ASAN_UNPOISON_MEMORY_REGION(lo, p->stack_size);
#endif
            if (!((s->guards >> i) & 1))
                memset(lo - CORO_CANARY_BYTES, 0, CORO_CANARY_BYTES);
        }
        return s;
    }
    return NULL;
}

static void slab_add(coro_pool_t *p)
{
    slab_t *s = slab_spare(p);
    if (!s)
        s = slab_map(p);
    s->next = p->slabs;
    p->slabs = s;
    /* Push in reverse so that stacks are handed out in address order. */
    for (size_t i = SLAB_STACKS; i-- > 0;) {
        coro_stack_t *st = stack_desc(s, p->stack_size, i);
        st->pool = p;
        st->lo = s->first + i * s->stride;
        st->size = (size_t)((char *)st - (char *)st->lo);
        st->guarded = (s->guards >> i) & 1;
#ifdef CORO_VALGRIND
        st->valgrind_id = VALGRIND_STACK_REGISTER(st->lo, (char *)st->lo + p->stack_size);
#endif
        st->next_free = p->free;
        p->free = st;
        p->count++;
    }
}

coro_stack_t *coro_stack_get(coro_pool_t *p)
{
    if (!p->free)
        slab_add(p);
    coro_stack_t *st = p->free;
    p->free = st->next_free;
    st->next_free = NULL;
    /* Spawns come in bursts: start fetching the next stack's descriptor
     * and the lines below it (where the goroutine's own descriptor will
     * go) now. */
    if (p->free) {
        char *next = (char *)p->free;
        __builtin_prefetch(next, 1);
        __builtin_prefetch(next - 64, 1);
        __builtin_prefetch(next - 128, 1);
        __builtin_prefetch(next - 192, 1);
    }
    return st;
}

void coro_stack_put(coro_pool_t *p, coro_stack_t *st)
{
#ifdef CORO_ASAN
    /* Frames that never returned (the last of every goroutine, all of an
     * abandoned one) leave poisoned redzones behind. */
    ASAN_UNPOISON_MEMORY_REGION(st->lo, st->size);
#endif
    st->next_free = p->free;
    p->free = st;
}

void *coro_stack_top(const coro_stack_t *st)
{
    return (char *)st->lo + st->size;
}

bool coro_stack_canary_ok(const coro_stack_t *st)
{
    if (st->guarded)
        return true;
    const uint64_t *w = (const uint64_t *)((const char *)st->lo - CORO_CANARY_BYTES);
    uint64_t acc = 0;
    for (size_t i = 0; i < CORO_CANARY_BYTES / sizeof *w; i++)
        acc |= w[i];
    return acc == 0;
}

/* ---- context switch ---------------------------------------------------- */

#ifdef CORO_ASAN
static coro_t *asan_from; /* the context being left, for the bounds record */
static void asan_start(coro_t *from, coro_t *to, bool exiting)
{
    asan_from = from;
    __sanitizer_start_switch_fiber(exiting ? NULL : &from->asan_fake,
                                   to->stack_lo, to->stack_size);
}
static void asan_finish(coro_t *self)
{
    const void *lo;
    size_t size;
    __sanitizer_finish_switch_fiber(self ? self->asan_fake : NULL, &lo, &size);
    if (asan_from && !asan_from->stack_lo) {
        asan_from->stack_lo = (void *)lo;
        asan_from->stack_size = size;
    }
}
#else
#define asan_start(from, to, exiting) ((void)0)
#define asan_finish(self) ((void)0)
#endif

typedef struct boot {
    void (*fn)(void *);
    void *arg;
} boot_t;

#if defined(CHANSIM_CORO_UCONTEXT)

static void coro_boot_uc(unsigned hi, unsigned lo)
{
    coro_t *c = (coro_t *)(((uintptr_t)hi << 32) | (uintptr_t)lo);
    boot_t *b = (boot_t *)((char *)c->stack_lo + c->stack_size) - 1;
    asan_finish(NULL);
    b->fn(b->arg);
    UNREACHABLE(); /* a goroutine never returns into its boot frame */
}

void coro_init(coro_t *c, void *lo, void *top, void (*fn)(void *), void *arg)
{
    boot_t *b = (boot_t *)(((uintptr_t)top & ~(uintptr_t)15)) - 1;
    b->fn = fn;
    b->arg = arg;
    c->stack_lo = lo;
    c->stack_size = (size_t)((char *)(b + 1) - (char *)lo);
    c->asan_fake = NULL;
    getcontext(&c->uc);
    c->uc.uc_stack.ss_sp = lo;
    c->uc.uc_stack.ss_size = (size_t)((char *)b - (char *)lo) & ~(size_t)15;
    c->uc.uc_link = NULL;
    uintptr_t v = (uintptr_t)c;
    makecontext(&c->uc, (void (*)(void))coro_boot_uc, 2,
                (unsigned)(v >> 32), (unsigned)(v & 0xffffffffu));
}

void coro_init_thread(coro_t *c)
{
    memset(c, 0, sizeof *c);
}

void coro_transfer(coro_t *from, coro_t *to)
{
    asan_start(from, to, false);
    swapcontext(&from->uc, &to->uc);
    asan_finish(from);
}

void coro_exit_to(coro_t *from, coro_t *to)
{
    asan_start(from, to, true);
    swapcontext(&from->uc, &to->uc);
    UNREACHABLE(); /* a finished context is never resumed */
}

#else

void chansim_coro_switch(void **save_sp, void *load_sp);
void chansim_coro_boot(void);

#ifdef CORO_ASAN
static void coro_entry(void *p)
{
    boot_t *b = p;
    asan_finish(NULL);
    b->fn(b->arg);
    UNREACHABLE(); /* a goroutine never returns into its boot frame */
}
#endif

void coro_init(coro_t *c, void *lo, void *top, void (*fn)(void *), void *arg)
{
    uintptr_t t = (uintptr_t)top & ~(uintptr_t)15;
#ifdef CORO_ASAN
    /* The first switch must end in asan_finish: start in coro_entry. */
    boot_t *b = (boot_t *)t - 1;
    b->fn = fn;
    b->arg = arg;
    t = (uintptr_t)b & ~(uintptr_t)15;
    void *entry = (void *)coro_entry, *entry_arg = b;
#else
    /* Nothing to do before fn: start in it (it never returns). */
    void *entry = (void *)fn, *entry_arg = arg;
#endif
    c->stack_lo = lo;
    c->stack_size = (size_t)(t - (uintptr_t)lo);
    c->asan_fake = NULL;
#if defined(__x86_64__)
    /* Frame popped by chansim_coro_switch: r15 r14 r13 r12 rbx rbp, then
     * the return address. After the ret, rsp = t - 16 (16-aligned), as
     * chansim_coro_boot's call needs. */
    void **sp = (void **)(t - 16) - 7;
    sp[0] = 0;                        /* r15 */
    sp[1] = 0;                        /* r14 */
    sp[2] = entry;                    /* r13: function */
    sp[3] = entry_arg;                /* r12: argument */
    sp[4] = 0;                        /* rbx */
    sp[5] = 0;                        /* rbp */
    sp[6] = (void *)chansim_coro_boot; /* return address */
    c->sp = sp;
#elif defined(__aarch64__)
    void **sp = (void **)(t - 16 - 160);
    memset(sp, 0, 160);
    sp[0] = entry_arg;                  /* x19: argument */
    sp[1] = entry;                      /* x20: function */
    sp[11] = (void *)chansim_coro_boot; /* x30: return address */
    c->sp = sp;
#endif
}

void coro_init_thread(coro_t *c)
{
    memset(c, 0, sizeof *c);
}

void coro_transfer(coro_t *from, coro_t *to)
{
    asan_start(from, to, false);
    chansim_coro_switch(&from->sp, to->sp);
    asan_finish(from);
}

void coro_exit_to(coro_t *from, coro_t *to)
{
    asan_start(from, to, true);
    chansim_coro_switch(&from->sp, to->sp);
    UNREACHABLE(); /* a finished context is never resumed */
}

#endif

/* ---- stack overflow report -------------------------------------------- */

static uint64_t (*overflow_who)(void *addr);

static bool in_guard(void *addr)
{
    for (coro_pool_t *p = pools; p; p = p->next_pool) {
        for (slab_t *s = p->slabs; s; s = s->next) {
            char *a = addr;
            if (a < s->base || a >= s->base + s->bytes)
                continue;
            if (!s->guarded)
                return false;
            size_t off = (size_t)(a - s->base) % s->stride;
            return off < p->page;
        }
    }
    return false;
}

static void overflow_handler(int sig, siginfo_t *si, void *uc)
{
    (void)uc;
    if (in_guard(si->si_addr)) {
        char buf[96];
        uint64_t id = overflow_who ? overflow_who(si->si_addr) : 0;
        int n = snprintf(buf, sizeof buf,
                         "runtime: goroutine %llu: stack overflow\n"
                         "fatal error: stack overflow\n",
                         (unsigned long long)id);
        if (n > 0 && write(2, buf, (size_t)n) < 0)
            _exit(2);
        _exit(2);
    }
    signal(sig, SIG_DFL);
    raise(sig);
}

void coro_install_overflow_handler(uint64_t (*who)(void *addr))
{
    static bool installed;
    overflow_who = who;
    if (installed)
        return;
    installed = true;
    static char altstack[64 * 1024];
    stack_t ss = {.ss_sp = altstack, .ss_size = sizeof altstack, .ss_flags = 0};
    sigaltstack(&ss, NULL);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = overflow_handler;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGSEGV, &sa, NULL);
}
