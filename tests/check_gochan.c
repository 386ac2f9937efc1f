/*
 * Go's own channel test programs, ported to chansim's C API: the `run`
 * programs of golang/go test/chan/ (sieve1, sieve2, powser1, fifo,
 * goroutines, doubleselect, nonblock, select, select3, select6, select7,
 * select8, zerosize, and the run-time counterpart of perm) and the channel
 * tests of src/runtime/chan_test.go (TestChan, TestNonblockRecvRace,
 * TestNonblockSelectRace{,2}, TestSelfSelect, TestSelectStress,
 * TestMultiConsumer, TestSelectDuplicateChannel).
 *
 * Each port keeps its Go program's structure and names, with the Go file
 * named in a comment above it, so that a student can hold the two side by
 * side. Because the ports share one file, a program's top-level names carry
 * the program's name as a prefix (sieve1_Sieve, fifo_Chain); powser1, a
 * small library of its own, keeps its names bare. Go's closures become a
 * function plus a struct of the variables they capture. A Go panic is
 * go_panic with the same message (after the same println on stderr), a
 * t.Fatalf is a go_panic too, and a passing Go `run` test (exit 0, no
 * output) is a run that ends SCHED_DONE with an empty report. Memory that
 * Go leaves to its garbage collector (new(T), escaping variables, slices)
 * comes from gc_new and is freed after the run.
 *
 * Every program runs under the FIFO policy and under SCHED_RANDOM with
 * several seeds, one Check loop iteration each. The programs are correct,
 * so their results do not depend on the schedule: any failure under any
 * policy is a runtime bug. Iteration counts are Go's own except where a
 * comment says otherwise (TestSelectStress and TestNonblockSelectRace{,2}
 * run ten times fewer); no assertion is dropped. The suite adds its own
 * typed assertions on what each program computed (the primes, the power
 * series coefficients, the counts) after the run.
 */
#include <setjmp.h>
#include <stdalign.h>

#include "testutil.h"

/* ---- the harness -------------------------------------------------------- */

/* Go's garbage-collected memory: blocks live until gc_free_all, which the
 * harness calls after the scheduler is destroyed. */
typedef struct gc_block {
    struct gc_block *next;  /* the previously allocated block */
    max_align_t data[];     /* the caller's bytes, zeroed */
} gc_block_t;

static gc_block_t *gc_blocks;

static void *gc_new(size_t size)
{
    gc_block_t *b = calloc(1, sizeof *b + size);
    if (!b)
        abort();
    b->next = gc_blocks;
    gc_blocks = b;
    return b->data;
}

static void *gc_dup(const void *p, size_t size)
{
    void *q = gc_new(size);
    memcpy(q, p, size);
    return q;
}

static void gc_free_all(void)
{
    while (gc_blocks) {
        gc_block_t *next = gc_blocks->next;
        free(gc_blocks);
        gc_blocks = next;
    }
}

/* go fn(args...): the arguments (a closure's captured variables) are copied
 * at the go statement, as Go evaluates them there. */
#define GO(fn, name, type, ...) \
    go_spawn((fn), gc_dup(&(type){__VA_ARGS__}, sizeof(type)), (name))

/* Select cases, written as Go's `case c <- v` and `case v = <-c`. */
#define SEND(c, p) {.ch = (c), .dir = SELECT_SEND, .elem = (p)}
#define RECV(c, p) {.ch = (c), .dir = SELECT_RECV, .elem = (p)}

/* The policies every program runs under. */
typedef struct policy {
    sched_policy_t policy;  /* FIFO or RANDOM */
    uint64_t seed;          /* the run's seed */
} policy_t;

static const policy_t policies[] = {
    {SCHED_FIFO, 1},   {SCHED_RANDOM, 1}, {SCHED_RANDOM, 2},
    {SCHED_RANDOM, 3}, {SCHED_RANDOM, 4}, {SCHED_RANDOM, 5},
};
#define NPOLICIES ((int)(sizeof policies / sizeof policies[0]))

static sched_config_t policy_config(int i)
{
    sched_config_t cfg = sched_config_default();
    cfg.policy = policies[i].policy;
    cfg.seed = policies[i].seed;
    return cfg;
}

static const char *policy_name(int i)
{
    return policies[i].policy == SCHED_FIFO ? "fifo" : "random";
}

/* Run fn as main under policy i and assert that it passed as a Go `run`
 * test passes: main returned, no panic, no fatal error, no deadlock. */
static void run_clean(int i, void (*fn)(void *), void *arg)
{
    sched_config_t cfg = policy_config(i);
    sched_result_t r;
    sched_t *s = run_with(&cfg, fn, arg, &r);
    ck_assert_msg(r == SCHED_DONE && sched_report(s)[0] == 0, "policy %s seed %llu: %s\n%.4000s",
                  policy_name(i), (unsigned long long)policies[i].seed, sched_result_string(r),
                  sched_report(s));
    sched_destroy(s);
    gc_free_all();
}

/* Run fn as main under policy i and assert that the run ended with want
 * and that the report contains needle. */
static void run_expect(int i, void (*fn)(void *), void *arg, sched_result_t want,
                       const char *needle)
{
    sched_config_t cfg = policy_config(i);
    sched_result_t r;
    sched_t *s = run_with(&cfg, fn, arg, &r);
    ck_assert_msg(r == want, "policy %s seed %llu: want %s, got %s\n%.4000s", policy_name(i),
                  (unsigned long long)policies[i].seed, sched_result_string(want),
                  sched_result_string(r), sched_report(s));
    ck_assert_msg(strstr(sched_report(s), needle), "want \"%s\" in:\n%.4000s", needle,
                  sched_report(s));
    sched_destroy(s);
    gc_free_all();
}

static void send_bool(chan_t *c, bool v) { chan_send(c, &v); }

static bool recv_bool(chan_t *c)
{
    bool v = false;
    chan_recv(c, &v);
    return v;
}

/* os.Exit(code): the run stops (SCHED_EXITED) and so fails the harness. */
static void os_Exit(int code)
{
    (void)code;
    sched_exit(sched_current());
    go_exit();
}

static const int64_t first25[25] = {2,  3,  5,  7,  11, 13, 17, 19, 23, 29, 31, 37, 41,
                                    43, 47, 53, 59, 61, 67, 71, 73, 79, 83, 89, 97};

/* ==== test/chan/sieve1.go ================================================ */
/* Generate primes up to 100 using channels, checking the results. This
 * sieve consists of a linear chain of divisibility filters, equivalent to
 * trial-dividing each n by all primes p <= n. */

/* Send the sequence 2, 3, 4, ... to channel 'ch'. */
static void sieve1_Generate(void *arg)
{
    chan_t *ch = arg;
    for (int64_t i = 2;; i++)
        chan_send_i64(ch, i); /* Send 'i' to channel 'ch'. */
}

typedef struct sieve1_filter_args {
    chan_t *in, *out;  /* <-chan int, chan<- int */
    int64_t prime;     /* the divisor this filter removes */
} sieve1_filter_args;

/* Copy the values from channel 'in' to channel 'out', removing those
 * divisible by 'prime'. */
static void sieve1_Filter(void *arg)
{
    sieve1_filter_args *a = arg;
    int64_t i;
    while (chan_recv(a->in, &i)) { /* Loop over values received from 'in'. */
        if (i % a->prime != 0)
            chan_send_i64(a->out, i); /* Send 'i' to channel 'out'. */
    }
}

/* The prime sieve: Daisy-chain Filter processes together. */
static void sieve1_Sieve(void *arg)
{
    chan_t *primes = arg;
    chan_t *ch = chan_make(sizeof(int64_t), 0);     /* Create a new channel. */
    go_spawn(sieve1_Generate, ch, "main.Generate"); /* Start Generate() as a subprocess. */
    for (;;) {
        /* Note that ch is different on each iteration. */
        int64_t prime = chan_recv_i64(ch, NULL);
        chan_send_i64(primes, prime);
        chan_t *ch1 = chan_make(sizeof(int64_t), 0);
        GO(sieve1_Filter, "main.Filter", sieve1_filter_args, .in = ch, .out = ch1, .prime = prime);
        ch = ch1;
    }
}

static int64_t sieve1_got[25];

static void sieve1_main(void *arg)
{
    (void)arg;
    memset(sieve1_got, 0, sizeof sieve1_got);
    chan_t *primes = chan_make(sizeof(int64_t), 0);
    go_spawn(sieve1_Sieve, primes, "main.Sieve");
    const int64_t *a = first25;
    for (int i = 0; i < 25; i++) {
        int64_t x = chan_recv_i64(primes, NULL);
        sieve1_got[i] = x;
        if (x != a[i]) {
            fprintf(stderr, "%lld  !=  %lld\n", (long long)x, (long long)a[i]);
            go_panic("fail");
        }
    }
}

START_TEST(sieve1_go)
{
    run_clean(_i, sieve1_main, NULL);
    for (int i = 0; i < 25; i++)
        ck_assert_int_eq(sieve1_got[i], first25[i]);
}
END_TEST

/* ==== test/chan/sieve2.go ================================================ */
/* Generate primes up to 100 using channels, checking the results. This
 * sieve is Eratosthenesque and only considers odd candidates. */

/* container/ring, as much as sendproxy uses. */
typedef struct sieve2_Ring {
    struct sieve2_Ring *next, *prev;  /* the circular list */
    int64_t Value;                    /* the element (Go: any, here int) */
} sieve2_Ring;

static sieve2_Ring *sieve2_ring_New(int n)
{
    sieve2_Ring *r = gc_new(sizeof *r);
    sieve2_Ring *p = r;
    for (int i = 1; i < n; i++) {
        sieve2_Ring *q = gc_new(sizeof *q);
        q->prev = p;
        p->next = q;
        p = q;
    }
    p->next = r;
    r->prev = p;
    return r;
}

static sieve2_Ring *sieve2_ring_Next(sieve2_Ring *r) { return r->next; }

/* r.Link(s): connect ring s after r; returns r's old successor. */
static sieve2_Ring *sieve2_ring_Link(sieve2_Ring *r, sieve2_Ring *s)
{
    sieve2_Ring *n = r->next;
    sieve2_Ring *p = s->prev;
    r->next = s;
    s->prev = r;
    n->prev = p;
    p->next = n;
    return n;
}

typedef struct sieve2_odds_args {
    chan_t *out;  /* where the odd numbers go */
} sieve2_odds_args;

static void sieve2_odds_func1(void *arg)
{
    chan_t *out = ((sieve2_odds_args *)arg)->out;
    int64_t n = 5;
    for (;;) {
        chan_send_i64(out, n);
        n += 2;
    }
}

/* Return a chan of odd numbers, starting from 5. */
static chan_t *sieve2_odds(void)
{
    chan_t *out = chan_make(sizeof(int64_t), 50);
    GO(sieve2_odds_func1, "main.odds.func1", sieve2_odds_args, .out = out);
    return out;
}

typedef struct sieve2_multiples_args {
    chan_t *out;  /* where the multiples go */
    int64_t p;    /* the prime */
} sieve2_multiples_args;

static void sieve2_multiples_func1(void *arg)
{
    sieve2_multiples_args *a = arg;
    int64_t n = a->p * a->p;
    for (;;) {
        chan_send_i64(a->out, n);
        n += 2 * a->p;
    }
}

/* Return a chan of odd multiples of the prime number p, starting from p*p. */
static chan_t *sieve2_multiples(int64_t p)
{
    chan_t *out = chan_make(sizeof(int64_t), 10);
    GO(sieve2_multiples_func1, "main.multiples.func1", sieve2_multiples_args, .out = out, .p = p);
    return out;
}

typedef struct sieve2_PeekCh {
    int64_t head;  /* the next value of ch, already received */
    chan_t *ch;    /* the rest of the multiples */
} sieve2_PeekCh;

/* Heap of PeekCh, sorting by head values, satisfies Heap interface. */
typedef struct sieve2_PeekChHeap {
    sieve2_PeekCh **v;  /* the slice */
    int len, cap;       /* its length and capacity */
} sieve2_PeekChHeap;

static bool sieve2_Less(sieve2_PeekChHeap *h, int i, int j) { return h->v[i]->head < h->v[j]->head; }

static void sieve2_Swap(sieve2_PeekChHeap *h, int i, int j)
{
    sieve2_PeekCh *t = h->v[i];
    h->v[i] = h->v[j];
    h->v[j] = t;
}

static int sieve2_Len(sieve2_PeekChHeap *h) { return h->len; }

static sieve2_PeekCh *sieve2_Pop(sieve2_PeekChHeap *h) { return h->v[--h->len]; }

static void sieve2_Push(sieve2_PeekChHeap *h, sieve2_PeekCh *v)
{
    if (h->len == h->cap) { /* append: grow the slice */
        int ncap = h->cap ? 2 * h->cap : 8;
        sieve2_PeekCh **nv = gc_new((size_t)ncap * sizeof *nv);
        if (h->len)
            memcpy(nv, h->v, (size_t)h->len * sizeof *nv);
        h->v = nv;
        h->cap = ncap;
    }
    h->v[h->len++] = v;
}

/* container/heap's up, down, Push and Pop over PeekChHeap. */
static void heap_up(sieve2_PeekChHeap *h, int j)
{
    for (;;) {
        int i = (j - 1) / 2; /* parent */
        if (i == j || !sieve2_Less(h, j, i))
            break;
        sieve2_Swap(h, i, j);
        j = i;
    }
}

static void heap_down(sieve2_PeekChHeap *h, int i0, int n)
{
    int i = i0;
    for (;;) {
        int j1 = 2 * i + 1;
        if (j1 >= n || j1 < 0)
            break;
        int j = j1; /* left child */
        int j2 = j1 + 1;
        if (j2 < n && sieve2_Less(h, j2, j1))
            j = j2; /* = 2*i + 2  // right child */
        if (!sieve2_Less(h, j, i))
            break;
        sieve2_Swap(h, i, j);
        i = j;
    }
}

