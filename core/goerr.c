/* goerr: sentinel errors and run-time errors owned by the scheduler. */
#include "goerr.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "sched.h"

const go_error_t GO_ERR_CANCELED = {"context canceled"};
const go_error_t GO_ERR_DEADLINE_EXCEEDED = {"context deadline exceeded"};

typedef struct err_obj {
    obj_t hdr;       /* scheduler-owned */
    go_error_t err;  /* points into text */
    char text[];     /* the message */
} err_obj_t;

const go_error_t *go_errorf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        n = 0;
    err_obj_t *e = obj_alloc(sizeof *e + (size_t)n + 1, OBJ_NONE, NULL);
    va_start(ap, fmt);
    vsnprintf(e->text, (size_t)n + 1, fmt, ap);
    va_end(ap);
    e->err.msg = e->text;
    return &e->err;
}

const char *go_error_msg(const go_error_t *err)
{
    return err ? err->msg : "<nil>";
}
