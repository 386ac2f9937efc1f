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
};

const char *trace_kind_name(trace_kind_t k)
{
    return (unsigned)k < EV_KIND_COUNT ? kind_names[k] : "?";
}

static inline uint64_t mix(uint64_t h, uint64_t x)
{
    h ^= x * 0x9e3779b97f4a7c15ull;
    h = (h << 31) | (h >> 33);
    return h * 0xff51afd7ed558ccdull;
}

uint64_t trace_hash_event(uint64_t h, const trace_event_t *ev)
{
    h = mix(h, (uint64_t)ev->t);
    h = mix(h, (uint64_t)ev->kind);
    h = mix(h, ev->g);
    h = mix(h, ev->obj);
    h = mix(h, (uint64_t)ev->a);
    h = mix(h, (uint64_t)ev->b);
    if (ev->detail) {
        const unsigned char *p = (const unsigned char *)ev->detail;
        uint64_t w = 0;
        size_t n = 0;
        for (; *p; p++, n++) {
            w = (w << 8) | *p;
            if ((n & 7) == 7) {
                h = mix(h, w);
                w = 0;
            }
        }
        h = mix(h, w ^ ((uint64_t)n << 56));
    }
    return h;
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
    case EV_GO_RUN:
    case EV_GO_YIELD:
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