static void heap_Push(sieve2_PeekChHeap *h, sieve2_PeekCh *x)
{
    sieve2_Push(h, x);
    heap_up(h, sieve2_Len(h) - 1);
}

static sieve2_PeekCh *heap_Pop(sieve2_PeekChHeap *h)
{
    int n = sieve2_Len(h) - 1;
    sieve2_Swap(h, 0, n);
    heap_down(h, 0, n);
    return sieve2_Pop(h);
}

typedef struct sieve2_sendproxy_args {
    chan_t *out, *proxy;  /* the real output; the never-blocking input */
} sieve2_sendproxy_args;

static void sieve2_sendproxy_func1(void *arg)
{
    sieve2_sendproxy_args *a = arg;
    chan_t *out = a->out, *proxy = a->proxy;
    int n = 16; /* the allocated size of the circular queue */
    sieve2_Ring *first = sieve2_ring_New(n);
    sieve2_Ring *last = first;
    chan_t *c;
    int64_t e = 0;
    for (;;) {
        c = out;
        if (first == last) {
            /* buffer empty: disable output */
            c = NULL;
        } else {
            e = first->Value;
        }
        int64_t send_e = e; /* a send case's value is evaluated before choosing */
        select_case_t cases[2] = {RECV(proxy, &e), SEND(c, &send_e)};
        switch (chan_select(cases, 2, false)) {
        case 0: /* e = <-proxy */
            last->Value = e;
            if (sieve2_ring_Next(last) == first) {
                /* buffer full: expand it */
                sieve2_ring_Link(last, sieve2_ring_New(n));
                n *= 2;
            }
            last = sieve2_ring_Next(last);
            break;
        case 1: /* c <- e */
            first = sieve2_ring_Next(first);
            break;
        }
    }
}

/* Return a channel to serve as a sending proxy to 'out'. Use a goroutine
 * to receive values from 'out' and store them in an expanding buffer, so
 * that sending to 'out' never blocks. */
static chan_t *sieve2_sendproxy(chan_t *out)
{
    chan_t *proxy = chan_make(sizeof(int64_t), 10);
    GO(sieve2_sendproxy_func1, "main.sendproxy.func1", sieve2_sendproxy_args, .out = out,
       .proxy = proxy);
    return proxy;
}

typedef struct sieve2_Sieve_args {
    chan_t *out, *composites, *primes;  /* Sieve's local channels */
} sieve2_Sieve_args;

/* Merge channels of multiples of 'primes' into 'composites'. */
static void sieve2_Sieve_func1(void *arg)
{
    sieve2_Sieve_args *a = arg;
    sieve2_PeekChHeap h = {0};
    int64_t min = 15;
    for (;;) {
        chan_t *m = sieve2_multiples(chan_recv_i64(a->primes, NULL));
        int64_t head = chan_recv_i64(m, NULL);
        while (min < head) {
            chan_send_i64(a->composites, min);
            sieve2_PeekCh *minchan = heap_Pop(&h);
            min = minchan->head;
            minchan->head = chan_recv_i64(minchan->ch, NULL);
            heap_Push(&h, minchan);
        }
        while (min == head) {
            sieve2_PeekCh *minchan = heap_Pop(&h);
            min = minchan->head;
            minchan->head = chan_recv_i64(minchan->ch, NULL);
            heap_Push(&h, minchan);
        }
        chan_send_i64(a->composites, head);
        sieve2_PeekCh *pc = gc_new(sizeof *pc);
        pc->head = chan_recv_i64(m, NULL);
        pc->ch = m;
        heap_Push(&h, pc);
    }
}

/* Sieve out 'composites' from 'candidates'. */
static void sieve2_Sieve_func2(void *arg)
{
    sieve2_Sieve_args *a = arg;
    /* In order to generate the nth prime we only need multiples of primes
     * <= sqrt(nth prime). Thus, the merging goroutine will receive from
     * 'primes' much slower than this goroutine will send to it, making the
     * buffer accumulate and block this goroutine from sending, causing a
     * deadlock. The solution is to use a proxy goroutine to do automatic
     * buffering. */
    chan_t *primes = sieve2_sendproxy(a->primes);

    chan_t *candidates = sieve2_odds();
    int64_t p = chan_recv_i64(candidates, NULL);

    for (;;) {
        int64_t c = chan_recv_i64(a->composites, NULL);
        while (p < c) {
            chan_send_i64(primes, p);
            chan_send_i64(a->out, p);
            p = chan_recv_i64(candidates, NULL);
        }
        if (p == c)
            p = chan_recv_i64(candidates, NULL);
    }
}

/* Return a chan int of primes. */
static chan_t *sieve2_Sieve(void)
{
    /* The output values. */
    chan_t *out = chan_make(sizeof(int64_t), 10);
    chan_send_i64(out, 2);
    chan_send_i64(out, 3);

    /* The channel of all composites to be eliminated in increasing order. */
    chan_t *composites = chan_make(sizeof(int64_t), 50);

    /* The feedback loop. */
    chan_t *primes = chan_make(sizeof(int64_t), 10);
    chan_send_i64(primes, 3);

    GO(sieve2_Sieve_func1, "main.Sieve.func1", sieve2_Sieve_args, .out = out,
       .composites = composites, .primes = primes);
    GO(sieve2_Sieve_func2, "main.Sieve.func2", sieve2_Sieve_args, .out = out,
       .composites = composites, .primes = primes);
    return out;
}

static int64_t sieve2_got[25];

static void sieve2_main(void *arg)
{
    (void)arg;
    memset(sieve2_got, 0, sizeof sieve2_got);
    chan_t *primes = sieve2_Sieve();
    const int64_t *a = first25;
    for (int i = 0; i < 25; i++) {
        int64_t x = chan_recv_i64(primes, NULL);
        sieve2_got[i] = x;
        if (x != a[i]) {
            fprintf(stderr, "%lld  !=  %lld\n", (long long)x, (long long)a[i]);
            go_panic("fail");
        }
    }
}

START_TEST(sieve2_go)
{
    run_clean(_i, sieve2_main, NULL);
    for (int i = 0; i < 25; i++)
        ck_assert_int_eq(sieve2_got[i], first25[i]);
}
END_TEST

/* ==== test/chan/powser1.go =============================================== */
/* Power series package. A power series is a channel, along which flow
 * rational coefficients. A denominator of zero signifies the end. Original
 * code in Newsqueak by Doug McIlroy; see "Squinting at Power Series".
 *
 * Ported: everything main's test branch uses (the demand channels, split,
 * the rationals, Rep, Add, Cmul, Sub, Mul, Diff, Integ, Exp, MonSubst and
 * check). Left out: what only the print branch or nothing uses (Printn,
 * Print, Evaln, eval, Monmul, Xmul, Mon, Shift, Binom, Recip, Subst). */

typedef struct rat {
    int64_t num, den; /* numerator, denominator */
} rat;

static void pr(rat u)
{
    if (u.den == 1)
        fprintf(stderr, "%lld", (long long)u.num);
    else
        fprintf(stderr, "%lld/%lld", (long long)u.num, (long long)u.den);
    fprintf(stderr, " ");
}

static bool eq(rat u, rat c) { return u.num == c.num && u.den == c.den; }

typedef struct dch {
    chan_t *req;  /* chan int: a demand, carrying a sequence number */
    chan_t *dat;  /* chan rat: the item demanded */
    int nam;      /* the channel's name, an index into chnames */
} dch;

/* type dch2 [2]*dch: an array of two, dch **. */

static const char *chnames;
static int chnameserial;
static int64_t seqno;

static dch *mkdch(void)
{
    int c = chnameserial % (int)strlen(chnames);
    chnameserial++;
    dch *d = gc_new(sizeof *d);
    d->req = chan_make(sizeof(int64_t), 0);
    d->dat = chan_make(sizeof(rat), 0);
    d->nam = c;
    return d;
}

static dch **mkdch2(void)
{
    dch **d2 = gc_new(2 * sizeof *d2);
    d2[0] = mkdch();
    d2[1] = mkdch();
    return d2;
}

typedef dch *PS; /* power series */

/* The variables the goroutines of the power series package capture. */
typedef struct psargs {
    dch *in;       /* split, dosplit: the series being split */
    dch **out;     /* split, dosplit: the pair it is split onto */
    chan_t *wait;  /* dosplit: the release-wait channel */
    PS U, V, Z;    /* inputs U, V; output Z */
    rat c;         /* a constant operand */
    int n;         /* MonSubst's exponent */
} psargs;

static void send_rat(chan_t *c, rat r) { chan_send(c, &r); }

/* split reads a single demand channel and replicates its output onto two,
 * which may be read at different rates. A process is created at first
 * demand for an item and dies after the item has been sent to both
 * outputs.
 *
 * When multiple generations of split exist, the newest will service
 * requests on one channel, which is always renamed to be out[0]; the
 * oldest will service requests on the other channel, out[1]. All
 * generations but the newest hold queued data that has already been sent
 * to out[0]. When data has finally been sent to out[1], a signal on the
 * release-wait channel tells the next newer generation to begin servicing
 * out[1]. */

static void dosplit_go(void *arg);

static void dosplit(dch *in, dch **out, chan_t *wait)
{
    bool both = false; /* do not service both channels */

    select_case_t s1[2] = {RECV(out[0]->req, NULL), RECV(wait, NULL)};
    switch (chan_select(s1, 2, false)) {
    case 0: /* <-out[0].req */
        break;
    case 1: { /* <-wait */
        both = true;
        select_case_t s2[2] = {RECV(out[0]->req, NULL), RECV(out[1]->req, NULL)};
        switch (chan_select(s2, 2, false)) {
        case 0: /* <-out[0].req */
            break;
        case 1: { /* <-out[1].req */
            dch *t = out[0];
            out[0] = out[1];
            out[1] = t;
            break;
        }
        }
        break;
    }
    }

    seqno++;
    chan_send_i64(in->req, seqno);
    chan_t *release = chan_make(sizeof(int64_t), 0);
    GO(dosplit_go, "main.dosplit", psargs, .in = in, .out = out, .wait = release);
    rat dat;
    chan_recv(in->dat, &dat);
    chan_send(out[0]->dat, &dat);
    if (!both)
        chan_recv(wait, NULL);
    chan_recv(out[1]->req, NULL);
    chan_send(out[1]->dat, &dat);
    chan_send_i64(release, 0);
}

static void dosplit_go(void *arg)
{
    psargs *a = arg;
    dosplit(a->in, a->out, a->wait);
}

static void split(dch *in, dch **out)
{
    chan_t *release = chan_make(sizeof(int64_t), 0);
    GO(dosplit_go, "main.dosplit", psargs, .in = in, .out = out, .wait = release);
    chan_send_i64(release, 0);
}

static void split_go(void *arg)
{
    psargs *a = arg;
    split(a->in, a->out);
}

static void put(rat dat, dch *out)
{
    chan_recv(out->req, NULL);
    chan_send(out->dat, &dat);
}

static rat get(dch *in)
{
    seqno++;
    chan_send_i64(in->req, seqno);
    rat r;
    chan_recv(in->dat, &r);
    return r;
}

/* Get one rat from each of n demand channels. */
static void getn(dch *in[], int n, rat out[])
{
    if (n != 2)
        go_panic("bad n in getn");
    chan_t *req[2], *dat[2];
    rat it;
    int i;
    for (i = 0; i < n; i++) {
        req[i] = in[i]->req;
        dat[i] = NULL;
    }
    for (n = 2 * n; n > 0; n--) {
        seqno++;

        int64_t s = seqno;
        select_case_t cases[4] = {
            SEND(req[0], &s), /* case req[0] <- seqno: */
            SEND(req[1], &s), /* case req[1] <- seqno: */
            RECV(dat[0], &it), /* case it = <-dat[0]: */
            RECV(dat[1], &it), /* case it = <-dat[1]: */
        };
        switch (chan_select(cases, 4, false)) {
        case 0:
            dat[0] = in[0]->dat;
            req[0] = NULL;
            break;
        case 1:
            dat[1] = in[1]->dat;
            req[1] = NULL;
            break;
        case 2:
            out[0] = it;
            dat[0] = NULL;
            break;
        case 3:
            out[1] = it;
            dat[1] = NULL;
            break;
        }
    }
}

/* Get one rat from each of 2 demand channels. */
static void get2(dch *in0, dch *in1, rat out[2])
{
    dch *in[2] = {in0, in1};
    getn(in, 2, out);
}

static void copy(dch *in, dch *out)
{
    for (;;) {
        chan_recv(out->req, NULL);
        send_rat(out->dat, get(in));
    }
}

static void repeat(rat dat, dch *out)
{
    for (;;)
        put(dat, out);
}

static void repeat_go(void *arg)
{
    psargs *a = arg;
    repeat(a->c, a->Z);
}

static PS Ones;
static PS Twos;

static dch *mkPS(void) { return mkdch(); }
static dch **mkPS2(void) { return mkdch2(); }

/* Conventions: upper-case for power series, lower-case for rationals.
 * Input variables: U, V, ...; output variables: ..., Y, Z. */

/* Integer gcd; needed for rational arithmetic. */
static int64_t gcd(int64_t u, int64_t v)
{
    if (u < 0)
        return gcd(-u, v);
    if (u == 0)
        return v;
    return gcd(v % u, u);
}

/* Make a rational from two ints and from one int. */
static rat i2tor(int64_t u, int64_t v)
{
    int64_t g = gcd(u, v);
    rat r;
    if (v > 0) {
        r.num = u / g;
        r.den = v / g;
    } else {
        r.num = -u / g;
        r.den = -v / g;
    }
    return r;
}

static rat itor(int64_t u) { return i2tor(u, 1); }

static rat zero;
static rat one;

/* End mark and end test. */
static rat finis;

