/*
 * outfile: the one layer every output of chansim is written through.
 *
 * A regular file (or a name that does not exist yet) is written under a
 * temporary name beside it, FILE.partial-PID, then flushed, synced and
 * renamed over FILE: it is whole or absent, never half-written. Anything
 * else is written in place: a device (/dev/null stays a device), a FIFO,
 * a pipe named by /dev/fd/N, and "-", standard output.
 *
 * Every byte goes through one write function, which
 *   - counts it against the output limit (--max-output; docs/limits.md):
 *     past it the write fails, the file is not kept and the running
 *     simulation is stopped at the end of its step;
 *   - checks each write(2), and records the first error (ENOSPC, EFBIG,
 *     EBADF of a closed standard output...) for the message;
 *   - asks the fault-injection hook (tests only) whether to fail.
 *
 * The temporary names are registered so that SIGINT, SIGTERM and SIGHUP
 * remove them (async-signal-safe unlink) before chansim dies of the signal.
 *
 * A failed output is exit status 4 (EXIT_OUTPUT, host.h), whatever the
 * simulated program did: its results did not all reach their files.
 */
#ifndef CHANSIM_OUTFILE_H
#define CHANSIM_OUTFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* The default output limit: bytes per output file and for the program's
 * standard output (--max-output MIB). */
#define OUT_DEFAULT_LIMIT_MIB 1024

/* A file written under a temporary name and renamed when complete, or in
 * place (a device, a FIFO, "-"). */
typedef struct atomic_file {
    char *path;     /* final name */
    char *tmp;      /* temporary name beside it; NULL when written in place */
    FILE *f;        /* open while writing */
    int fd;         /* the file descriptor under f */
    bool failed;    /* a write failed: the file will not be kept */
    bool limited;   /* the output limit was reached */
    int err;        /* errno of the first failure, 0 if none */
    uint64_t bytes; /* written so far */
    int slot;       /* its temporary name's place among the registered ones, -1 */
} atomic_file_t;

/* Open path for writing (in place or under a temporary name). Prints
 * "chansim: cannot create PATH: reason" and returns false on failure. */
bool atomic_open(atomic_file_t *a, const char *path);
/* Flush, sync, close and rename into place (or remove on failure, with a
 * message saying why and that PATH was not written); true if kept. */
bool atomic_commit(atomic_file_t *a);
/* Close and remove the temporary file without a message. */
void atomic_abort(atomic_file_t *a);

/* The output limit in bytes, for every file opened after and for
 * out_wrap_stdout; 0 restores the default. */
void out_set_limit(uint64_t bytes);
uint64_t out_limit(void);

/* The program's output stream: a FILE over fd (1, or 2 under --json) that
 * counts against the limit and records failures. out_stream_check flushes
 * it and returns false (after a message naming what) if anything was lost;
 * out_stream_close closes it. */
FILE *out_wrap_stream(int fd, const char *what);
bool out_stream_check(FILE *f);
bool out_stream_limited(FILE *f);
void out_stream_close(FILE *f);

/* A stdio stream as a whole: flushed, checked and closed (standard output
 * at exit). False, after "chansim: WHAT: reason", if anything was lost. */
bool out_close_stdio(FILE *f, const char *what);

/* Standard error sent to /dev/null around a silent pass (a run made again
 * whose reports come another way); returns the saved descriptor, which
 * out_unmute_stderr restores (a negative one: nothing to restore). */
int out_mute_stderr(void);
void out_unmute_stderr(int saved);

/* At start: file descriptors 0, 1 and 2 that are closed are taken by a
 * read-only /dev/null, so that no output file can become "standard output"
 * and a write to a closed one fails (EBADF) rather than vanishing; a
 * file-size limit makes writes fail with EFBIG instead of killing chansim
 * (SIGXFSZ ignored); SIGINT, SIGTERM and SIGHUP remove the registered
 * temporary files, then end chansim as the signal would have. */
void out_process_init(void);

/* Register a temporary file to remove if a signal ends chansim; returns
 * its slot (-1 if all slots are taken: then it is only removed normally).
 * The string must stay valid until out_partial_forget(slot). */
int out_partial_register(const char *tmp);
void out_partial_forget(int slot);

/* ---- checks before a run ------------------------------------------------ */

typedef struct out_claim {
    const char *flag; /* "--trace" */
    const char *path; /* its value; NULL: not given */
    bool dir;         /* a folder of outputs (--pprof DIR, --record DIR) */
} out_claim_t;

/* Check every output path of a run before it starts: it can be created (or
 * written in place), it is not the scenario itself and no two outputs are
 * one file (compared by name, and by device and inode where they exist).
 * Prints "chansim: FLAG PATH: reason" and returns false at the first
 * failure. */
bool out_check_paths(const char *scenario, const out_claim_t *claims, size_t n);

/* ---- fault injection (tests) -------------------------------------------- */

typedef enum out_op {
    OUT_OP_OPEN,   /* creating the temporary file */
    OUT_OP_WRITE,  /* each write(2) */
    OUT_OP_FSYNC,  /* fsync before the rename */
    OUT_OP_CLOSE,  /* close(2) */
    OUT_OP_RENAME, /* the rename into place */
} out_op_t;

/* When set, called before each operation on an output: a non-zero return
 * is the errno that operation fails with. NULL in chansim itself. */
extern int (*out_fault_hook)(out_op_t op, const char *path);

#endif
