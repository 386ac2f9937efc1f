/*
 * shutdown: the seed's "Graceful Shutdown Pattern": the GracefulShutdown
 * manager (NewGracefulShutdown, AddShutdownFunc, Start, Shutdown, Wait,
 * IsShuttingDown), its HTTP server (NewServer, Start, the handler, and
 * http.Server.Shutdown) and its WorkerPool (NewWorkerPool, worker,
 * SubmitJob), on simulated time, with signals injected by the scenario.
 *
 * On SIGTERM (or SIGINT) the manager closes shutdownCh, starts every
 * shutdown function in its own goroutine under one context with the
 * manager's timeout, and waits for all of them or the timeout, whichever
 * comes first; then Wait returns (in the seed, main then returns and the
 * process ends, whatever is still running).
 *
 * The server is a model of net/http: a request to a server whose listener
 * is closed gets "connection refused"; otherwise it runs the handler in
 * the caller's goroutine and counts as in flight until it returns. The
 * seed's handler answers 503 "Server is shutting down" once the manager is
 * shutting down, else 200 "Hello, World!"; a scenario may give its own.
 * http.Server.Shutdown closes the listener at once, then waits for the
 * requests in flight, polling as net/http does (1ms, doubling, at most
 * 500ms), or for its context.
 *
 * Two variants (seed_variant in each constructor's options):
 * - seed: the three parts as the seed wrote them. The shutdown functions
 *   run concurrently with no order, so the worker pool closes its job
 *   channel in the same instant as the server starts draining: a request
 *   already in flight when SIGTERM arrives has its job refused ("worker
 *   pool is shutting down") although the seed promises that in-flight
 *   operations complete. SubmitJob tests IsShuttingDown and then sends:
 *   on real threads the channel can be closed in between ("send on closed
 *   channel"; the cooperative simulation cannot show that one). And the
 *   handler's 503 branch is practically dead: Shutdown closes the listener
 *   in the same instant, so new clients see "connection refused".
 * - corrected: a shutdown function may name functions it must wait for
 *   (AddShutdownFunc's `after`); the pool's waits for the server, so the
 *   job channel is closed only once no handler can send on it any more
 *   (close a channel after its senders are done). SubmitJob refuses on the
 *   pool's own closed flag, checked and sent under the pool's mutex. The
 *   server keeps its listener open for a drain period answering 503 (so a
 *   load balancer can take it out of rotation) before closing it.
 *
 * Published: entities "shutdown" (state "running", "shutting down",
 * "completed", "timed out"), "server" ("serving", "shutting down",
 * "stopped"; fields in_flight, ok, unavailable, refused), "pool"
 * ("running", "closing", "stopped"; queue_depth, queue_capacity,
 * accepted, completed) with a "worker" entity per worker ("idle", "busy",
 * "stopped"). Metrics (core/metrics.h): graceful_shutdown_requests_total
 * {server,code} (code "200", "202", "503", "refused", ...),
 * graceful_shutdown_jobs_total{pool,outcome} (accepted, completed,
 * refused), graceful_shutdown_timed_out{manager} (gauge, 0 or 1).
 *
 * Ownership: everything here is owned by the running scheduler; strings
 * given are copied.
 */
#ifndef CHANSIM_SHUTDOWN_H
#define CHANSIM_SHUTDOWN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "chan.h"
#include "ctx.h"
#include "entity.h"
#include "goerr.h"
#include "pattern.h"


/* ---- GracefulShutdown ----------------------------------------------------- */

typedef struct shutdown shutdown_t;

/* ShutdownFunc represents a function to be called during shutdown:
 * returns NULL or an error; should honour ctx. */
typedef const go_error_t *(*shutdown_func_t)(ctx_t *ctx, void *arg);

typedef struct shutdown_options {
    pattern_log_fn log;       /* the seed's log.Printf lines, or NULL */
    void *log_ud;
    bool seed_variant;   /* ignore `after` dependencies, as the seed has none */
} shutdown_options_t;

/* NewGracefulShutdown(timeout). opt may be NULL (corrected, silent). */
shutdown_t *shutdown_create(simtime_t timeout, const shutdown_options_t *opt);
/* Free it before sched_destroy would, with the core objects it made (its
 * channels, its functions' channels and its wait group). None of its
 * goroutines may still run and nobody may use it again; its entity stays, as
 * the view keeps an entity for the whole run. NULL is ignored. */
void shutdown_destroy(shutdown_t *x);

#define SHUTDOWN_MAX_FUNCS 32
#define SHUTDOWN_MAX_AFTER 4

/* AddShutdownFunc(name, fn). after names functions this one waits for
 * (corrected variant only; NULL or nafter 0 for none). */
void shutdown_add_shutdown_func(shutdown_t *gs, const char *name, shutdown_func_t fn, void *arg,
                                const char *const *after, int nafter);

/* Start begins listening for shutdown signals (signal.Notify for SIGINT
 * and SIGTERM, a channel of capacity 1, and the goroutine that waits). */
void shutdown_start(shutdown_t *gs);

/* The OS delivering a signal ("SIGTERM", "SIGINT"): a non-blocking send
 * on the Notify channel, as the runtime does (dropped when full). Returns
 * false if nobody listens (not started) or the channel was full. */
bool shutdown_signal(shutdown_t *gs, const char *sig);

/* Shutdown initiates the graceful shutdown process; returns when every
 * function returned or the timeout struck. Only the first call acts. */
void shutdown_shutdown(shutdown_t *gs);

