/* outfile: every output written whole, bounded and checked. See outfile.h. */
#include "outfile.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mem.h"
#include "sched.h"

int (*out_fault_hook)(out_op_t op, const char *path);

static uint64_t limit_bytes = (uint64_t)OUT_DEFAULT_LIMIT_MIB << 20;

void out_set_limit(uint64_t bytes) { limit_bytes = bytes ? bytes : (uint64_t)OUT_DEFAULT_LIMIT_MIB << 20; }
uint64_t out_limit(void) { return limit_bytes; }

static int fault(out_op_t op, const char *path)
{
    return out_fault_hook ? out_fault_hook(op, path) : 0;
}

/* ---- temporary names removed on a signal ----------------------------------- */

#define PARTIAL_SLOTS 64
static const char *volatile partial[PARTIAL_SLOTS];

int out_partial_register(const char *tmp)
{
    for (int i = 0; i < PARTIAL_SLOTS; i++) {
        if (!partial[i]) {
            partial[i] = tmp;
            return i;
        }
    }
    return -1;
}

void out_partial_forget(int slot)
{
    if (slot >= 0 && slot < PARTIAL_SLOTS)
        partial[slot] = NULL;
}

static void on_fatal_signal(int sig)
{
    int saved = errno;
    for (int i = 0; i < PARTIAL_SLOTS; i++) {
        const char *p = partial[i];
        if (p)
            unlink(p);
    }
    errno = saved;
    /* SA_RESETHAND restored the default action; SA_NODEFER lets it act now. */
    raise(sig);
}

void out_process_init(void)
{
    for (int fd = 0; fd < 3; fd++) {
        if (fcntl(fd, F_GETFD) >= 0 || errno != EBADF)
            continue;
        int n = open("/dev/null", O_RDONLY); /* writes to it fail: EBADF */
        if (n >= 0 && n != fd) {
            dup2(n, fd);
            close(n);
        }
    }
    signal(SIGXFSZ, SIG_IGN); /* a file-size limit: EFBIG from write, seen and reported */
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_fatal_signal;
    sa.sa_flags = (int)(SA_RESETHAND | SA_NODEFER);
    sigemptyset(&sa.sa_mask);
    static const int sigs[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGPIPE, SIGXCPU};
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) {
        struct sigaction old;
        /* a signal ignored by whoever started chansim stays ignored */
        if (sigaction(sigs[i], NULL, &old) == 0 && old.sa_handler == SIG_IGN)
            continue;
        sigaction(sigs[i], &sa, NULL);
    }
}

/* ---- the one write function ---------------------------------------------------- */

static void fail(atomic_file_t *a, int err)
{
    if (!a->failed)
        a->err = err;
    a->failed = true;
}

static const char *shown_name(const atomic_file_t *a)
{
    return strcmp(a->path, "-") == 0 ? "standard output" : a->path;
}

static ssize_t cookie_write(void *cookie, const char *buf, size_t n)
{
    atomic_file_t *a = cookie;
    if (a->failed) {
        errno = a->err ? a->err : EIO;
        return -1;
    }
    if (n > limit_bytes || a->bytes > limit_bytes - n) {
        fail(a, EFBIG);
        a->limited = true;
        fprintf(stderr, "chansim: %s: the output limit of %llu MiB was reached (--max-output MIB): "
                        "the run is stopped\n",
                shown_name(a), (unsigned long long)(limit_bytes >> 20));
        sched_t *s = sched_current();
        if (s)
            sched_exit(s); /* at the end of the running step */
        errno = EFBIG;
        return -1;
    }
    size_t put = 0;
    while (put < n) {
        int e = fault(OUT_OP_WRITE, a->path);
        ssize_t w;
        if (e) {
            errno = e;
            w = -1;
        } else {
            w = write(a->fd, buf + put, n - put);
        }
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            fail(a, w < 0 ? errno : EIO);
            errno = a->err;
            return -1;
        }
        put += (size_t)w;
    }
    a->bytes += n;
    return (ssize_t)n;
}

static int cookie_close(void *cookie)
{
    (void)cookie; /* the descriptor is closed (and checked) by its owner */
    return 0;
}