static int64_t end(rat u)
{
    if (u.den == 0)
        return 1;
    return 0;
}

/* Operations on rationals. */
static rat add(rat u, rat v)
{
    int64_t g = gcd(u.den, v.den);
    return i2tor(u.num * (v.den / g) + v.num * (u.den / g), u.den * (v.den / g));
}

static rat mul(rat u, rat v)
{
    int64_t g1 = gcd(u.num, v.den);
    int64_t g2 = gcd(u.den, v.num);
    rat r;
    r.num = (u.num / g1) * (v.num / g2);
    r.den = (u.den / g2) * (v.den / g1);
    return r;
}

static rat neg(rat u) { return i2tor(-u.num, u.den); }

/* Power-series constructors return channels on which power series flow.
 * They start an encapsulated generator that puts the terms of the series
 * on the channel. */

/* Make a pair of power series identical to a given power series. */
static dch **Split(PS U)
{
    dch **UU = mkdch2();
    GO(split_go, "main.split", psargs, .in = U, .out = UU);
    return UU;
}

static void Add_func1(void *arg)
{
    psargs *a = arg;
    PS U = a->U, V = a->V, Z = a->Z;
    rat uv[2];
    for (;;) {
        chan_recv(Z->req, NULL);
        get2(U, V, uv);
        switch (end(uv[0]) + 2 * end(uv[1])) {
        case 0:
            send_rat(Z->dat, add(uv[0], uv[1]));
            break;
        case 1:
            send_rat(Z->dat, uv[1]);
            copy(V, Z);
            break;
        case 2:
            send_rat(Z->dat, uv[0]);
            copy(U, Z);
            break;
        case 3:
            send_rat(Z->dat, finis);
            break;
        }
    }
}

/* Add two power series. */
static PS Add(PS U, PS V)
{
    PS Z = mkPS();
    GO(Add_func1, "main.Add.func1", psargs, .U = U, .V = V, .Z = Z);
    return Z;
}

static void Cmul_func1(void *arg)
{
    psargs *a = arg;
    rat c = a->c;
    PS U = a->U, Z = a->Z;
    bool done = false;
    while (!done) {
        chan_recv(Z->req, NULL);
        rat u = get(U);
        if (end(u) != 0)
            done = true;
        else
            send_rat(Z->dat, mul(c, u));
    }
    send_rat(Z->dat, finis);
}

/* Multiply a power series by a constant. */
static PS Cmul(rat c, PS U)
{
    PS Z = mkPS();
    GO(Cmul_func1, "main.Cmul.func1", psargs, .c = c, .U = U, .Z = Z);
    return Z;
}

/* Subtract. */
static PS Sub(PS U, PS V)
{
    return Add(U, Cmul(neg(one), V));
}

static PS Rep(rat c)
{
    PS Z = mkPS();
    GO(repeat_go, "main.repeat", psargs, .c = c, .Z = Z);
    return Z;
}

static PS Mul(PS U, PS V);

static void Mul_func1(void *arg)
{
    psargs *a = arg;
    PS U = a->U, V = a->V, Z = a->Z;
    chan_recv(Z->req, NULL);
    rat uv[2];
    get2(U, V, uv);
    if (end(uv[0]) != 0 || end(uv[1]) != 0) {
        send_rat(Z->dat, finis);
    } else {
        send_rat(Z->dat, mul(uv[0], uv[1]));
        dch **UU = Split(U);
        dch **VV = Split(V);
        /* Go evaluates Add's arguments left to right; C does not promise to. */
        PS W0 = Cmul(uv[0], VV[0]);
        PS W1 = Cmul(uv[1], UU[0]);
        PS W = Add(W0, W1);
        chan_recv(Z->req, NULL);
        send_rat(Z->dat, get(W));
        copy(Add(W, Mul(UU[1], VV[1])), Z);
    }
}

/* Multiply. The algorithm is
 *	let U = u + x*UU
 *	let V = v + x*VV
 *	then UV = u*v + x*(u*VV+v*UU) + x*x*UU*VV */
static PS Mul(PS U, PS V)
{
    PS Z = mkPS();
    GO(Mul_func1, "main.Mul.func1", psargs, .U = U, .V = V, .Z = Z);
    return Z;
}

static void Diff_func1(void *arg)
{
    psargs *a = arg;
    PS U = a->U, Z = a->Z;
    chan_recv(Z->req, NULL);
    rat u = get(U);
    if (end(u) == 0) {
        bool done = false;
        for (int64_t i = 1; !done; i++) {
            u = get(U);
            if (end(u) != 0) {
                done = true;
            } else {
                send_rat(Z->dat, mul(itor(i), u));
                chan_recv(Z->req, NULL);
            }
        }
    }
    send_rat(Z->dat, finis);
}

/* Differentiate. */
static PS Diff(PS U)
{
    PS Z = mkPS();
    GO(Diff_func1, "main.Diff.func1", psargs, .U = U, .Z = Z);
    return Z;
}

static void Integ_func1(void *arg)
{
    psargs *a = arg;
    rat c = a->c;
    PS U = a->U, Z = a->Z;
    put(c, Z);
    bool done = false;
    for (int64_t i = 1; !done; i++) {
        chan_recv(Z->req, NULL);
        rat u = get(U);
        if (end(u) != 0)
            done = true;
        send_rat(Z->dat, mul(i2tor(1, i), u));
    }
    send_rat(Z->dat, finis);
}

/* Integrate, with const of integration. */
static PS Integ(rat c, PS U)
{
    PS Z = mkPS();
    GO(Integ_func1, "main.Integ.func1", psargs, .c = c, .U = U, .Z = Z);
    return Z;
}

/* Exponential of a power series with constant term 0 (nonzero constant
 * term would make nonrational coefficients); bug: the constant term is
 * simply ignored.
 *	Z = exp(U)
 *	DZ = Z*DU
 *	integrate to get Z */
static PS Exp(PS U)
{
    dch **ZZ = mkPS2();
    split(Integ(one, Mul(ZZ[0], Diff(U))), ZZ);
    return ZZ[1];
}

static void MonSubst_func1(void *arg)
{
    psargs *a = arg;
    PS U = a->U, Z = a->Z;
    rat c0 = a->c;
    int n = a->n;
    rat c = one;
    for (;;) {
        chan_recv(Z->req, NULL);
        rat u = get(U);
        send_rat(Z->dat, mul(u, c));
        c = mul(c, c0);
        if (end(u) != 0) {
            send_rat(Z->dat, finis);
            break;
        }
        for (int i = 1; i < n; i++) {
            chan_recv(Z->req, NULL);
            send_rat(Z->dat, zero);
        }
    }
}

/* Monomial Substitution: U(c x^n). Each Ui is multiplied by c^i and
 * followed by n-1 zeros. */
static PS MonSubst(PS U, rat c0, int n)
{
    PS Z = mkPS();
    GO(MonSubst_func1, "main.MonSubst.func1", psargs, .U = U, .Z = Z, .c = c0, .n = n);
    return Z;
}

static void Init(void)
{
    chnameserial = -1;
    seqno = 0;
    chnames = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    zero = itor(0);
    one = itor(1);
    finis = i2tor(1, 0);
    Ones = Rep(one);
    Twos = Rep(itor(2));
}

/* chansim: every coefficient check() read, for the suite's assertions. */
static rat powser1_log[100];
static int powser1_nlog;

static void check(PS U, rat c, int count, const char *str)
{
    for (int i = 0; i < count; i++) {
        rat r = get(U);
        if (powser1_nlog < 100)
            powser1_log[powser1_nlog++] = r;
        if (!eq(r, c)) {
            fprintf(stderr, "got: ");
            pr(r);
            fprintf(stderr, "should get ");
            pr(c);
            fprintf(stderr, "\n");
            go_panic("%s", str);
        }
    }
}

enum { POWSER1_N = 10 }; /* Go: const N = 10 */

static void checka(PS U, rat a[], const char *str)
{
    for (int i = 0; i < POWSER1_N; i++)
        check(U, a[i], 1, str);
}

static void powser1_main(void *arg)
{
    (void)arg;
    powser1_nlog = 0;
    Init();
    check(Ones, one, 5, "Ones");
    check(Add(Ones, Ones), itor(2), 0, "Add Ones Ones"); /* 1 1 1 1 1 */
    check(Add(Ones, Twos), itor(3), 0, "Add Ones Twos"); /* 3 3 3 3 3 */
    rat a[POWSER1_N];
    PS d = Diff(Ones);
    for (int i = 0; i < POWSER1_N; i++)
        a[i] = itor(i + 1);
    checka(d, a, "Diff"); /* 1 2 3 4 5 */
    PS in = Integ(zero, Ones);
    a[0] = zero; /* integration constant */
    for (int i = 1; i < POWSER1_N; i++)
        a[i] = i2tor(1, i);
    checka(in, a, "Integ");                              /* 0 1 1/2 1/3 1/4 1/5 */
    check(Cmul(neg(one), Twos), itor(-2), 10, "CMul");   /* -1 -1 -1 -1 -1 */
    check(Sub(Ones, Twos), itor(-1), 0, "Sub Ones Twos"); /* -1 -1 -1 -1 -1 */
    PS m = Mul(Ones, Ones);
    for (int i = 0; i < POWSER1_N; i++)
        a[i] = itor(i + 1);
    checka(m, a, "Mul"); /* 1 2 3 4 5 */
    PS e = Exp(Ones);
    a[0] = itor(1);
    a[1] = itor(1);
    a[2] = i2tor(3, 2);
    a[3] = i2tor(13, 6);
    a[4] = i2tor(73, 24);
    a[5] = i2tor(167, 40);
    a[6] = i2tor(4051, 720);
    a[7] = i2tor(37633, 5040);
    a[8] = i2tor(43817, 4480);
    a[9] = i2tor(4596553, 362880);
    checka(e, a, "Exp"); /* 1 1 3/2 13/6 73/24 */
    PS at = Integ(zero, MonSubst(Ones, neg(one), 2));
    for (int c = 1, i = 0; i < POWSER1_N; i++) {
        if (i % 2 == 0) {
            a[i] = zero;
        } else {
            a[i] = i2tor(c, i);
            c *= -1;
        }
    }
    checka(at, a, "ATan"); /* 0 -1 0 -1/3 0 -1/5 */
}

/* What powser1's checks read, in order, written out as literals. */
static const rat powser1_want[] = {
    /* Ones */ {1, 1}, {1, 1}, {1, 1}, {1, 1}, {1, 1},
    /* Diff(Ones) */ {1, 1}, {2, 1}, {3, 1}, {4, 1}, {5, 1}, {6, 1}, {7, 1}, {8, 1}, {9, 1}, {10, 1},
    /* Integ(0, Ones) */ {0, 1}, {1, 1}, {1, 2}, {1, 3}, {1, 4}, {1, 5}, {1, 6}, {1, 7}, {1, 8}, {1, 9},
    /* Cmul(-1, Twos) */ {-2, 1}, {-2, 1}, {-2, 1}, {-2, 1}, {-2, 1},
                         {-2, 1}, {-2, 1}, {-2, 1}, {-2, 1}, {-2, 1},
    /* Mul(Ones, Ones) */ {1, 1}, {2, 1}, {3, 1}, {4, 1}, {5, 1}, {6, 1}, {7, 1}, {8, 1}, {9, 1}, {10, 1},
    /* Exp(Ones) */ {1, 1}, {1, 1}, {3, 2}, {13, 6}, {73, 24}, {167, 40}, {4051, 720},
                    {37633, 5040}, {43817, 4480}, {4596553, 362880},
    /* Integ(0, MonSubst(Ones, -1, 2)): atan */ {0, 1}, {1, 1}, {0, 1}, {-1, 3}, {0, 1},
                                                {1, 5}, {0, 1}, {-1, 7}, {0, 1}, {1, 9},
};

START_TEST(powser1_go)
{
    run_clean(_i, powser1_main, NULL);
    int n = (int)(sizeof powser1_want / sizeof powser1_want[0]);
    ck_assert_int_eq(n, 65);
    ck_assert_int_eq(powser1_nlog, n);
    for (int k = 0; k < n; k++) {
        ck_assert_int_eq(powser1_log[k].num, powser1_want[k].num);
        ck_assert_int_eq(powser1_log[k].den, powser1_want[k].den);
    }
}
END_TEST

/* The same program, seed and policy give the same run, event for event. */
START_TEST(powser1_is_deterministic)
{
    uint64_t hash[2];
    for (int k = 0; k < 2; k++) {
        sched_config_t cfg = policy_config(_i);
        sched_result_t r;
        sched_t *s = run_with(&cfg, powser1_main, NULL, &r);
        ck_assert_int_eq(r, SCHED_DONE);
        hash[k] = sched_trace_hash(s);
        sched_destroy(s);
        gc_free_all();
    }
    ck_assert_uint_eq(hash[0], hash[1]);
}
END_TEST

/* ==== test/chan/fifo.go ================================================== */
/* Test that unbuffered channels act as pure fifos. */

enum { FIFO_N = 10 }; /* Go: const N = 10 */

static void fifo_AsynchFifo(void)
{
    chan_t *ch = chan_make(sizeof(int64_t), FIFO_N);
    for (int64_t i = 0; i < FIFO_N; i++)
        chan_send_i64(ch, i);
    for (int64_t i = 0; i < FIFO_N; i++) {
        if (chan_recv_i64(ch, NULL) != i) {
            fprintf(stderr, "bad receive\n");
            os_Exit(1);
        }
    }
}

typedef struct fifo_Chain_args {
    chan_t *ch;       /* <-chan int: the values, in order */
    int64_t val;      /* the value this link expects */
    chan_t *in, *out; /* the daisy chain: wait on in, then signal out */
} fifo_Chain_args;

