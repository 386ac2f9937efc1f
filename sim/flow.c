/* flow: output lines and memory of the flow patterns. See flow.h. */
#include "flow.h"

#include <stdarg.h>
#include <stdio.h>

#include "patterns.h"

void flow_printf(const flow_out_t *out, const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    sched_emit(EV_LOG, 0, 0, 0, buf);
    if (out && out->line)
        out->line(out->ud, buf);
}

/* The memory follows an object header, so the scheduler frees it. */
typedef struct flow_block {
    obj_t hdr;
    _Alignas(16) unsigned char data[];
} flow_block_t;

void *flow_alloc(size_t size)
{
    flow_block_t *b = obj_alloc(sizeof *b + size, OBJ_NONE, NULL);
    return b->data;
}

simtime_t flow_rand_units(simtime_t max, simtime_t unit)
{
    if (unit <= 0 || max < unit)
        return 0;
    return sim_intn(max / unit) * unit;
}
