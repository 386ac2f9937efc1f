/* viz_movie: an animated GIF or an MP4 of recorded frames. See viz_movie.h. */
#include "viz_movie.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gif_lib.h>

struct viz_movie {
    bool mp4;
    int w, h, fps;
    uint64_t frames;
    char *path, *part;       /* final name; GIF: temporary name while written */
    GifFileType *gif;
    unsigned char *r, *g, *b, *idx; /* GIF: planes of one frame, its indices */
    pid_t pid;               /* MP4: ffmpeg */
    int fd;                  /* MP4: ffmpeg's standard input */
};

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n > k && strcasecmp(s + n - k, suffix) == 0;
}

bool viz_movie_path(const char *path)
{
    return path && (ends_with(path, ".gif") || ends_with(path, ".mp4"));
}

static bool in_path(const char *prog)
{
    const char *p = getenv("PATH");
    char buf[4096];
    while (p && *p) {
        const char *e = strchr(p, ':');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        snprintf(buf, sizeof buf, "%.*s/%s", (int)n, p, prog);
        if (access(buf, X_OK) == 0)
            return true;
        p = e ? e + 1 : NULL;
    }
    return false;
}

/* giflib creates its file for its owner only; a GIF is as readable as
 * any file the user makes. */
static mode_t current_umask(void)
{
    mode_t u = umask(0);
    umask(u);
    return u;
}

static void movie_free(viz_movie_t *m)
{
    free(m->path);
    free(m->part);
    free(m->r);
    free(m->g);
    free(m->b);
    free(m->idx);
    free(m);
}

static bool gif_fail(viz_movie_t *m, int code, char *err, size_t errsize)
{
    const char *why = GifErrorString(code);
    snprintf(err, errsize, "cannot write %s: %s", m->path, why ? why : "giflib error");
    return false;
}

static viz_movie_t *open_gif(viz_movie_t *m, char *err, size_t errsize)
{
    size_t n = (size_t)m->w * (size_t)m->h;
    m->r = malloc(n);
    m->g = malloc(n);
    m->b = malloc(n);
    m->idx = malloc(n);
    size_t pl = strlen(m->path) + 6;
    m->part = malloc(pl);
    if (!m->r || !m->g || !m->b || !m->idx || !m->part) {
        snprintf(err, errsize, "out of memory");
        movie_free(m);
        return NULL;
    }
    snprintf(m->part, pl, "%s.part", m->path);
    int code = 0;
    m->gif = EGifOpenFileName(m->part, false, &code);
    if (!m->gif) {
        snprintf(err, errsize, "cannot create %s: %s", m->part,
                 code == E_GIF_ERR_OPEN_FAILED ? strerror(errno) : GifErrorString(code));
        movie_free(m);
        return NULL;
    }
    EGifSetGifVersion(m->gif, true);
    /* No global colour map: every frame brings its own. Then Netscape's
     * extension: loop for ever. */
    static const unsigned char app[11] = {'N', 'E', 'T', 'S', 'C', 'A', 'P', 'E', '2', '.', '0'};
    static const unsigned char loop[3] = {1, 0, 0};
    if (EGifPutScreenDesc(m->gif, m->w, m->h, 8, 0, NULL) == GIF_ERROR ||
        EGifPutExtensionLeader(m->gif, APPLICATION_EXT_FUNC_CODE) == GIF_ERROR ||
        EGifPutExtensionBlock(m->gif, sizeof app, app) == GIF_ERROR ||
        EGifPutExtensionBlock(m->gif, sizeof loop, loop) == GIF_ERROR ||
        EGifPutExtensionTrailer(m->gif) == GIF_ERROR) {
        gif_fail(m, m->gif->Error, err, errsize);
        viz_movie_abort(m);
        return NULL;
    }
    return m;
}

static viz_movie_t *open_mp4(viz_movie_t *m, char *err, size_t errsize)
{
    if (!in_path("ffmpeg")) {
        snprintf(err, errsize, "%s: an MP4 needs ffmpeg (Debian's ffmpeg package), which is not installed; "
                 "--record FILE.gif or --record DIR need nothing more", m->path);
        movie_free(m);
        return NULL;
    }
    int fds[2];
    if (pipe(fds) != 0) {
        snprintf(err, errsize, "cannot start ffmpeg: %s", strerror(errno));
        movie_free(m);
        return NULL;
    }
    char size[32], rate[16];
    snprintf(size, sizeof size, "%dx%d", m->w, m->h);
    snprintf(rate, sizeof rate, "%d", m->fps);
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        snprintf(err, errsize, "cannot start ffmpeg: %s", strerror(errno));
        close(fds[0]);
        close(fds[1]);
        movie_free(m);
        return NULL;
    }
    if (pid == 0) {
        dup2(fds[0], 0);
        close(fds[0]);
        close(fds[1]);
        int devnull = open("/dev/null", O_WRONLY);
        if (devnull >= 0)
            dup2(devnull, 1);
        /* Pixels are 0xXXRRGGBB little-endian words: bytes B, G, R, X. */
        execlp("ffmpeg", "ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-f", "rawvideo", "-pix_fmt", "bgr0",
               "-video_size", size, "-framerate", rate, "-i", "-", "-c:v", "libx264", "-pix_fmt", "yuv420p",
               "-movflags", "+faststart", "-bitexact", m->path, (char *)NULL);
        _exit(127);
    }
    close(fds[0]);
    m->pid = pid;
    m->fd = fds[1];
    return m;
}

