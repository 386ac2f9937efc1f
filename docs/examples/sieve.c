/*
 * The concurrent prime sieve of Go's test/chan/sieve1.go, on chansim's
 * core runtime: a chain of filter goroutines, one per prime found, each
 * passing on the numbers its prime does not divide. Prints the first 25
 * primes, then the trace hash of the run (the same on every run).
 */
#include <stdio.h>
#include <stdlib.h>

#include "chan.h"
#include "sched.h"

/* Send the sequence 2, 3, 4, ... to channel ch. */
static void generate(void *arg)
{
    chan_t *ch = arg;
    for (int64_t i = 2;; i++)
        chan_send_i64(ch, i);
}

typedef struct filter_args {
    chan_t *in, *out;
    int64_t prime;
} filter_args_t;

/* Copy the values from in to out, removing those divisible by prime. */
static void filter(void *arg)
{
    filter_args_t *f = arg;
    for (;;) {
        int64_t i = chan_recv_i64(f->in, NULL);
        if (i % f->prime != 0)
            chan_send_i64(f->out, i);
    }
}

static filter_args_t filters[25];

/* The prime sieve: daisy-chain filter processes together. */
static void sieve(void *arg)
{
    (void)arg;
    chan_t *ch = chan_make(sizeof(int64_t), 0);
    go_spawn(generate, ch, "main.Generate");
    for (int i = 0; i < 25; i++) {
        int64_t prime = chan_recv_i64(ch, NULL);
        printf("%lld\n", (long long)prime);
        chan_t *ch1 = chan_make(sizeof(int64_t), 0);
        filters[i] = (filter_args_t){.in = ch, .out = ch1, .prime = prime};
        go_spawn(filter, &filters[i], "main.Filter");
        ch = ch1;
    }
}

int main(void)
{
    sched_config_t cfg = sched_config_default();
    sched_t *s = sched_create(&cfg);
    sched_result_t r = sched_run(s, sieve, NULL);
    printf("result: %s, %llu goroutines, %llu events, trace hash %016llx\n",
           sched_result_string(r), (unsigned long long)sched_goroutines_spawned(s),
           (unsigned long long)sched_trace_events(s),
           (unsigned long long)sched_trace_hash(s));
    int rc = r == SCHED_DONE ? 0 : 2;
    if (rc)
        fputs(sched_report(s), stderr);
    sched_destroy(s);
    return rc;
}