static void fifo_Chain(void *arg)
{
    fifo_Chain_args *a = arg;
    chan_recv(a->in, NULL);
    if (chan_recv_i64(a->ch, NULL) != a->val)
        go_panic("%lld", (long long)a->val);
    chan_send_i64(a->out, 1);
}

/* thread together a daisy chain to read the elements in sequence */
static void fifo_SynchFifo(void)
{
    chan_t *ch = chan_make(sizeof(int64_t), 0);
    chan_t *in = chan_make(sizeof(int64_t), 0);
    chan_t *start = in;
    for (int64_t i = 0; i < FIFO_N; i++) {
        chan_t *out = chan_make(sizeof(int64_t), 0);
        GO(fifo_Chain, "main.Chain", fifo_Chain_args, .ch = ch, .val = i, .in = in, .out = out);
        in = out;
    }
    chan_send_i64(start, 0);
    for (int64_t i = 0; i < FIFO_N; i++)
        chan_send_i64(ch, i);
    chan_recv(in, NULL);
}

static void fifo_main(void *arg)
{
    (void)arg;
    fifo_AsynchFifo();
    fifo_SynchFifo();
}

START_TEST(fifo_go)
{
    run_clean(_i, fifo_main, NULL);
}
END_TEST

/* ==== test/chan/goroutines.go ============================================ */
/* Torture test for goroutines. Make a lot of goroutines, threaded
 * together, and tear them down cleanly. */

typedef struct goroutines_f_args {
    chan_t *left, *right;  /* the link's two channels */
} goroutines_f_args;

static void goroutines_f(void *arg)
{
    goroutines_f_args *a = arg;
    chan_send_i64(a->left, chan_recv_i64(a->right, NULL)); /* left <- <-right */
}

static void goroutines_func1(void *arg) { chan_send_i64(arg, 1); }

static int64_t goroutines_got;

static void goroutines_main(void *arg)
{
    (void)arg;
    int n = 10000; /* Go's default too */
    goroutines_got = 0;
    chan_t *leftmost = chan_make(sizeof(int64_t), 0);
    chan_t *right = leftmost;
    chan_t *left = leftmost;
    for (int i = 0; i < n; i++) {
        right = chan_make(sizeof(int64_t), 0);
        GO(goroutines_f, "main.f", goroutines_f_args, .left = left, .right = right);
        left = right;
    }
    go_spawn(goroutines_func1, right, "main.main.func1");
    goroutines_got = chan_recv_i64(leftmost, NULL);
}

START_TEST(goroutines_go)
{
    run_clean(_i, goroutines_main, NULL);
    ck_assert_int_eq(goroutines_got, 1); /* chansim: the value made it through */
}
END_TEST

/* ==== test/chan/doubleselect.go ========================================== */
/* Test the situation in which two cases of a select can both end up
 * running. See http://codereview.appspot.com/180068. */

enum { DOUBLESELECT_ITERATIONS = 100000 }; /* Go: flag -n, 100000 */

typedef struct doubleselect_sender_args {
    int n;                      /* iterations */
    chan_t *c1, *c2, *c3, *c4;  /* chan<- int */
} doubleselect_sender_args;

/* sender sends a counter to one of four different channels. If two cases
 * both end up running in the same iteration, the same value will be sent
 * to two different channels. */
static void doubleselect_sender(void *arg)
{
    doubleselect_sender_args *a = arg;
    for (int64_t i = 0; i < a->n; i++) {
        int64_t v = i;
        select_case_t cases[4] = {SEND(a->c1, &v), SEND(a->c2, &v), SEND(a->c3, &v), SEND(a->c4, &v)};
        chan_select(cases, 4, false);
    }
    /* defer close(c1); defer close(c2); defer close(c3); defer close(c4) */
    chan_close(a->c4);
    chan_close(a->c3);
    chan_close(a->c2);
    chan_close(a->c1);
}

typedef struct doubleselect_mux_args {
    chan_t *out, *in, *done;  /* chan<- int, <-chan int, chan<- bool */
} doubleselect_mux_args;

/* mux receives the values from sender and forwards them onto another
 * channel. It would be simpler to just have sender's four cases all be the
 * same channel, but this doesn't actually trigger the bug. */
static void doubleselect_mux(void *arg)
{
    doubleselect_mux_args *a = arg;
    int64_t v;
    while (chan_recv(a->in, &v)) /* for v := range in */
        chan_send_i64(a->out, v);
    send_bool(a->done, true);
}

typedef struct doubleselect_func1_args {
    chan_t *done, *cmux;  /* the muxes' done signals; the channel to close */
} doubleselect_func1_args;

static void doubleselect_main_func1(void *arg)
{
    doubleselect_func1_args *a = arg;
    recv_bool(a->done);
    recv_bool(a->done);
    recv_bool(a->done);
    recv_bool(a->done);
    chan_close(a->cmux);
}

static int doubleselect_received;

/* recver gets a stream of values from the four mux's and checks for
 * duplicates. */
static void doubleselect_recver(chan_t *in)
{
    bool *seen = gc_new(DOUBLESELECT_ITERATIONS * sizeof *seen); /* make(map[int]bool) */
    int64_t v;
    while (chan_recv(in, &v)) { /* for v := range in */
        if (v < 0 || v >= DOUBLESELECT_ITERATIONS)
            go_panic("value out of range: %lld", (long long)v); /* chansim's own check */
        if (seen[v]) {
            fprintf(stderr, "got duplicate value:  %lld\n", (long long)v);
            go_panic("fail");
        }
        seen[v] = true;
        doubleselect_received++;
    }
}

static void doubleselect_main(void *arg)
{
    (void)arg;
    doubleselect_received = 0;
    chan_t *c1 = chan_make(sizeof(int64_t), 0);
    chan_t *c2 = chan_make(sizeof(int64_t), 0);
    chan_t *c3 = chan_make(sizeof(int64_t), 0);
    chan_t *c4 = chan_make(sizeof(int64_t), 0);
    chan_t *done = chan_make(sizeof(bool), 0);
    chan_t *cmux = chan_make(sizeof(int64_t), 0);
    GO(doubleselect_sender, "main.sender", doubleselect_sender_args,
       .n = DOUBLESELECT_ITERATIONS, .c1 = c1, .c2 = c2, .c3 = c3, .c4 = c4);
    GO(doubleselect_mux, "main.mux", doubleselect_mux_args, .out = cmux, .in = c1, .done = done);
    GO(doubleselect_mux, "main.mux", doubleselect_mux_args, .out = cmux, .in = c2, .done = done);
    GO(doubleselect_mux, "main.mux", doubleselect_mux_args, .out = cmux, .in = c3, .done = done);
    GO(doubleselect_mux, "main.mux", doubleselect_mux_args, .out = cmux, .in = c4, .done = done);
    GO(doubleselect_main_func1, "main.main.func1", doubleselect_func1_args, .done = done,
       .cmux = cmux);
    /* We keep the recver because it might catch more bugs in the future.
     * However, the result of the bug linked to at the top is that we'll
     * end up panicking with: "throw: bad g->status in ready". */
    doubleselect_recver(cmux);
}

START_TEST(doubleselect_go)
{
    run_clean(_i, doubleselect_main, NULL);
    /* chansim: no value was lost either. */
    ck_assert_int_eq(doubleselect_received, DOUBLESELECT_ITERATIONS);
}
END_TEST

/* ==== test/chan/nonblock.go ============================================== */
/* Test channel operations that test for blocking. Use several sizes and
 * types of operands. The retries sleep on a 10us ticker of simulated time. */

static void nonblock_i32receiver(chan_t *c, chan_t *strobe)
{
    int32_t v = 0;
    chan_recv(c, &v);
    if (v != 123)
        go_panic("i32 value");
    send_bool(strobe, true);
}

static void nonblock_i32sender(chan_t *c, chan_t *strobe)
{
    int32_t v = 234;
    chan_send(c, &v);
    send_bool(strobe, true);
}

static void nonblock_i64receiver(chan_t *c, chan_t *strobe)
{
    if (chan_recv_i64(c, NULL) != 123456)
        go_panic("i64 value");
    send_bool(strobe, true);
}

static void nonblock_i64sender(chan_t *c, chan_t *strobe)
{
    chan_send_i64(c, 234567);
    send_bool(strobe, true);
}

static void nonblock_breceiver(chan_t *c, chan_t *strobe)
{
    if (!recv_bool(c))
        go_panic("b value");
    send_bool(strobe, true);
}

static void nonblock_bsender(chan_t *c, chan_t *strobe)
{
    send_bool(c, true);
    send_bool(strobe, true);
}

/* chan string: the payload is a pointer to a string constant (nothing to
 * own). */
static void nonblock_sreceiver(chan_t *c, chan_t *strobe)
{
    const char *s = NULL;
    chan_recv(c, &s);
    if (!s || strcmp(s, "hello") != 0)
        go_panic("s value");
    send_bool(strobe, true);
}

static void nonblock_ssender(chan_t *c, chan_t *strobe)
{
    const char *s = "hello again";
    chan_send(c, &s);
    send_bool(strobe, true);
}

typedef struct nonblock_args {
    void (*fn)(chan_t *c, chan_t *strobe);  /* the function run by go */
    chan_t *c, *strobe;                     /* its arguments */
} nonblock_args;

static void nonblock_goroutine(void *arg)
{
    nonblock_args *a = arg;
    a->fn(a->c, a->strobe);
}

