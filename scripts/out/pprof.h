/*
 * pprof: Go's profiles of a run (--pprof DIR), in simulated time.
 *
 *   DIR/goroutine.pb.gz  the goroutines alive at the end, by stack, with
 *                        their wait reason (a label and the Go function
 *                        they wait in, such as runtime.chanrecv)
 *   DIR/mutex.pb.gz      contention on sync.Mutex and sync.RWMutex: how
 *                        often and how long goroutines waited to lock, by
 *                        the stack that called lock
 *   DIR/block.pb.gz      time blocked on channels, select, sync.Cond,
 *                        WaitGroup, semaphores and locks, by stack
 *
 * Each is profile.proto (github.com/google/pprof/proto/profile.proto),
 * gzipped, as Go's runtime/pprof writes it, so `go tool pprof -top`,
 * `-traces` and `-http` read it. A stack's frames are the scenario's Lua
 * frames (function, file, line), innermost first, below the Go function
 * the goroutine waits in; a pattern's C goroutine has one frame, its name
 * without its number ("pool.worker"). Delays are simulated nanoseconds,
 * from the block to the wake; a goroutine still blocked at the end is in
 * the goroutine profile, not in the delays (as in Go, which records a
 * delay when the wait ends).
 *
 * The profiles observe the run through a trace sink: a run with --pprof
 * has the trace hash of a run without. The files are the same bytes for
 * the same run.
 */
#ifndef CHANSIM_PPROF_H
#define CHANSIM_PPROF_H

#include <stdbool.h>

#include "host.h"

typedef struct pprof pprof_t;

/* Start profiling a run before it starts: check that dir is (or can be
 * made) a folder and attach the sink. Prints an error and returns NULL on
 * failure. */
pprof_t *pprof_attach(host_t *h, const char *dir);
/* After the run, before host_destroy: write the three files (each under a
 * temporary name, renamed when complete). Prints an error and returns false
 * if one cannot be written. */
bool pprof_finish(pprof_t *p, host_t *h);
void pprof_free(pprof_t *p);

#endif