/* Wait blocks until shutdown is complete. */
void shutdown_wait(shutdown_t *gs);

/* IsShuttingDown returns whether shutdown has been initiated. */
bool shutdown_is_shutting_down(shutdown_t *gs);

/* What happened, for the report. */
typedef struct shutdown_func_report {
    const char *name;        /* interned */
    const go_error_t *err;   /* its error, if it returned one */
    simtime_t started;       /* when it began its own work (-1: never) */
    simtime_t finished;      /* when it returned (-1: still running) */
} shutdown_func_report_t;

typedef struct shutdown_report {
    const char *signal;      /* the signal received, or NULL */
    simtime_t signal_at;     /* when (-1: none) */
    simtime_t started;       /* when Shutdown began (-1: not yet) */
    simtime_t finished;      /* when Wait was released (-1: not yet) */
    bool timed_out;          /* "Graceful shutdown timed out" */
    int nfuncs;
    shutdown_func_report_t funcs[SHUTDOWN_MAX_FUNCS];
} shutdown_report_t;

void shutdown_get_report(const shutdown_t *gs, shutdown_report_t *out);
simtime_t shutdown_timeout(const shutdown_t *gs);
bool shutdown_seed_variant(const shutdown_t *gs);

/* ---- Server ---------------------------------------------------------------- */

typedef struct shutdown_server shutdown_server_t;

/* A handler: writes the response body into body (size bytes) and returns
 * the status code. Runs in the requesting goroutine; may block. call_ud
 * is what that request's shutdown_server_request was given. */
typedef int (*shutdown_http_handler_fn)(void *ud, void *call_ud, shutdown_server_t *s, const char *request, char *body,
                                        size_t size);

typedef struct shutdown_server_options {
    shutdown_http_handler_fn handler; /* NULL: the seed's "Hello, World!" */
    void *handler_ud;
    simtime_t drain;         /* corrected: 503 with the listener open this long */
    pattern_log_fn log;
    void *log_ud;
    bool seed_variant;
} shutdown_server_options_t;

/* NewServer(addr, shutdown): registers the "http-server" shutdown func. */
shutdown_server_t *shutdown_server_create(const char *addr, shutdown_t *gs, const shutdown_server_options_t *opt);
/* Free it before sched_destroy would. None of its goroutines may still run
 * and nobody may use it again; its entity stays, as the view keeps an entity
 * for the whole run. NULL is ignored. */
void shutdown_server_destroy(shutdown_server_t *x);
/* Start starts the HTTP server (listening from now on). */
void shutdown_server_start(shutdown_server_t *s);

/* A client's request: the status (0 for "connection refused", the
 * listener being closed or not yet open) and the body. Blocks while the
 * handler runs; call_ud is passed to the handler. */
int shutdown_server_request(shutdown_server_t *s, const char *request, char *body, size_t size, void *call_ud);

typedef struct shutdown_server_stats {
    const char *state;       /* "idle", "serving", "shutting down", "stopped" */
    int64_t in_flight;
    int64_t by_status_200, by_status_202, by_status_503, other_status;
    int64_t refused;         /* connection refused */
    simtime_t listener_closed_at; /* -1: open */
} shutdown_server_stats_t;

void shutdown_server_get_stats(const shutdown_server_t *s, shutdown_server_stats_t *out);
const char *shutdown_server_addr(const shutdown_server_t *s);

/* ---- WorkerPool -------------------------------------------------------------- */

typedef struct shutdown_worker_pool shutdown_worker_pool_t;

typedef struct shutdown_worker_pool_options {
    simtime_t job_time;      /* 100ms: time.Sleep(100 * time.Millisecond) */
    const char *after;       /* corrected: the shutdown func to wait for
                              * ("http-server"), or NULL */
    pattern_log_fn log;
    void *log_ud;
    bool seed_variant;
} shutdown_worker_pool_options_t;

/* NewWorkerPool(workerCount, jobBufferSize, shutdown): starts the workers
 * and registers the "worker-pool" shutdown func. */
shutdown_worker_pool_t *shutdown_worker_pool_create(int worker_count, int job_buffer_size,
                                                 shutdown_t *gs, const shutdown_worker_pool_options_t *opt);
/* Free it before sched_destroy would, with the core objects it made (its job
 * channel, wait group and lock; its workers' arguments stay with the
 * scheduler). None of its goroutines may still run and nobody may use it
 * again; its entity stays, as the view keeps an entity for the whole run.
 * NULL is ignored. */
void shutdown_worker_pool_destroy(shutdown_worker_pool_t *x);

/* SubmitJob(job): NULL, "worker pool is shutting down" or "job queue is
 * full". The job name is copied. Never blocks. */
const go_error_t *shutdown_worker_pool_submit_job(shutdown_worker_pool_t *wp, const char *job);

/* Every job submitted, accepted or not, in submission order. */
typedef struct shutdown_worker_pool_job {
    const char *name;        /* interned */
    const go_error_t *refused; /* NULL if accepted */
    simtime_t submitted;
    simtime_t started;       /* -1: never started */
    simtime_t finished;      /* -1: not finished */
    int worker;              /* which worker (-1: none) */
    bool final;              /* started after shutdown began ("final jobs") */
} shutdown_worker_pool_job_t;

/* Borrowed until the next submission. */
const shutdown_worker_pool_job_t *shutdown_worker_pool_jobs(const shutdown_worker_pool_t *wp, size_t *n);
int64_t shutdown_worker_pool_queue_depth(const shutdown_worker_pool_t *wp);

#endif