#define NONBLOCK_GO(f, ch, sync_) \
    GO(nonblock_goroutine, "main." #f, nonblock_args, .fn = nonblock_##f, .c = (ch), .strobe = (sync_))

static chan_t *nonblock_ticker; /* var ticker = time.Tick(10 * 1000) // 10 us */

static void nonblock_sleep(void)
{
    chan_recv(nonblock_ticker, NULL);
    chan_recv(nonblock_ticker, NULL);
    go_yield();
    go_yield();
    go_yield();
}

enum { NONBLOCK_MAX_TRIES = 10000 }; /* Up to 100ms per test. */

static int nonblock_tries_total;
static simtime_t nonblock_end;

/* for { select { case c <- v: break L; default: try++; ...; sleep() } } */
static void nonblock_send_loop(chan_t *c, const void *v, const char *what, int buffer)
{
    int try = 0;
    for (;;) {
        select_case_t cases[1] = {SEND(c, (void *)v)};
        if (chan_select(cases, 1, true) == 0)
            break;
        try++;
        nonblock_tries_total++;
        if (try > NONBLOCK_MAX_TRIES) {
            fprintf(stderr, "%s buffer= %d\n", what, buffer);
            go_panic("fail");
        }
        nonblock_sleep();
    }
}

/* for { select { case v = <-c: break L; default: try++; ...; sleep() } } */
static void nonblock_recv_loop(chan_t *c, void *v, const char *what, int buffer)
{
    int try = 0;
    for (;;) {
        select_case_t cases[1] = {RECV(c, v)};
        if (chan_select(cases, 1, true) == 0)
            break;
        try++;
        nonblock_tries_total++;
        if (try > NONBLOCK_MAX_TRIES) {
            fprintf(stderr, "%s buffer= %d\n", what, buffer);
            go_panic("fail");
        }
        nonblock_sleep();
    }
}

/* select { case v = <-c: panic(msg); default: } */
static void nonblock_must_not_receive(chan_t *c, void *v, const char *msg)
{
    select_case_t cases[1] = {RECV(c, v)};
    if (chan_select(cases, 1, true) == 0)
        go_panic("%s", msg);
}

static void nonblock_main(void *arg)
{
    (void)arg;
    int32_t i32;
    int64_t i64;
    bool b;
    const char *s;

    nonblock_tries_total = 0;
    nonblock_ticker = go_tick(10 * SIM_US);
    chan_t *sync = chan_make(sizeof(bool), 0);

    for (int buffer = 0; buffer < 2; buffer++) {
        chan_t *c32 = chan_make(sizeof(int32_t), buffer);
        chan_t *c64 = chan_make(sizeof(int64_t), buffer);
        chan_t *cb = chan_make(sizeof(bool), buffer);
        chan_t *cs = chan_make(sizeof(const char *), buffer);

        nonblock_must_not_receive(c32, &i32, "blocked i32sender");
        nonblock_must_not_receive(c64, &i64, "blocked i64sender");
        nonblock_must_not_receive(cb, &b, "blocked bsender");
        nonblock_must_not_receive(cs, &s, "blocked ssender");

        NONBLOCK_GO(i32receiver, c32, sync);
        nonblock_send_loop(c32, &(int32_t){123}, "i32receiver", buffer); /* Send32 */
        recv_bool(sync);

        NONBLOCK_GO(i32sender, c32, sync);
        if (buffer > 0)
            recv_bool(sync);
        nonblock_recv_loop(c32, &i32, "i32sender", buffer); /* Recv32 */
        if (i32 != 234)
            go_panic("i32sender value");
        if (buffer == 0)
            recv_bool(sync);

        NONBLOCK_GO(i64receiver, c64, sync);
        nonblock_send_loop(c64, &(int64_t){123456}, "i64receiver", buffer); /* Send64 */
        recv_bool(sync);

        NONBLOCK_GO(i64sender, c64, sync);
        if (buffer > 0)
            recv_bool(sync);
        nonblock_recv_loop(c64, &i64, "i64sender", buffer); /* Recv64 */
        if (i64 != 234567)
            go_panic("i64sender value");
        if (buffer == 0)
            recv_bool(sync);

        NONBLOCK_GO(breceiver, cb, sync);
        nonblock_send_loop(cb, &(bool){true}, "breceiver", buffer); /* SendBool */
        recv_bool(sync);

        NONBLOCK_GO(bsender, cb, sync);
        if (buffer > 0)
            recv_bool(sync);
        b = false;
        nonblock_recv_loop(cb, &b, "bsender", buffer); /* RecvBool */
        if (!b)
            go_panic("bsender value");
        if (buffer == 0)
            recv_bool(sync);

        NONBLOCK_GO(sreceiver, cs, sync);
        nonblock_send_loop(cs, &(const char *){"hello"}, "sreceiver", buffer); /* SendString */
        recv_bool(sync);

        NONBLOCK_GO(ssender, cs, sync);
        if (buffer > 0)
            recv_bool(sync);
        s = NULL;
        nonblock_recv_loop(cs, &s, "ssender", buffer); /* RecvString */
        if (!s || strcmp(s, "hello again") != 0)
            go_panic("ssender value");
        if (buffer == 0)
            recv_bool(sync);
    }
    nonblock_end = sched_now();
}

START_TEST(nonblock_go)
{
    run_clean(_i, nonblock_main, NULL);
    /* chansim: the unbuffered rounds had to wait for their partner, so
     * some retries slept, on the ticker's simulated time. */
    ck_assert_int_gt(nonblock_tries_total, 0);
    ck_assert_int_gt(nonblock_end, 0);
    ck_assert_int_eq(nonblock_end % (10 * SIM_US), 0);
}
END_TEST

/* ==== test/chan/select.go ================================================ */
/* Test simple select. In Go the operands (here GetValue()) are evaluated
 * once per select, all of them, in source order; in C the case array is
 * built the same way, so what the port checks is select's counting: which
 * cases fired, how often, and what they sent. */

static unsigned select_counter;
static unsigned select_shift;

static unsigned select_GetValue(void)
{
    select_counter++;
    return 1u << select_shift;
}

static int select_Send(chan_t *a, chan_t *b)
{
    int i = 0;

    for (;;) { /* LOOP: */
        unsigned va = select_GetValue();
        unsigned vb = select_GetValue();
        select_case_t cases[2] = {SEND(a, &va), SEND(b, &vb)};
        switch (chan_select(cases, 2, true)) {
        case 0: /* case a <- GetValue(): */
            i++;
            a = NULL;
            break;
        case 1: /* case b <- GetValue(): */
            i++;
            b = NULL;
            break;
        default:
            return i; /* break LOOP */
        }
        select_shift++;
    }
}

static unsigned select_av, select_bv;

static void select_main(void *arg)
{
    (void)arg;
    select_counter = select_shift = 0;
    chan_t *a = chan_make(sizeof(unsigned), 1);
    chan_t *b = chan_make(sizeof(unsigned), 1);
    int v = select_Send(a, b);
    if (v != 2) {
        fprintf(stderr, "Send returned %d != 2\n", v);
        go_panic("fail");
    }
    chan_recv(a, &select_av);
    chan_recv(b, &select_bv);
    if ((select_av | select_bv) != 3) {
        fprintf(stderr, "bad values %u %u\n", select_av, select_bv);
        go_panic("fail");
    }
    v = select_Send(a, NULL);
    if (v != 1) {
        fprintf(stderr, "Send returned %d != 1\n", v);
        go_panic("fail");
    }
    if (select_counter != 10) {
        fprintf(stderr, "counter is %u != 10\n", select_counter);
        go_panic("fail");
    }
}

START_TEST(select_go)
{
    run_clean(_i, select_main, NULL);
    ck_assert_uint_eq(select_counter, 10);
    ck_assert_uint_eq(select_av | select_bv, 3);
    ck_assert_uint_ne(select_av, select_bv); /* one value each: 1 and 2 */
}
END_TEST

/* ==== test/chan/select3.go =============================================== */
/* Test the semantics of the select statement for basic empty/non-empty
 * cases. testBlock runs on simulated time (the 0.1s timeout is exact: the
 * clock moves only when every goroutine waits); testPanic recovers through
 * the goroutine's panic hook, which unwinds its own stack (longjmp) as a
 * deferred recover() would. */

static const char *const always = "function did not";
static const char *const never = "function did";

static void select3_unreachable(void)
{
    go_panic("control flow shouldn't reach here");
}

typedef struct select3_recover {
    jmp_buf env;     /* where a recovered panic resumes */
    char msg[256];   /* the recovered value */
} select3_recover;

static void select3_recover_hook(g_t *g, const char *msg)
{
    select3_recover *r = go_userdata(g);
    snprintf(r->msg, sizeof r->msg, "%s", msg);
    longjmp(r->env, 1);
}

static int select3_panics_recovered;
static char select3_recovered[2][256]; /* chansim: what recover() returned */

/* Calls f and verifies that f always/never panics depending on signal. */
static void select3_testPanic(const char *signal, void (*f)(void))
{
    g_t *g = go_self();
    void *saved = go_userdata(g);
    select3_recover r;
    const char *s = never;
    go_set_userdata(g, &r);
    go_set_panic_hook(g, select3_recover_hook);
    if (setjmp(r.env) == 0) {
        f();
    } else {
        s = always; /* f panicked */
        if (select3_panics_recovered < 2)
            memcpy(select3_recovered[select3_panics_recovered], r.msg, sizeof r.msg);
        select3_panics_recovered++;
    }
    go_set_panic_hook(g, NULL);
    go_set_userdata(g, saved);
    if (strcmp(s, signal) != 0)
        go_panic("%s panic", signal);
}

typedef struct select3_testBlock_args {
    void (*f)(void);  /* the function under test */
    chan_t *c;        /* chan string */
} select3_testBlock_args;

static void select3_testBlock_func1(void *arg)
{
    select3_testBlock_args *a = arg;
    a->f();
    chan_send(a->c, &never); /* f didn't block */
}

static void select3_testBlock_func2(void *arg)
{
    select3_testBlock_args *a = arg;
    go_sleep(100 * SIM_MS);   /* 0.1s seems plenty long */
    chan_send(a->c, &always); /* f blocked always */
}

/* Calls f and empirically verifies that f always/never blocks depending on
 * signal. */
static void select3_testBlock(const char *signal, void (*f)(void))
{
    chan_t *c = chan_make(sizeof(const char *), 0);
    GO(select3_testBlock_func1, "main.testBlock.func1", select3_testBlock_args, .f = f, .c = c);
    GO(select3_testBlock_func2, "main.testBlock.func2", select3_testBlock_args, .f = f, .c = c);
    const char *got = NULL;
    chan_recv(c, &got);
    if (!got || strcmp(got, signal) != 0)
        go_panic("%s block", signal);
}

enum { async = 1 }; /* asynchronous channels */
static chan_t *nilch;    /* var nilch chan int */
static chan_t *closedch; /* closed at the start of main */

/* The functions main passes to testBlock and testPanic, in order. */
static void select3_f01(void) { chan_send_i64(nilch, 7); }
static void select3_f02(void) { chan_recv(nilch, NULL); }

static void select3_f03(void)
{
    select_case_t cases[1] = {SEND(nilch, &(int64_t){7})};
    if (chan_select(cases, 1, true) == 0)
        select3_unreachable();
}

static void select3_f04(void)
{
    select_case_t cases[1] = {RECV(nilch, NULL)};
    if (chan_select(cases, 1, true) == 0)
        select3_unreachable();
}

static void select3_f05(void)
{
    chan_t *ch = chan_make(sizeof(int64_t), async);
    chan_send_i64(ch, 7);
}

static void select3_f06(void)
{
    for (int i = 0; i < 10; i++) {
        if (chan_recv_i64(closedch, NULL) != 0)
            go_panic("expected zero value when reading from closed channel");
        bool ok = true;
        int64_t x = chan_recv_i64(closedch, &ok);
        if (x != 0 || ok) {
            fprintf(stderr, "closedch: %lld %s\n", (long long)x, ok ? "true" : "false");
            go_panic("expected 0, false from closed channel");
        }
    }
}

static void select3_f07(void) { chan_send_i64(closedch, 7); }

static void select3_f08(void)
{
    chan_t *ch = chan_make(sizeof(int64_t), 0);
    chan_recv(ch, NULL);
}

static void select3_f09(void) { chan_select(NULL, 0, false); /* select {} */ }

static void select3_f10(void)
{
    select_case_t cases[1] = {RECV(nilch, NULL)};
    chan_select(cases, 1, false);
    select3_unreachable();
}

static void select3_f11(void)
{
    select_case_t cases[1] = {SEND(nilch, &(int64_t){7})};
    chan_select(cases, 1, false);
    select3_unreachable();
}

static void select3_f12(void)
{
    select_case_t cases[2] = {RECV(nilch, NULL), SEND(nilch, &(int64_t){7})};
    chan_select(cases, 2, false);
    select3_unreachable();
}

static void select3_f13(void)
{
    chan_t *ch = chan_make(sizeof(int64_t), 0);
    select_case_t cases[1] = {RECV(ch, NULL)};
    chan_select(cases, 1, false);
    select3_unreachable();
}

static void select3_f14(void) { chan_select(NULL, 0, true); /* select { default: } */ }

static void select3_f15(void)
{
    select_case_t cases[1] = {RECV(nilch, NULL)};
    if (chan_select(cases, 1, true) == 0)
        select3_unreachable();
}

static void select3_f16(void)
{
    select_case_t cases[1] = {SEND(nilch, &(int64_t){7})};
    if (chan_select(cases, 1, true) == 0)
        select3_unreachable();
}

static void select3_f17(void)
{
    chan_t *ch = chan_make(sizeof(int64_t), async);
    select_case_t cases[1] = {SEND(ch, &(int64_t){7})};
    if (chan_select(cases, 1, true) == -1)
        select3_unreachable();
}

static void select3_f18(void)
{
    chan_t *ch = chan_make(sizeof(int64_t), async);
    chan_send_i64(ch, 7);
    select_case_t cases[1] = {RECV(ch, NULL)};
    if (chan_select(cases, 1, true) == -1)
        select3_unreachable();
}

static void select3_f19(void)
{
    select_case_t cases[1] = {RECV(closedch, NULL)};
    chan_select(cases, 1, false);
}

static void select3_f20(void)
{
    int64_t x = -1;
    select_case_t cases[1] = {RECV(closedch, &x)}; /* case x := (<-closedch): */
    chan_select(cases, 1, false);
    (void)x;
}

static void select3_f21(void)
{
    int64_t x = -1;
    select_case_t cases[1] = {RECV(closedch, &x)}; /* case x, ok := (<-closedch): */
    chan_select(cases, 1, false);
    bool ok = cases[0].ok;
    (void)x;
    (void)ok;
}

static void select3_f22(void)
{
    select_case_t cases[1] = {SEND(closedch, &(int64_t){7})};
    chan_select(cases, 1, false);
}

static void select3_f23(void)
{
    chan_t *c = chan_make(sizeof(int64_t), 0);
    int64_t v;
    select_case_t cases[2] = {SEND(c, &(int64_t){1}), RECV(c, &v)};
    chan_select(cases, 2, false);
}

static int select3_steps;

static void select3_main(void *arg)
{
    (void)arg;
    select3_steps = 0;
    select3_panics_recovered = 0;
    memset(select3_recovered, 0, sizeof select3_recovered);
    nilch = NULL;
    closedch = chan_make(sizeof(int64_t), 0);
    chan_close(closedch);

    /* sending/receiving from a nil channel blocks */
    select3_testBlock(always, select3_f01);
    select3_testBlock(always, select3_f02);

    /* sending/receiving from a nil channel inside a select is never selected */
    select3_testPanic(never, select3_f03);
    select3_testPanic(never, select3_f04);

    /* sending to an async channel with free buffer space never blocks */
    select3_testBlock(never, select3_f05);

    /* receiving from a closed channel never blocks */
    select3_testBlock(never, select3_f06);

    /* sending to a closed channel panics. */
    select3_testPanic(always, select3_f07);

    /* receiving from a non-ready channel always blocks */
    select3_testBlock(always, select3_f08);

    /* empty selects always block */
    select3_testBlock(always, select3_f09);

    /* selects with only nil channels always block */
    select3_testBlock(always, select3_f10);
    select3_testBlock(always, select3_f11);
    select3_testBlock(always, select3_f12);

    /* selects with non-ready non-nil channels always block */
    select3_testBlock(always, select3_f13);

    /* selects with default cases don't block */
    select3_testBlock(never, select3_f14);
    select3_testBlock(never, select3_f15);
    select3_testBlock(never, select3_f16);

    /* selects with ready channels don't block */
    select3_testBlock(never, select3_f17);
    select3_testBlock(never, select3_f18);

    /* selects with closed channels behave like ordinary operations */
    select3_testBlock(never, select3_f19);
    select3_testBlock(never, select3_f20);
    select3_testBlock(never, select3_f21);
    select3_testPanic(always, select3_f22);

    /* select should not get confused if it sees itself */
    select3_testBlock(always, select3_f23);
    select3_steps = 23;
}

START_TEST(select3_go)
{
    run_clean(_i, select3_main, NULL);
    ck_assert_int_eq(select3_steps, 23);
    ck_assert_int_eq(select3_panics_recovered, 2);
    ck_assert_str_eq(select3_recovered[0], "send on closed channel");
    ck_assert_str_eq(select3_recovered[1], "send on closed channel");
}
END_TEST

/* select3's matrix again, each function alone as main: what blocks must
 * deadlock with Go's wait reason in the dump, what panics must panic with
 * Go's message, the rest must return. */
typedef struct select3_case {
    void (*f)(void);       /* the function */
    sched_result_t want;   /* DONE, DEADLOCK or PANIC */
    const char *needle;    /* text the report must contain */
} select3_case;

static const select3_case select3_matrix[] = {
    {select3_f01, SCHED_DEADLOCK, "goroutine 1 [chan send (nil chan)]:"},
    {select3_f02, SCHED_DEADLOCK, "goroutine 1 [chan receive (nil chan)]:"},
    {select3_f03, SCHED_DONE, ""},
    {select3_f04, SCHED_DONE, ""},
    {select3_f05, SCHED_DONE, ""},
    {select3_f06, SCHED_DONE, ""},
    {select3_f07, SCHED_PANIC, "panic: send on closed channel\n"},
    {select3_f08, SCHED_DEADLOCK, "goroutine 1 [chan receive]:"},
    {select3_f09, SCHED_DEADLOCK, "goroutine 1 [select (no cases)]:"},
    /* A one-case select is compiled to the plain channel operation. */
    {select3_f10, SCHED_DEADLOCK, "goroutine 1 [chan receive (nil chan)]:"},
    {select3_f11, SCHED_DEADLOCK, "goroutine 1 [chan send (nil chan)]:"},
    {select3_f12, SCHED_DEADLOCK, "goroutine 1 [select]:"},
    {select3_f13, SCHED_DEADLOCK, "goroutine 1 [chan receive]:"},
    {select3_f14, SCHED_DONE, ""},
    {select3_f15, SCHED_DONE, ""},
    {select3_f16, SCHED_DONE, ""},
    {select3_f17, SCHED_DONE, ""},
    {select3_f18, SCHED_DONE, ""},
    {select3_f19, SCHED_DONE, ""},
    {select3_f20, SCHED_DONE, ""},
    {select3_f21, SCHED_DONE, ""},
    {select3_f22, SCHED_PANIC, "panic: send on closed channel\n"},
    {select3_f23, SCHED_DEADLOCK, "goroutine 1 [select]:"},
};

static void select3_alone_main(void *arg)
{
    const select3_case *k = arg;
    nilch = NULL;
    closedch = chan_make(sizeof(int64_t), 0);
    chan_close(closedch);
    k->f();
}

START_TEST(select3_matrix_alone)
{
    int n = (int)(sizeof select3_matrix / sizeof select3_matrix[0]);
    for (int k = 0; k < n; k++) {
        const select3_case *c = &select3_matrix[k];
        run_expect(_i, select3_alone_main, (void *)c, c->want, c->needle);
    }
    /* The deadlock report's first line, once. */
    run_expect(_i, select3_alone_main, (void *)&select3_matrix[0], SCHED_DEADLOCK,
               "fatal error: all goroutines are asleep - deadlock!\n\ngoroutine 1 [");
}
END_TEST

/* ==== test/chan/select6.go =============================================== */
/* Test for select: Issue 2075. A bug in select corrupts channel queues of
 * failed cases if there are multiple waiters on those channels and the
 * select is the last in the queue. If further waits are made on the
 * channel without draining it first then those waiters will never wake
 * up. In the code below c1 is such a channel. */

typedef struct select6_args {
    chan_t *c1, *c2, *c3;  /* chan bool */
} select6_args;

static void select6_func1(void *arg) { recv_bool(((select6_args *)arg)->c1); }

static void select6_func2(void *arg)
{
    select6_args *a = arg;
    select_case_t cases[2] = {RECV(a->c1, NULL), RECV(a->c2, NULL)};
    switch (chan_select(cases, 2, false)) {
    case 0:
        go_panic("dummy");
    case 1:
        send_bool(a->c3, true);
        break;
    }
    recv_bool(a->c1);
}

static void select6_func3(void *arg) { send_bool(((select6_args *)arg)->c2, true); }

static void select6_main(void *arg)
{
    (void)arg;
    chan_t *c1 = chan_make(sizeof(bool), 0);
    chan_t *c2 = chan_make(sizeof(bool), 0);
    chan_t *c3 = chan_make(sizeof(bool), 0);
    GO(select6_func1, "main.main.func1", select6_args, .c1 = c1, .c2 = c2, .c3 = c3);
    GO(select6_func2, "main.main.func2", select6_args, .c1 = c1, .c2 = c2, .c3 = c3);
    GO(select6_func3, "main.main.func3", select6_args, .c1 = c1, .c2 = c2, .c3 = c3);
    recv_bool(c3);
    send_bool(c1, true);
    send_bool(c1, true);
}

START_TEST(select6_go)
{
    run_clean(_i, select6_main, NULL);
}
END_TEST

/* ==== test/chan/select7.go =============================================== */
/* Test select when discarding a value: a plain receive, a one-case select
 * and a two-case select, each against a plain send, a one-case select
 * send and a two-case select send, with the receiver racing the sender. */

typedef void (*select7_recv_fn)(chan_t *c);

static void select7_recv1(chan_t *c) { chan_recv(c, NULL); }

static void select7_recv2(chan_t *c)
{
    select_case_t cases[1] = {RECV(c, NULL)};
    chan_select(cases, 1, false);
}

static void select7_recv3(chan_t *c)
{
    chan_t *c2 = chan_make(sizeof(int64_t), 0);
    select_case_t cases[2] = {RECV(c, NULL), RECV(c2, NULL)};
    chan_select(cases, 2, false);
}

typedef struct select7_args {
    select7_recv_fn recv;  /* the receiver under test */
    chan_t *c;             /* its channel */
} select7_args;

static void select7_goroutine(void *arg)
{
    select7_args *a = arg;
    a->recv(a->c);
}

static int select7_sent;

static void select7_send1(select7_recv_fn recv)
{
    chan_t *c = chan_make(sizeof(int64_t), 0);
    GO(select7_goroutine, "main.recv", select7_args, .recv = recv, .c = c);
    go_yield();
    chan_send_i64(c, 1);
    select7_sent++;
}

static void select7_send2(select7_recv_fn recv)
{
    chan_t *c = chan_make(sizeof(int64_t), 0);
    GO(select7_goroutine, "main.recv", select7_args, .recv = recv, .c = c);
    go_yield();
    select_case_t cases[1] = {SEND(c, &(int64_t){1})};
    chan_select(cases, 1, false);
    select7_sent++;
}

static void select7_send3(select7_recv_fn recv)
{
    chan_t *c = chan_make(sizeof(int64_t), 0);
    GO(select7_goroutine, "main.recv", select7_args, .recv = recv, .c = c);
    go_yield();
    chan_t *c2 = chan_make(sizeof(int64_t), 0);
    select_case_t cases[2] = {SEND(c, &(int64_t){1}), SEND(c2, &(int64_t){1})};
    chan_select(cases, 2, false);
    select7_sent++;
}

static void select7_main(void *arg)
{
    (void)arg;
    select7_sent = 0;
    select7_send1(select7_recv1);
    select7_send2(select7_recv1);
    select7_send3(select7_recv1);
    select7_send1(select7_recv2);
    select7_send2(select7_recv2);
    select7_send3(select7_recv2);
    select7_send1(select7_recv3);
    select7_send2(select7_recv3);
    select7_send3(select7_recv3);
}

START_TEST(select7_go)
{
    run_clean(_i, select7_main, NULL);
    ck_assert_int_eq(select7_sent, 9);
}
END_TEST

/* ==== test/chan/select8.go =============================================== */
/* Test break statements in a select (gccgo had a bug in handling this),
 * for 1, 2 and 3-case selects. In C a select's cases are the cases of a
 * switch on chan_select's result, and `break` leaves that switch exactly
 * as Go's break leaves the select: the panics after it are unreachable. */

static chan_t *select8_ch; /* var ch = make(chan int) */

static void select8_func1(void *arg)
{
    (void)arg;
    for (;;)
        chan_send_i64(select8_ch, 5);
}

static int select8_left;

static void select8_main(void *arg)
{
    (void)arg;
    select8_left = 0;
    select8_ch = chan_make(sizeof(int64_t), 0);
    go_spawn(select8_func1, NULL, "main.main.func1");

    select_case_t s1[1] = {RECV(select8_ch, NULL)};
    switch (chan_select(s1, 1, false)) {
    case 0:
        break;
        go_panic("unreachable");
    }
    select8_left++;

    switch (chan_select(NULL, 0, true)) {
    default:
        break;
        go_panic("unreachable");
    }
    select8_left++;

    select_case_t s3[1] = {RECV(select8_ch, NULL)};
    switch (chan_select(s3, 1, true)) {
    case 0:
        break;
        go_panic("unreachable");
    default:
        break;
        go_panic("unreachable");
    }
    select8_left++;

    select_case_t s4[2] = {RECV(select8_ch, NULL), SEND(select8_ch, &(int64_t){10})};
    switch (chan_select(s4, 2, true)) {
    case 0:
        break;
        go_panic("unreachable");
    case 1:
        go_panic("unreachable");
    default:
        break;
        go_panic("unreachable");
    }
    select8_left++;
}

START_TEST(select8_go)
{
    run_clean(_i, select8_main, NULL);
    ck_assert_int_eq(select8_left, 4);
}
END_TEST

/* ==== test/chan/zerosize.go ============================================== */
/* Test making channels of a zero-sized type ([0]byte and struct{}, both of
 * size 0; C has no empty struct). chansim adds the operations the Go
 * program leaves out: buffered and unbuffered traffic, select and close. */

static void zerosize_func1(void *arg) { chan_send(arg, NULL); }

static int zerosize_received;

static void zerosize_main(void *arg)
{
    (void)arg;
    zerosize_received = 0;
    (void)chan_make(0, 0); /* _ = make(chan [0]byte) */
    (void)chan_make(0, 1); /* _ = make(chan [0]byte, 1) */
    (void)chan_make(0, 0); /* _ = make(chan struct{}) */
    (void)chan_make(0, 1); /* _ = make(chan struct{}, 1) */

    /* chansim: the channels carry their zero-size values. */
    chan_t *b = chan_make(0, 3);
    for (int i = 0; i < 3; i++)
        chan_send(b, NULL);
    if (chan_len(b) != 3 || chan_try_send(b, NULL))
        go_panic("zero-size buffer: len %lld", (long long)chan_len(b));
    char sink[1];
    for (int i = 0; i < 3; i++)
        if (chan_recv(b, sink))
            zerosize_received++;
    chan_t *u = chan_make(0, 0);
    go_spawn(zerosize_func1, u, "main.main.func1");
    select_case_t cases[2] = {RECV(u, sink), RECV(b, sink)};
    if (chan_select(cases, 2, false) != 0 || !cases[0].ok)
        go_panic("zero-size rendezvous");
    zerosize_received++;
    chan_close(b);
    if (chan_recv(b, sink))
        go_panic("receive from closed zero-size channel");
}

START_TEST(zerosize_go)
{
    run_clean(_i, zerosize_main, NULL);
    ck_assert_int_eq(zerosize_received, 4);
}
END_TEST

/* ==== test/chan/perm.go, at run time ===================================== */
/* perm.go checks channel directions at compile time: C has no directions,
 * so the port keeps its sequence of legal operations on one channel seen
 * as bidirectional (c), send-only (cs) and receive-only (cr), and checks
 * the run-time rules of close instead: close(c) then close(cs) on the same
 * channel panics "close of closed channel"; perm's variables are nil, and
 * close of a nil channel panics "close of nil channel"; after close a send
 * panics, a receive gives zero, false; close wakes a blocked receiver and
 * makes a blocked sender panic. */

static int perm_steps;

static void perm_main(void *arg)
{
    (void)arg;
    perm_steps = 0;
    chan_t *c = chan_make(sizeof(int64_t), 1);
    chan_t *cr = c; /* cr = c  // ok */
    chan_t *cs = c; /* cs = c  // ok */

    chan_send_i64(c, 0); /* c <- 0 // ok */
    chan_recv(c, NULL);  /* <-c    // ok */
    chan_send_i64(c, 0);
    bool ok = false;
    int64_t x = chan_recv_i64(c, &ok); /* x, ok := <-c  // ok */
    if (x != 0 || !ok)
        go_panic("x, ok := <-c");

    chan_send_i64(cs, 0); /* cs <- 0 // ok */
    chan_recv(cr, NULL);  /* <-cr    // ok */
    chan_send_i64(cs, 0);
    x = chan_recv_i64(cr, &ok); /* x, ok = <-cr  // ok */
    if (x != 0 || !ok)
        go_panic("x, ok = <-cr");

    /* select { case c <- 0: case x := <-c: case x := <-cr: case cs <- 0: } */
    for (int round = 0; round < 4; round++) {
        int64_t zero0 = 0, got = -1;
        select_case_t cases[4] = {SEND(c, &zero0), RECV(c, &got), RECV(cr, &got), SEND(cs, &zero0)};
        int i = chan_select(cases, 4, false);
        /* Empty, only sends are ready; full, only receives. */
        bool sent = i == 0 || i == 3;
        if (sent != (round % 2 == 0) || (!sent && got != 0))
            go_panic("select round %d chose case %d", round, i);
    }
    perm_steps++;

    chan_close(c); /* close(c) */
    if (!chan_closed(cs) || !chan_closed(cr))
        go_panic("close(c) did not close its aliases");
    x = chan_recv_i64(cr, &ok);
    if (x != 0 || ok)
        go_panic("receive after close: %lld %d", (long long)x, ok);
    perm_steps++;
    chan_close(cs); /* close(cs): at run time the channel is already closed */
}

static void perm_nil_main(void *arg)
{
    (void)arg;
    chan_t *c = NULL; /* var c chan int: perm's variables are never made */
    chan_close(c);
}

static void perm_send_after_close(void *arg)
{
    (void)arg;
    chan_t *c = chan_make(sizeof(int64_t), 1);
    chan_close(c);
    chan_send_i64(c, 0);
}

static void perm_close_wakes_func1(void *arg)
{
    bool ok = true;
    int64_t v = chan_recv_i64(arg, &ok);
    if (v != 0 || ok)
        go_panic("woken receiver got %lld %d", (long long)v, ok);
    perm_steps++;
}

static void perm_close_wakes_func2(void *arg) { chan_send_i64(arg, 1); }

static void perm_close_wakes_main(void *arg)
{
    (void)arg;
    perm_steps = 0;
    chan_t *r = chan_make(sizeof(int64_t), 0);
    go_spawn(perm_close_wakes_func1, r, "main.main.func1");
    go_sleep(SIM_MS);
    chan_close(r);
    go_sleep(SIM_MS);
    if (perm_steps != 1)
        go_panic("close did not wake the receiver");
    chan_t *s = chan_make(sizeof(int64_t), 0);
    go_spawn(perm_close_wakes_func2, s, "main.main.func2");
    go_sleep(SIM_MS);
    chan_close(s); /* the blocked sender panics */
    go_sleep(SIM_MS);
    go_panic("unreachable: the sender should have panicked");
}

START_TEST(perm_go)
{
    run_expect(_i, perm_main, NULL, SCHED_PANIC, "panic: close of closed channel\n");
    ck_assert_int_eq(perm_steps, 2);
    run_expect(_i, perm_nil_main, NULL, SCHED_PANIC, "panic: close of nil channel\n");
    run_expect(_i, perm_send_after_close, NULL, SCHED_PANIC, "panic: send on closed channel\n");
    run_expect(_i, perm_close_wakes_main, NULL, SCHED_PANIC,
               "panic: send on closed channel\n\ngoroutine 3 [running]:\nmain.main.func2()\n");
    ck_assert_int_eq(perm_steps, 1);
}
END_TEST

/* ==== src/runtime/chan_test.go: TestChan ================================= */

enum { TESTCHAN_N = 200 }; /* Go: 200, and 20 with -short */

typedef struct TestChan_args {
    chan_t *c, *done;  /* the channel under test; a result channel */
    bool *flag;        /* a variable the closure sets */
    int64_t n;         /* how many values */
} TestChan_args;

static void TestChan_func1(void *arg)
{
    TestChan_args *a = arg;
    chan_recv(a->c, NULL); /* _ = <-c */
    *a->flag = true;       /* recv1 = true */
}

static void TestChan_func2(void *arg)
{
    TestChan_args *a = arg;
    bool ok;
    int64_t v;
    v = chan_recv_i64(a->c, &ok); /* _, _ = <-c */
    (void)v;
    *a->flag = true; /* recv2 = true */
}

static void TestChan_func3(void *arg)
{
    TestChan_args *a = arg;
    chan_send_i64(a->c, 0);
    *a->flag = true; /* atomic.StoreUint32(&sent, 1) */
}

static void TestChan_func4(void *arg)
{
    TestChan_args *a = arg;
    bool ok = true;
    int64_t v = chan_recv_i64(a->c, &ok);
    send_bool(a->done, v == 0 && ok == false);
}

/* for i := 0; i < n; i++ { c <- i } */
static void TestChan_sendn(void *arg)
{
    TestChan_args *a = arg;
    for (int64_t i = 0; i < a->n; i++)
        chan_send_i64(a->c, i);
}

enum { TESTCHAN_P = 4, TESTCHAN_L = 1000 }; /* Go's P and L */

static void TestChan_recvL(void *arg)
{
    TestChan_args *a = arg;
    int *recv = gc_new(TESTCHAN_L * sizeof *recv); /* recv := make(map[int]int) */
    for (int i = 0; i < TESTCHAN_L; i++) {
        int64_t v = chan_recv_i64(a->c, NULL);
        if (v < 0 || v >= TESTCHAN_L)
            go_panic("received %lld, out of range", (long long)v); /* chansim */
        recv[v] = recv[v] + 1;
    }
    chan_send(a->done, &recv); /* done <- recv: the map passes to the receiver */
}

static int TestChan_caps_done;

static void TestChan(void *arg)
{
    (void)arg;
    TestChan_caps_done = 0;
    for (int chanCap = 0; chanCap < TESTCHAN_N; chanCap++) {
        {
            /* Ensure that receive from empty chan blocks. */
            chan_t *c = chan_make(sizeof(int64_t), chanCap);
            bool *recv1 = gc_new(sizeof *recv1);
            GO(TestChan_func1, "runtime_test.TestChan.func1", TestChan_args, .c = c, .flag = recv1);
            bool *recv2 = gc_new(sizeof *recv2);
            GO(TestChan_func2, "runtime_test.TestChan.func2", TestChan_args, .c = c, .flag = recv2);
            go_sleep(SIM_MS);
            if (*recv1 || *recv2)
                go_panic("chan[%d]: receive from empty chan", chanCap);
            /* Ensure that non-blocking receive does not block. */
            select_case_t r1[1] = {RECV(c, NULL)}; /* case _ = <-c: */
            if (chan_select(r1, 1, true) == 0)
                go_panic("chan[%d]: receive from empty chan", chanCap);
            int64_t v;
            select_case_t r2[1] = {RECV(c, &v)}; /* case _, _ = <-c: */
            if (chan_select(r2, 1, true) == 0)
                go_panic("chan[%d]: receive from empty chan", chanCap);
            chan_send_i64(c, 0);
            chan_send_i64(c, 0);
        }

        {
            /* Ensure that send to full chan blocks. */
            chan_t *c = chan_make(sizeof(int64_t), chanCap);
            for (int64_t i = 0; i < chanCap; i++)
                chan_send_i64(c, i);
            bool *sent = gc_new(sizeof *sent);
            GO(TestChan_func3, "runtime_test.TestChan.func3", TestChan_args, .c = c, .flag = sent);
            go_sleep(SIM_MS);
            if (*sent)
                go_panic("chan[%d]: send to full chan", chanCap);
            /* Ensure that non-blocking send does not block. */
            select_case_t s1[1] = {SEND(c, &(int64_t){0})};
            if (chan_select(s1, 1, true) == 0)
                go_panic("chan[%d]: send to full chan", chanCap);
            chan_recv(c, NULL);
        }

        {
            /* Ensure that we receive 0 from closed chan. */
            chan_t *c = chan_make(sizeof(int64_t), chanCap);
            for (int64_t i = 0; i < chanCap; i++)
                chan_send_i64(c, i);
            chan_close(c);
            for (int64_t i = 0; i < chanCap; i++) {
                int64_t v = chan_recv_i64(c, NULL);
                if (v != i)
                    go_panic("chan[%d]: received %lld, expected %lld", chanCap, (long long)v,
                             (long long)i);
            }
            int64_t v = chan_recv_i64(c, NULL);
            if (v != 0)
                go_panic("chan[%d]: received %lld, expected %d", chanCap, (long long)v, 0);
            bool ok = true;
            v = chan_recv_i64(c, &ok);
            if (v != 0 || ok)
                go_panic("chan[%d]: received %lld/%s, expected %d/%s", chanCap, (long long)v,
                         ok ? "true" : "false", 0, "false");
        }

        {
            /* Ensure that close unblocks receive. */
            chan_t *c = chan_make(sizeof(int64_t), chanCap);
            chan_t *done = chan_make(sizeof(bool), 0);
            GO(TestChan_func4, "runtime_test.TestChan.func4", TestChan_args, .c = c, .done = done);
            go_sleep(SIM_MS);
            chan_close(c);
            if (!recv_bool(done))
                go_panic("chan[%d]: received non zero from closed chan", chanCap);
        }

        {
            /* Send 100 integers, ensure that we receive them non-corrupted
             * in FIFO order. */
            chan_t *c = chan_make(sizeof(int64_t), chanCap);
            GO(TestChan_sendn, "runtime_test.TestChan.func5", TestChan_args, .c = c, .n = 100);
            for (int64_t i = 0; i < 100; i++) {
                int64_t v = chan_recv_i64(c, NULL);
                if (v != i)
                    go_panic("chan[%d]: received %lld, expected %lld", chanCap, (long long)v,
                             (long long)i);
            }

            /* Same, but using recv2. */
            GO(TestChan_sendn, "runtime_test.TestChan.func6", TestChan_args, .c = c, .n = 100);
            for (int64_t i = 0; i < 100; i++) {
                bool ok = false;
                int64_t v = chan_recv_i64(c, &ok);
                if (!ok)
                    go_panic("chan[%d]: receive failed, expected %lld", chanCap, (long long)i);
                if (v != i)
                    go_panic("chan[%d]: received %lld, expected %lld", chanCap, (long long)v,
                             (long long)i);
            }

            /* Send 1000 integers in 4 goroutines, ensure that we receive
             * what we send. */
            for (int p = 0; p < TESTCHAN_P; p++)
                GO(TestChan_sendn, "runtime_test.TestChan.func7", TestChan_args, .c = c,
                   .n = TESTCHAN_L);
            chan_t *done = chan_make(sizeof(int *), 0); /* make(chan map[int]int) */
            for (int p = 0; p < TESTCHAN_P; p++)
                GO(TestChan_recvL, "runtime_test.TestChan.func8", TestChan_args, .c = c,
                   .done = done);
            int recv[TESTCHAN_L] = {0};
            for (int p = 0; p < TESTCHAN_P; p++) {
                int *m = NULL;
                chan_recv(done, &m); /* for k, v := range <-done */
                for (int k = 0; k < TESTCHAN_L; k++)
                    recv[k] = recv[k] + m[k];
            }
            int len = 0; /* len(recv): the keys present */
            for (int k = 0; k < TESTCHAN_L; k++)
                len += recv[k] != 0;
            if (len != TESTCHAN_L)
                go_panic("chan[%d]: received %d values, expected %d", chanCap, len, TESTCHAN_L);
            for (int k = 0; k < TESTCHAN_L; k++)
                if (recv[k] != TESTCHAN_P)
                    go_panic("chan[%d]: received %d values, expected %d", chanCap, recv[k],
                             TESTCHAN_P);
        }

        {
            /* Test len/cap. */
            chan_t *c = chan_make(sizeof(int64_t), chanCap);
            if (chan_len(c) != 0 || chan_cap(c) != chanCap)
                go_panic("chan[%d]: bad len/cap, expect %d/%d, got %lld/%lld", chanCap, 0, chanCap,
                         (long long)chan_len(c), (long long)chan_cap(c));
            for (int64_t i = 0; i < chanCap; i++)
                chan_send_i64(c, i);
            if (chan_len(c) != chanCap || chan_cap(c) != chanCap)
                go_panic("chan[%d]: bad len/cap, expect %d/%d, got %lld/%lld", chanCap, chanCap,
                         chanCap, (long long)chan_len(c), (long long)chan_cap(c));
        }
        TestChan_caps_done++;
    }
}

START_TEST(test_chan)
{
    run_clean(_i, TestChan, NULL);
    ck_assert_int_eq(TestChan_caps_done, TESTCHAN_N);
}
END_TEST

/* ==== src/runtime/chan_test.go: TestNonblockRecvRace ===================== */
/* A non-blocking receive from a channel that holds a value, or that was
 * closed, must never take the default case, whatever main does meanwhile. */

/* TestNonblockRecvRace: Go 10000, and 100 with -short. TestNonblockSelectRace
 * and TestNonblockSelectRace2: Go 100000, and 1000 with -short. */
enum { NONBLOCK_RACE_N = 10000 };

static void TestNonblockRecvRace_func1(void *arg)
{
    select_case_t cases[1] = {RECV(arg, NULL)};
    if (chan_select(cases, 1, true) == -1)
        go_panic("chan is not ready");
}

static void TestNonblockRecvRace(void *arg)
{
    (void)arg;
    for (int i = 0; i < NONBLOCK_RACE_N; i++) {
        chan_t *c = chan_make(sizeof(int64_t), 1);
        chan_send_i64(c, 1);
        go_spawn(TestNonblockRecvRace_func1, c, "runtime_test.TestNonblockRecvRace.func1");
        chan_close(c);
        chan_recv(c, NULL);
    }
}

START_TEST(test_nonblock_recv_race)
{
    run_clean(_i, TestNonblockRecvRace, NULL);
}
END_TEST

/* ==== src/runtime/chan_test.go: TestNonblockSelectRace{,2} =============== */
/* Select acts on the state of the channels at one moment: from the time the
 * second goroutine is created, at least one of c1 and c2 is always ready
 * for receiving, so its non-blocking select must never take default. The
 * second test closes c2 instead of sending on it. */

typedef struct TestNonblockSelectRace_args {
    chan_t *c1, *c2, *done;  /* the two channels; the verdict */
} TestNonblockSelectRace_args;

static void TestNonblockSelectRace_func1(void *arg)
{
    TestNonblockSelectRace_args *a = arg;
    select_case_t cases[2] = {RECV(a->c1, NULL), RECV(a->c2, NULL)};
    if (chan_select(cases, 2, true) == -1) {
        send_bool(a->done, false);
        return;
    }
    send_bool(a->done, true);
}

static void TestNonblockSelectRace_common(bool close_c2)
{
    chan_t *done = chan_make(sizeof(bool), 1);
    for (int i = 0; i < NONBLOCK_RACE_N; i++) {
        chan_t *c1 = chan_make(sizeof(int64_t), 1);
        chan_t *c2 = chan_make(sizeof(int64_t), close_c2 ? 0 : 1);
        chan_send_i64(c1, 1);
        GO(TestNonblockSelectRace_func1, "runtime_test.TestNonblockSelectRace.func1",
           TestNonblockSelectRace_args, .c1 = c1, .c2 = c2, .done = done);
        if (close_c2)
            chan_close(c2);
        else
            chan_send_i64(c2, 1);
        select_case_t cases[1] = {RECV(c1, NULL)};
        chan_select(cases, 1, true);
        if (!recv_bool(done))
            go_panic("no chan is ready");
    }
}

static void TestNonblockSelectRace(void *arg)
{
    (void)arg;
    TestNonblockSelectRace_common(false);
}

static void TestNonblockSelectRace2(void *arg)
{
    (void)arg;
    TestNonblockSelectRace_common(true);
}

START_TEST(test_nonblock_select_race)
{
    run_clean(_i, TestNonblockSelectRace, NULL);
    run_clean(_i, TestNonblockSelectRace2, NULL);
}
END_TEST

/* ==== src/runtime/chan_test.go: TestSelfSelect =========================== */
/* Ensure that send/recv on the same chan in select does not crash nor
 * deadlock. sync.WaitGroup becomes a channel the two goroutines signal on
 * when they finish (chansim's sync package is its own module). */

typedef struct TestSelfSelect_args {
    chan_t *c, *wg;  /* the channel; the WaitGroup stand-in */
    int p;           /* this goroutine's value */
    int chanCap;     /* c's capacity */
} TestSelfSelect_args;

static int TestSelfSelect_selects;

static void TestSelfSelect_func1(void *arg)
{
    TestSelfSelect_args *a = arg;
    for (int i = 0; i < 1000; i++) {
        int64_t p = a->p, v = -1;
        if (a->p == 0 || i % 2 == 0) {
            select_case_t cases[2] = {SEND(a->c, &p), RECV(a->c, &v)};
            if (chan_select(cases, 2, false) == 1 && a->chanCap == 0 && v == p)
                go_panic("self receive");
        } else {
            select_case_t cases[2] = {RECV(a->c, &v), SEND(a->c, &p)};
            if (chan_select(cases, 2, false) == 0 && a->chanCap == 0 && v == p)
                go_panic("self receive");
        }
        TestSelfSelect_selects++;
    }
    send_bool(a->wg, true); /* defer wg.Done() */
}

static void TestSelfSelect(void *arg)
{
    (void)arg;
    TestSelfSelect_selects = 0;
    const int caps[2] = {0, 10};
    for (int k = 0; k < 2; k++) {
        int chanCap = caps[k];
        chan_t *wg = chan_make(sizeof(bool), 2); /* wg.Add(2) */
        chan_t *c = chan_make(sizeof(int64_t), chanCap);
        for (int p = 0; p < 2; p++)
            GO(TestSelfSelect_func1, "runtime_test.TestSelfSelect.func1", TestSelfSelect_args,
               .c = c, .wg = wg, .p = p, .chanCap = chanCap);
        recv_bool(wg); /* wg.Wait() */
        recv_bool(wg);
    }
}

START_TEST(test_self_select)
{
    run_clean(_i, TestSelfSelect, NULL);
    ck_assert_int_eq(TestSelfSelect_selects, 2 * 2 * 1000);
}
END_TEST

/* ==== src/runtime/chan_test.go: TestSelectStress ========================= */
/* Four goroutines send N values on each of four channels, four receive N
 * values from each, one sends N values on each in a single select and one
 * receives N from each in a single select, setting a channel to nil once
 * it is done with it. All interact chaotically; the construct must not
 * deadlock. The WaitGroup is again a channel. */

enum { SELECT_STRESS_N = 10000 }; /* Go: 1e5, and 1e4 with -short */

typedef struct TestSelectStress_args {
    chan_t **c;  /* var c [4]chan int */
    int k;       /* which channel */
    chan_t *wg;  /* the WaitGroup stand-in */
} TestSelectStress_args;

static void TestSelectStress_func1(void *arg)
{
    TestSelectStress_args *a = arg;
    for (int i = 0; i < SELECT_STRESS_N; i++)
        chan_send_i64(a->c[a->k], 0);
    send_bool(a->wg, true);
}

static void TestSelectStress_func2(void *arg)
{
    TestSelectStress_args *a = arg;
    for (int i = 0; i < SELECT_STRESS_N; i++)
        chan_recv(a->c[a->k], NULL);
    send_bool(a->wg, true);
}

static void TestSelectStress_func3(void *arg)
{
    TestSelectStress_args *a = arg;
    int n[4] = {0};
    chan_t *c1[4];
    memcpy(c1, a->c, sizeof c1);
    static const int order[4] = {3, 2, 0, 1}; /* the cases' order in Go */
    for (int i = 0; i < 4 * SELECT_STRESS_N; i++) {
        int64_t zero0 = 0;
        select_case_t cases[4];
        for (int j = 0; j < 4; j++)
            cases[j] = (select_case_t)SEND(c1[order[j]], &zero0);
        int k = order[chan_select(cases, 4, false)];
        n[k]++;
        if (n[k] == SELECT_STRESS_N)
            c1[k] = NULL;
    }
    send_bool(a->wg, true);
}

static void TestSelectStress_func4(void *arg)
{
    TestSelectStress_args *a = arg;
    int n[4] = {0};
    chan_t *c1[4];
    memcpy(c1, a->c, sizeof c1);
    for (int i = 0; i < 4 * SELECT_STRESS_N; i++) {
        select_case_t cases[4];
        for (int j = 0; j < 4; j++)
            cases[j] = (select_case_t)RECV(c1[j], NULL);
        int k = chan_select(cases, 4, false);
        n[k]++;
        if (n[k] == SELECT_STRESS_N)
            c1[k] = NULL;
    }
    send_bool(a->wg, true);
}

static void TestSelectStress(void *arg)
{
    (void)arg;
    chan_t **c = gc_new(4 * sizeof *c);
    c[0] = chan_make(sizeof(int64_t), 0);
    c[1] = chan_make(sizeof(int64_t), 0);
    c[2] = chan_make(sizeof(int64_t), 2);
    c[3] = chan_make(sizeof(int64_t), 3);
    chan_t *wg = chan_make(sizeof(bool), 10); /* wg.Add(10) */
    for (int k = 0; k < 4; k++) {
        GO(TestSelectStress_func1, "runtime_test.TestSelectStress.func1", TestSelectStress_args,
           .c = c, .k = k, .wg = wg);
        GO(TestSelectStress_func2, "runtime_test.TestSelectStress.func2", TestSelectStress_args,
           .c = c, .k = k, .wg = wg);
    }
    GO(TestSelectStress_func3, "runtime_test.TestSelectStress.func3", TestSelectStress_args,
       .c = c, .wg = wg);
    GO(TestSelectStress_func4, "runtime_test.TestSelectStress.func4", TestSelectStress_args,
       .c = c, .wg = wg);
    for (int i = 0; i < 10; i++) /* wg.Wait() */
        recv_bool(wg);
}

START_TEST(test_select_stress)
{
    run_clean(_i, TestSelectStress, NULL);
}
END_TEST

/* ==== src/runtime/chan_test.go: TestMultiConsumer ======================== */

enum { MC_NWORK = 23, MC_NITER = 271828 }; /* Go's nwork and niter */

static const int64_t mc_pn[10] = {2, 3, 7, 11, 13, 17, 19, 23, 27, 31};

typedef struct TestMultiConsumer_args {
    chan_t *q, *r, *wg;  /* work, results, the WaitGroup stand-in */
    int w;               /* the worker's index */
    int64_t *expect;     /* the feeder's running sum */
} TestMultiConsumer_args;

/* workers */
static void TestMultiConsumer_func1(void *arg)
{
    TestMultiConsumer_args *a = arg;
    int64_t v;
    while (chan_recv(a->q, &v)) { /* for v := range q */
        /* mess with the fifo-ish nature of range */
        if (mc_pn[a->w % 10] == v)
            go_yield();
        chan_send_i64(a->r, v);
    }
    send_bool(a->wg, true); /* wg.Done() */
}

/* feeder & closer */
static void TestMultiConsumer_func2(void *arg)
{
    TestMultiConsumer_args *a = arg;
    for (int i = 0; i < MC_NITER; i++) {
        int64_t v = mc_pn[i % 10];
        *a->expect += v;
        chan_send_i64(a->q, v);
    }
    chan_close(a->q);          /* no more work */
    for (int i = 0; i < MC_NWORK; i++)
        recv_bool(a->wg);      /* workers done */
    chan_close(a->r);          /* ... so there can be no more results */
}

static int64_t mc_n, mc_s, mc_expect;

static void TestMultiConsumer(void *arg)
{
    (void)arg;
    chan_t *q = chan_make(sizeof(int64_t), MC_NWORK * 3);
    chan_t *r = chan_make(sizeof(int64_t), MC_NWORK * 3);
    chan_t *wg = chan_make(sizeof(bool), MC_NWORK);

    /* workers */
    for (int i = 0; i < MC_NWORK; i++)
        GO(TestMultiConsumer_func1, "runtime_test.TestMultiConsumer.func1",
           TestMultiConsumer_args, .q = q, .r = r, .wg = wg, .w = i);

    /* feeder & closer */
    int64_t *expect = gc_new(sizeof *expect);
    GO(TestMultiConsumer_func2, "runtime_test.TestMultiConsumer.func2", TestMultiConsumer_args,
       .q = q, .r = r, .wg = wg, .expect = expect);

    /* consume & check */
    int64_t n = 0, s = 0, v;
    while (chan_recv(r, &v)) { /* for v := range r */
        n++;
        s += v;
    }
    mc_n = n;
    mc_s = s;
    mc_expect = *expect;
    if (n != MC_NITER || s != *expect)
        go_panic("Expected sum %lld (got %lld) from %d iter (saw %lld)", (long long)*expect,
                 (long long)s, MC_NITER, (long long)n);
}

START_TEST(test_multi_consumer)
{
    run_clean(_i, TestMultiConsumer, NULL);
    ck_assert_int_eq(mc_n, MC_NITER);
    ck_assert_int_eq(mc_s, mc_expect);
    int64_t want = 0;
    for (int i = 0; i < MC_NITER; i++)
        want += mc_pn[i % 10];
    ck_assert_int_eq(mc_s, want);
}
END_TEST

/* ==== src/runtime/chan_test.go: TestSelectDuplicateChannel =============== */
/* This test makes sure we can queue a G on the same channel multiple times.
 * The sleeps order the goroutines exactly, on simulated time. */

typedef struct TestSelectDuplicateChannel_args {
    chan_t *c, *d, *e;  /* the test's channels */
} TestSelectDuplicateChannel_args;

/* goroutine A */
static void TestSelectDuplicateChannel_func1(void *arg)
{
    TestSelectDuplicateChannel_args *a = arg;
    select_case_t cases[3] = {RECV(a->c, NULL), RECV(a->c, NULL), RECV(a->d, NULL)};
    chan_select(cases, 3, false);
    chan_send_i64(a->e, 9);
}

/* goroutine B */
static void TestSelectDuplicateChannel_func2(void *arg)
{
    TestSelectDuplicateChannel_args *a = arg;
    chan_recv(a->c, NULL);
}

static void TestSelectDuplicateChannel(void *arg)
{
    (void)arg;
    chan_t *c = chan_make(sizeof(int64_t), 0);
    chan_t *d = chan_make(sizeof(int64_t), 0);
    chan_t *e = chan_make(sizeof(int64_t), 0);

    GO(TestSelectDuplicateChannel_func1, "runtime_test.TestSelectDuplicateChannel.func1",
       TestSelectDuplicateChannel_args, .c = c, .d = d, .e = e);
    go_sleep(SIM_MS); /* make sure goroutine A gets queued first on c */

    GO(TestSelectDuplicateChannel_func2, "runtime_test.TestSelectDuplicateChannel.func2",
       TestSelectDuplicateChannel_args, .c = c, .d = d, .e = e);
    go_sleep(SIM_MS); /* make sure goroutine B gets queued on c before continuing */

    chan_send_i64(d, 7); /* wake up A, it dequeues itself from c. This operation used to corrupt c.recvq. */
    chan_recv(e, NULL);  /* A tells us it's done */
    chan_send_i64(c, 8); /* wake up B. This operation used to fail because c.recvq was corrupted
                          * (it tries to wake up an already running G instead of B) */
}

START_TEST(test_select_duplicate_channel)
{
    run_clean(_i, TestSelectDuplicateChannel, NULL);
}
END_TEST

/* ---- the suite ---------------------------------------------------------- */

static Suite *gochan_suite(void)
{
    Suite *s = suite_create("gochan");

    TCase *prog = tcase_create("test/chan");
    tcase_set_timeout(prog, 120);
    tcase_add_loop_test(prog, sieve1_go, 0, NPOLICIES);
    tcase_add_loop_test(prog, sieve2_go, 0, NPOLICIES);
    tcase_add_loop_test(prog, powser1_go, 0, NPOLICIES);
    tcase_add_loop_test(prog, powser1_is_deterministic, 0, NPOLICIES);
    tcase_add_loop_test(prog, fifo_go, 0, NPOLICIES);
    tcase_add_loop_test(prog, goroutines_go, 0, NPOLICIES);
    tcase_add_loop_test(prog, doubleselect_go, 0, NPOLICIES);
    tcase_add_loop_test(prog, nonblock_go, 0, NPOLICIES);
    suite_add_tcase(s, prog);

    TCase *sel = tcase_create("test/chan select");
    tcase_set_timeout(sel, 120);
    tcase_add_loop_test(sel, select_go, 0, NPOLICIES);
    tcase_add_loop_test(sel, select3_go, 0, NPOLICIES);
    tcase_add_loop_test(sel, select3_matrix_alone, 0, NPOLICIES);
    tcase_add_loop_test(sel, select6_go, 0, NPOLICIES);
    tcase_add_loop_test(sel, select7_go, 0, NPOLICIES);
    tcase_add_loop_test(sel, select8_go, 0, NPOLICIES);
    tcase_add_loop_test(sel, zerosize_go, 0, NPOLICIES);
    tcase_add_loop_test(sel, perm_go, 0, NPOLICIES);
    suite_add_tcase(s, sel);

    TCase *rt = tcase_create("runtime/chan_test.go");
    tcase_set_timeout(rt, 120);
    tcase_add_loop_test(rt, test_chan, 0, NPOLICIES);
    tcase_add_loop_test(rt, test_nonblock_recv_race, 0, NPOLICIES);
    tcase_add_loop_test(rt, test_nonblock_select_race, 0, NPOLICIES);
    tcase_add_loop_test(rt, test_self_select, 0, NPOLICIES);
    tcase_add_loop_test(rt, test_select_stress, 0, NPOLICIES);
    tcase_add_loop_test(rt, test_multi_consumer, 0, NPOLICIES);
    tcase_add_loop_test(rt, test_select_duplicate_channel, 0, NPOLICIES);
    suite_add_tcase(s, rt);
    return s;
}

int main(void)
{
    return run_suite(gochan_suite());
}