static FILE *wrap(atomic_file_t *a)
{
    cookie_io_functions_t io = {.write = cookie_write, .close = cookie_close};
    FILE *f = fopencookie(a, "w", io);
    if (f)
        setvbuf(f, NULL, isatty(a->fd) ? _IOLBF : _IOFBF, 1 << 16);
    return f;
}

/* ---- files ------------------------------------------------------------------ */

static void release(atomic_file_t *a)
{
    out_partial_forget(a->slot);
    free(a->path);
    free(a->tmp);
    a->path = a->tmp = NULL;
    a->slot = -1;
}

/* Written in place: "-", and whatever exists and is not a regular file. */
static int open_in_place(const char *path, bool *in_place)
{
    *in_place = false;
    if (strcmp(path, "-") == 0) {
        *in_place = true;
        return fcntl(1, F_DUPFD_CLOEXEC, 3);
    }
    struct stat st;
    if (stat(path, &st) != 0 || S_ISREG(st.st_mode))
        return -1;
    *in_place = true;
    if (S_ISDIR(st.st_mode)) {
        errno = EISDIR;
        return -1;
    }
    return open(path, O_WRONLY | O_NOCTTY | O_CLOEXEC);
}

bool atomic_open(atomic_file_t *a, const char *path)
{
    memset(a, 0, sizeof *a);
    a->fd = -1;
    a->slot = -1;
    a->path = mem_strdup(path);
    bool in_place;
    int fd = open_in_place(path, &in_place);
    int e = errno;
    if (!in_place) {
        size_t n = strlen(path) + 32;
        a->tmp = mem_malloc(n);
        snprintf(a->tmp, n, "%s.partial-%d", path, (int)getpid());
        e = fault(OUT_OP_OPEN, path);
        if (e) {
            fd = -1;
        } else {
            unlink(a->tmp); /* a leftover of a process that had this pid */
            fd = open(a->tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOCTTY | O_CLOEXEC, 0666);
            e = errno;
        }
        if (fd >= 0)
            a->slot = out_partial_register(a->tmp);
    }
    if (fd >= 0) {
        a->fd = fd;
        a->f = wrap(a);
        e = errno;
        if (a->f)
            return true;
        close(fd);
        if (a->tmp)
            unlink(a->tmp);
    }
    fprintf(stderr, "chansim: cannot create %s: %s\n", path, strerror(e));
    release(a);
    return false;
}

bool atomic_commit(atomic_file_t *a)
{
    if (!a->f)
        return false;
    if (fflush(a->f) != 0 || ferror(a->f))
        fail(a, a->err ? a->err : errno);
    fclose(a->f); /* the cookie's close: nothing to fail */
    a->f = NULL;
    int e;
    if (!a->failed && a->tmp) { /* a device or a pipe has nothing to sync */
        if ((e = fault(OUT_OP_FSYNC, a->path)) != 0 || (fsync(a->fd) != 0 && (e = errno) != EINVAL))
            fail(a, e);
    }
    e = fault(OUT_OP_CLOSE, a->path);
    if (close(a->fd) != 0 && !e)
        e = errno;
    a->fd = -1;
    if (e)
        fail(a, e);
    if (!a->failed && a->tmp) {
        if ((e = fault(OUT_OP_RENAME, a->path)) != 0 || (rename(a->tmp, a->path) != 0 && (e = errno)))
            fail(a, e);
    }
    bool ok = !a->failed;
    if (!ok) {
        if (a->tmp)
            unlink(a->tmp);
        if (a->limited)
            fprintf(stderr, "chansim: %s was not written: it reached the output limit\n", shown_name(a));
        else if (a->tmp)
            fprintf(stderr, "chansim: cannot write %s: %s; %s was not written\n", a->path,
                    strerror(a->err ? a->err : EIO), a->path);
        else
            fprintf(stderr, "chansim: cannot write %s: %s; its output is incomplete\n", shown_name(a),
                    strerror(a->err ? a->err : EIO));
    }
    release(a);
    return ok;
}

