/*
 * goerr: Go's error values, as the simulated program sees them.
 *
 * An error is a pointer to an immutable message; NULL is Go's nil error.
 * Sentinel errors (context.Canceled, context.DeadlineExceeded) are static
 * and compared by identity, as errors.Is would. Errors made at run time by
 * go_errorf are owned by the running scheduler and live until
 * sched_destroy.
 */
#ifndef CHANSIM_GOERR_H
#define CHANSIM_GOERR_H

typedef struct go_error {
    const char *msg; /* Error() */
} go_error_t;

/* context.Canceled: "context canceled". */
extern const go_error_t GO_ERR_CANCELED;
/* context.DeadlineExceeded: "context deadline exceeded". */
extern const go_error_t GO_ERR_DEADLINE_EXCEEDED;

/* errors.New(fmt.Sprintf(...)), owned by the running scheduler. */
const go_error_t *go_errorf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* err.Error(), or "<nil>" for NULL. */
const char *go_error_msg(const go_error_t *err);

#endif