viz_movie_t *viz_movie_open(const char *path, int w, int h, int fps, char *err, size_t errsize)
{
    viz_movie_t *m = calloc(1, sizeof *m);
    if (!m || !(m->path = strdup(path))) {
        free(m);
        snprintf(err, errsize, "out of memory");
        return NULL;
    }
    m->mp4 = ends_with(path, ".mp4");
    m->w = w;
    m->h = h;
    m->fps = fps > 0 ? fps : 30;
    m->fd = -1;
    return m->mp4 ? open_mp4(m, err, errsize) : open_gif(m, err, errsize);
}

static bool write_all(int fd, const void *buf, size_t n)
{
    const char *p = buf;
    while (n) {
        ssize_t k = write(fd, p, n);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return false;
        p += k;
        n -= (size_t)k;
    }
    return true;
}

bool viz_movie_add(viz_movie_t *m, const uint32_t *pixels, int pitch_bytes, char *err, size_t errsize)
{
    if (m->mp4) {
        void (*old)(int) = signal(SIGPIPE, SIG_IGN);
        bool ok = true;
        for (int y = 0; y < m->h && ok; y++)
            ok = write_all(m->fd, (const char *)pixels + (size_t)y * (size_t)pitch_bytes, (size_t)m->w * 4);
        signal(SIGPIPE, old);
        if (!ok)
            snprintf(err, errsize, "ffmpeg stopped taking frames for %s (see its message above)", m->path);
        m->frames += ok;
        return ok;
    }
    for (int y = 0; y < m->h; y++) {
        const uint32_t *row = (const uint32_t *)((const char *)pixels + (size_t)y * (size_t)pitch_bytes);
        size_t o = (size_t)y * (size_t)m->w;
        for (int x = 0; x < m->w; x++) {
            m->r[o + (size_t)x] = (unsigned char)(row[x] >> 16);
            m->g[o + (size_t)x] = (unsigned char)(row[x] >> 8);
            m->b[o + (size_t)x] = (unsigned char)row[x];
        }
    }
    int ncol = 256;
    GifColorType pal[256];
    memset(pal, 0, sizeof pal);
    if (GifQuantizeBuffer((unsigned)m->w, (unsigned)m->h, &ncol, m->r, m->g, m->b, m->idx, pal) == GIF_ERROR) {
        snprintf(err, errsize, "cannot reduce a frame of %s to 256 colours", m->path);
        return false;
    }
    ColorMapObject *map = GifMakeMapObject(256, pal);
    if (!map) {
        snprintf(err, errsize, "out of memory");
        return false;
    }
    /* Delays in hundredths of a second, rounded so that they add up to
     * the frame rate's time without drift. */
    int delay = (int)(((m->frames + 1) * 100 + (uint64_t)m->fps / 2) / (uint64_t)m->fps -
                      (m->frames * 100 + (uint64_t)m->fps / 2) / (uint64_t)m->fps);
    GraphicsControlBlock gcb = {.DisposalMode = DISPOSE_DO_NOT, .UserInputFlag = false, .DelayTime = delay,
                                .TransparentColor = NO_TRANSPARENT_COLOR};
    GifByteType ext[4];
    size_t elen = EGifGCBToExtension(&gcb, ext);
    bool ok = EGifPutExtension(m->gif, GRAPHICS_EXT_FUNC_CODE, (int)elen, ext) != GIF_ERROR &&
              EGifPutImageDesc(m->gif, 0, 0, m->w, m->h, false, map) != GIF_ERROR;
    for (int y = 0; ok && y < m->h; y++)
        ok = EGifPutLine(m->gif, m->idx + (size_t)y * (size_t)m->w, m->w) != GIF_ERROR;
    GifFreeMapObject(map);
    if (!ok)
        return gif_fail(m, m->gif->Error, err, errsize);
    m->frames++;
    return true;
}

bool viz_movie_close(viz_movie_t *m, char *err, size_t errsize)
{
    bool ok = true;
    if (m->mp4) {
        close(m->fd);
        int st = 0;
        while (waitpid(m->pid, &st, 0) < 0 && errno == EINTR)
            ;
        if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
            snprintf(err, errsize, "ffmpeg could not write %s (exit status %d)", m->path,
                     WIFEXITED(st) ? WEXITSTATUS(st) : -1);
            ok = false;
        }
    } else {
        int code = 0;
        if (EGifCloseFile(m->gif, &code) == GIF_ERROR) {
            gif_fail(m, code, err, errsize);
            remove(m->part);
            ok = false;
        } else if (chmod(m->part, 0666 & ~current_umask()) != 0 || rename(m->part, m->path) != 0) {
            snprintf(err, errsize, "cannot write %s: %s", m->path, strerror(errno));
            remove(m->part);
            ok = false;
        }
    }
    movie_free(m);
    return ok;
}

void viz_movie_abort(viz_movie_t *m)
{
    if (!m)
        return;
    if (m->mp4) {
        close(m->fd);
        kill(m->pid, SIGTERM);
        waitpid(m->pid, NULL, 0);
        remove(m->path);
    } else {
        int code;
        EGifCloseFile(m->gif, &code);
        remove(m->part);
    }
    movie_free(m);
}