void atomic_abort(atomic_file_t *a)
{
    if (a->f) {
        a->failed = true; /* nothing more reaches the file */
        fclose(a->f);
        close(a->fd);
        if (a->tmp)
            unlink(a->tmp);
    }
    release(a);
    memset(a, 0, sizeof *a);
    a->fd = -1;
    a->slot = -1;
}

/* ---- the program's output stream ---------------------------------------------- */

typedef struct stream {
    atomic_file_t a;
    FILE *f;
} stream_t;

static stream_t streams[4];

static stream_t *stream_of(FILE *f)
{
    for (size_t i = 0; i < sizeof streams / sizeof streams[0]; i++)
        if (f && streams[i].f == f)
            return &streams[i];
    return NULL;
}

FILE *out_wrap_stream(int fd, const char *what)
{
    for (size_t i = 0; i < sizeof streams / sizeof streams[0]; i++) {
        stream_t *s = &streams[i];
        if (s->f)
            continue;
        memset(s, 0, sizeof *s);
        s->a.fd = fd;
        s->a.slot = -1;
        s->a.path = mem_strdup(what);
        s->f = wrap(&s->a);
        if (!s->f)
            free(s->a.path);
        return s->f;
    }
    return NULL;
}

bool out_stream_check(FILE *f)
{
    stream_t *s = stream_of(f);
    if (!s)
        return true;
    if (fflush(f) != 0 || ferror(f))
        fail(&s->a, s->a.err ? s->a.err : errno);
    if (s->a.failed && !s->a.limited) {
        fprintf(stderr, "chansim: %s: %s: the program's output is incomplete\n", s->a.path,
                strerror(s->a.err ? s->a.err : EIO));
        s->a.limited = true; /* said once */
    }
    return !s->a.failed;
}

bool out_stream_limited(FILE *f)
{
    stream_t *s = stream_of(f);
    return s && s->a.failed;
}

void out_stream_close(FILE *f)
{
    stream_t *s = stream_of(f);
    if (!s)
        return;
    fclose(f);
    free(s->a.path);
    memset(s, 0, sizeof *s);
}

bool out_close_stdio(FILE *f, const char *what)
{
    bool ok = true;
    int e = 0;
    if (fflush(f) != 0) {
        ok = false;
        e = errno;
    }
    if (ferror(f)) {
        ok = false;
        if (!e)
            e = errno ? errno : EIO;
    }
    if (fclose(f) != 0 && ok) {
        ok = false;
        e = errno;
    }
    if (!ok)
        fprintf(stderr, "chansim: %s: %s\n", what, strerror(e ? e : EIO));
    return ok;
}

/* ---- checks before a run --------------------------------------------------------- */

typedef struct pinfo {
    bool exists;
    struct stat st;
    char canon[PATH_MAX * 2];
} pinfo_t;

/* The absolute name of path, its folder resolved when it does not exist. */
static void describe(const char *path, pinfo_t *p)
{
    p->exists = stat(path, &p->st) == 0;
    char buf[PATH_MAX];
    if (p->exists && realpath(path, buf)) {
        snprintf(p->canon, sizeof p->canon, "%s", buf);
        return;
    }
    const char *slash = strrchr(path, '/');
    char dir[PATH_MAX];
    if (!slash)
        snprintf(dir, sizeof dir, ".");
    else if (slash == path)
        snprintf(dir, sizeof dir, "/");
    else
        snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);
    const char *base = slash ? slash + 1 : path;
    if (realpath(dir, buf))
        snprintf(p->canon, sizeof p->canon, "%s/%s", strcmp(buf, "/") == 0 ? "" : buf, base);
    else
        snprintf(p->canon, sizeof p->canon, "%s", path);
}

static bool same_file(const pinfo_t *a, const pinfo_t *b)
{
    if (a->exists && b->exists && a->st.st_dev == b->st.st_dev && a->st.st_ino == b->st.st_ino)
        return true;
    return strcmp(a->canon, b->canon) == 0;
}

static bool refuse(const out_claim_t *c, const char *why)
{
    fprintf(stderr, "chansim: %s %s: %s\n", c->flag, c->path, why);
    return false;
}

static bool refuse_errno(const out_claim_t *c, const char *what, int e)
{
    fprintf(stderr, "chansim: %s %s: %s: %s\n", c->flag, c->path, what, strerror(e));
    return false;
}

