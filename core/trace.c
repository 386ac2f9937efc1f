/* trace: event names, the hash and the text form. See trace.h. */
#include "trace.h"

#include <stdio.h>
#include <string.h>

#include "sched.h"

static const char *const kind_names[EV_KIND_COUNT] = {
    [EV_GO_SPAWN] = "go.spawn",   [EV_GO_RUN] = "go.run",
    [EV_GO_BLOCK] = "go.block",   [EV_GO_WAKE] = "go.wake",
    [EV_GO_YIELD] = "go.yield",   [EV_GO_EXIT] = "go.exit",
    [EV_CHAN_MAKE] = "chan.make", [EV_CHAN_SEND] = "chan.send",
    [EV_CHAN_RECV] = "chan.recv", [EV_CHAN_CLOSE] = "chan.close",
    [EV_SELECT] = "select",       [EV_TIMER_SET] = "timer.set",
    [EV_TIMER_STOP] = "timer.stop", [EV_TIMER_FIRE] = "timer.fire",
    [EV_LOCK] = "lock",           [EV_UNLOCK] = "unlock",
    [EV_CTX_CANCEL] = "ctx.cancel", [EV_PANIC] = "panic",
    [EV_FATAL] = "fatal",         [EV_STATE] = "state",
    [EV_METRIC] = "metric",       [EV_LOG] = "log",
    [EV_USER] = "user",
    [EV_NET_SEND] = "net.send",   [EV_NET_DELIVER] = "net.deliver",
    [EV_NET_DROP] = "net.drop",   [EV_FAULT] = "fault",
    [EV_VIOLATION] = "violation",
};

const char *trace_kind_name(trace_kind_t k)
{
    return (unsigned)k < EV_KIND_COUNT ? kind_names[k] : "?";
}

uint64_t trace_hash_detail(const char *detail)
{
    if (!detail)
        return 0;
    const unsigned char *p = (const unsigned char *)detail;
    size_t n = strlen(detail);
    uint64_t h = 0x3c6ef372fe94f82bull;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t w = 0;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
        memcpy(&w, p + i, 8); /* one load: the same word as below */
#else
        for (int k = 7; k >= 0; k--)
            w = (w << 8) | p[i + (size_t)k]; /* little-endian on every host */
#endif
        h = trace_hash_mix(h, w);
    }
    uint64_t w = 0;
    for (size_t k = n; k > i; k--)
        w = (w << 8) | p[k - 1];
    h = trace_hash_mix(h, w);
    return trace_hash_mix(h, (uint64_t)n);
}

uint64_t trace_hash_event(uint64_t h, const trace_event_t *ev)
{
    return trace_hash_fold(h, trace_hash_digest(ev->t, ev->kind, ev->g, ev->obj, ev->a, ev->b),
                           trace_hash_detail(ev->detail));
}

int trace_format_time(int64_t t, char *buf, size_t size)
{
    const char *sign = t < 0 ? "-" : "";
    uint64_t u = t < 0 ? (uint64_t)0 - (uint64_t)t : (uint64_t)t;
    return snprintf(buf, size, "%s%llu.%09llu", sign,
                    (unsigned long long)(u / 1000000000u),
                    (unsigned long long)(u % 1000000000u));
}

int trace_format(const trace_event_t *ev, char *buf, size_t size)
{
    char ts[32];
    trace_format_time(ev->t, ts, sizeof ts);
    const char *d = ev->detail ? ev->detail : "";
    const char *sp = ev->detail ? " " : "";
    unsigned long long g = ev->g, o = ev->obj;
    long long a = ev->a, b = ev->b;
    const char *k = trace_kind_name(ev->kind);
    switch (ev->kind) {
    case EV_GO_SPAWN:
        return snprintf(buf, size, "%s g%llu %s g%llu %s", ts, g, k, o, d);
    case EV_GO_YIELD:
        if (a) /* preempted at a decision point (sched_point) */
            return snprintf(buf, size, "%s g%llu %s preempted", ts, g, k);
        return snprintf(buf, size, "%s g%llu %s", ts, g, k);
    case EV_GO_RUN:
    case EV_GO_EXIT:
        return snprintf(buf, size, "%s g%llu %s", ts, g, k);
    case EV_GO_BLOCK:
        return snprintf(buf, size, "%s g%llu %s [%s] #%llu", ts, g, k,
                        wait_reason_string((wait_reason_t)a), o);
    case EV_GO_WAKE:
        return snprintf(buf, size, "%s g%llu %s g%llu", ts, g, k, o);
    case EV_CHAN_MAKE:
        return snprintf(buf, size, "%s g%llu %s #%llu cap=%lld%s%s", ts, g, k, o, a, sp, d);
    case EV_CHAN_SEND:
        return snprintf(buf, size, "%s g%llu %s #%llu len=%lld to=g%lld", ts, g, k, o, a, b);
    case EV_CHAN_RECV:
        return snprintf(buf, size, "%s g%llu %s #%llu len=%lld ok=%lld", ts, g, k, o, a, b);
    case EV_SELECT:
        return snprintf(buf, size, "%s g%llu %s case=%lld of %lld", ts, g, k, a, b);
    case EV_NET_SEND:
    case EV_NET_DELIVER:
        return snprintf(buf, size, "%s g%llu %s m%llu #%lld->#%lld%s%s", ts, g, k, o, a, b, sp, d);
    case EV_NET_DROP:
        return snprintf(buf, size, "%s g%llu %s m%llu #%lld->#%lld %s", ts, g, k, o, a, b, d);
    case EV_FAULT:
        return snprintf(buf, size, "%s g%llu %s #%llu %s", ts, g, k, o, d);
    case EV_TIMER_SET:
        return snprintf(buf, size, "%s g%llu %s #%llu at=%lld", ts, g, k, o, a);
    default:
        return snprintf(buf, size, "%s g%llu %s #%llu %lld %lld%s%s", ts, g, k, o, a, b, sp, d);
    }
}