/* The folder that will hold path. */
static void parent_of(const char *path, char *dir, size_t size)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        snprintf(dir, size, ".");
    else if (slash == path)
        snprintf(dir, size, "/");
    else
        snprintf(dir, size, "%.*s", (int)(slash - path), path);
}

static bool check_one(const out_claim_t *c, const pinfo_t *p)
{
    if (!*c->path)
        return refuse(c, "an empty name");
    if (strcmp(c->path, "-") == 0)
        return c->dir ? refuse(c, "standard output cannot hold a folder of files") : true;
    if (c->dir) {
        if (p->exists) {
            if (!S_ISDIR(p->st.st_mode))
                return refuse(c, "not a folder");
            if (access(c->path, W_OK | X_OK) != 0)
                return refuse_errno(c, "cannot write in it", errno);
            return true;
        }
        char dir[PATH_MAX];
        parent_of(c->path, dir, sizeof dir);
        /* access() of a regular file for W_OK|X_OK says EACCES: the reason
         * is that it is no folder (FILE/x) */
        struct stat ps;
        if (stat(dir, &ps) == 0 && !S_ISDIR(ps.st_mode))
            return refuse_errno(c, "cannot create it", ENOTDIR);
        if (access(dir, W_OK | X_OK) != 0)
            return refuse_errno(c, "cannot create it", errno);
        return true;
    }
    if (p->exists && S_ISDIR(p->st.st_mode))
        return refuse_errno(c, "cannot write", EISDIR);
    if (p->exists && !S_ISREG(p->st.st_mode)) { /* a device or a FIFO: written in place */
        if (access(c->path, W_OK) != 0)
            return refuse_errno(c, "cannot write", errno);
        return true;
    }
    /* A regular file, or none yet: the temporary file beside it must be
     * creatable (and renamable: same folder). */
    size_t n = strlen(c->path) + 32;
    char *tmp = mem_malloc(n);
    snprintf(tmp, n, "%s.partial-%d", c->path, (int)getpid());
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOCTTY | O_CLOEXEC, 0666);
    int e = errno;
    if (fd >= 0) {
        close(fd);
        unlink(tmp);
    }
    free(tmp);
    if (fd < 0 && e != EEXIST)
        return refuse_errno(c, "cannot create", e);
    return true;
}

bool out_check_paths(const char *scenario, const out_claim_t *claims, size_t n)
{
    pinfo_t *info = mem_calloc(n ? n : 1, sizeof *info);
    pinfo_t scen;
    bool ok = true;
    if (scenario)
        describe(scenario, &scen);
    for (size_t i = 0; i < n && ok; i++) {
        const out_claim_t *c = &claims[i];
        if (!c->path)
            continue;
        bool stdout_name = strcmp(c->path, "-") == 0;
        if (!stdout_name)
            describe(c->path, &info[i]);
        if (!stdout_name && scenario && same_file(&info[i], &scen)) {
            ok = refuse(c, "that is the scenario itself");
            break;
        }
        for (size_t j = 0; j < i; j++) {
            if (!claims[j].path)
                continue;
            bool other_stdout = strcmp(claims[j].path, "-") == 0;
            if (stdout_name != other_stdout || (!stdout_name && !same_file(&info[i], &info[j])))
                continue;
            /* A device such as /dev/null takes any number of outputs. */
            if (!stdout_name && info[i].exists && (S_ISCHR(info[i].st.st_mode)))
                continue;
            char why[256];
            snprintf(why, sizeof why, "the same file as %s %s", claims[j].flag, claims[j].path);
            ok = refuse(c, why);
            break;
        }
        if (ok)
            ok = check_one(c, &info[i]);
    }
    free(info);
    return ok;
}

int out_mute_stderr(void)
{
    fflush(stderr);
    int saved = dup(2);
    int null = open("/dev/null", O_WRONLY);
    if (null >= 0) {
        dup2(null, 2);
        close(null);
    }
    return saved;
}

void out_unmute_stderr(int saved)
{
    fflush(stderr);
    if (saved >= 0) {
        dup2(saved, 2);
        close(saved);
    }
}
