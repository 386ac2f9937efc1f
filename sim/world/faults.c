/* faults: a schedule of faults by node name. See faults.h. */
#include "faults.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "duration.h"
#include "mem.h"
#include "net.h"
#include "timer.h"

#define MAX_SIDE 32

/* The words of s (at most max), copied into buf. */
static size_t words(const char *s, char *buf, size_t size, char **w, size_t max)
{
    snprintf(buf, size, "%s", s);
    size_t n = 0;
    for (char *p = strtok(buf, " \t"); p && n < max; p = strtok(NULL, " \t"))
        w[n++] = p;
    return n;
}

/* Check (apply false) or apply (true) one fault. */
static bool fault_do(const char *what, bool apply, char *err, size_t errsize)
{
    char buf[160], *w[2 * MAX_SIDE + 3];
    size_t n = words(what, buf, sizeof buf, w, sizeof w / sizeof w[0]);
    if (n == 0) {
        snprintf(err, errsize, "no fault");
        return false;
    }
    if (strcmp(w[0], "heal") == 0) {
        if (n != 1) {
            snprintf(err, errsize, "heal takes no node (it heals every cluster)");
            return false;
        }
        if (apply)
            net_heal_all();
        return true;
    }
    static const char *const one[] = {"crash", "restart", "pause", "resume", "isolate"};
    for (size_t k = 0; k < sizeof one / sizeof one[0]; k++) {
        if (strcmp(w[0], one[k]) != 0)
            continue;
        if (n != 2) {
            snprintf(err, errsize, "%s takes one node: %s NODE", one[k], one[k]);
            return false;
        }
        if (!apply)
            return true;
        net_node_t *node = net_node_find(w[1]);
        if (!node) {
            snprintf(err, errsize, "%s %s: no node %s in the run", one[k], w[1], w[1]);
            return false;
        }
        switch (k) {
        case 0: net_node_crash(node); break;
        case 1: net_node_restart(node); break;
        case 2: net_node_pause(node); break;
        case 3: net_node_resume(node); break;
        default: net_cluster_isolate(net_node_cluster(node), node); break;
        }
        return true;
    }
    if (strcmp(w[0], "partition") == 0) {
        size_t bar = 0;
        for (size_t i = 1; i < n; i++)
            if (strcmp(w[i], "|") == 0)
                bar = i;
        if (bar < 2 || bar == n - 1) {
            snprintf(err, errsize, "partition A ... | B ...: two sides of nodes");
            return false;
        }
        if (!apply)
            return true;
        net_node_t *a[MAX_SIDE], *b[MAX_SIDE];
        size_t na = 0, nb = 0;
        for (size_t i = 1; i < n; i++) {
            if (i == bar)
                continue;
            net_node_t *node = net_node_find(w[i]);
            if (!node) {
                snprintf(err, errsize, "partition: no node %s in the run", w[i]);
                return false;
            }
            if (i < bar && na < MAX_SIDE)
                a[na++] = node;
            else if (i > bar && nb < MAX_SIDE)
                b[nb++] = node;
        }
        net_cluster_partition(net_node_cluster(a[0]), a, na, b, nb, false);
        return true;
    }
    snprintf(err, errsize, "unknown fault \"%s\" (crash, restart, pause, resume, isolate, partition or heal)", w[0]);
    return false;
}

bool faults_parse(const char *text, faults_t *out, char *err, size_t errsize)
{
    faults_t f = {NULL, 0};
    int line = 0;
    for (const char *p = text; p && *p;) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        line++;
        char l[256];
        if (len >= sizeof l) {
            snprintf(err, errsize, "%d: line too long", line);
            faults_free(&f);
            return false;
        }
        memcpy(l, p, len);
        l[len] = 0;
        p = nl ? nl + 1 : NULL;
        char *s = l;
        while (*s == ' ' || *s == '\t' || *s == '\r')
            s++;
        size_t e = strlen(s);
        while (e && (s[e - 1] == ' ' || s[e - 1] == '\t' || s[e - 1] == '\r'))
            s[--e] = 0;
        if (!*s || *s == '#')
            continue;
        char *sp = strpbrk(s, " \t");
        if (!sp) {
            snprintf(err, errsize, "%d: want TIME FAULT, e.g. 2.5s crash node1", line);
            faults_free(&f);
            return false;
        }
        *sp = 0;
        int64_t at;
        char why[128];
        if (!dur_parse(s, &at, why, sizeof why) || at < 0) {
            snprintf(err, errsize, "%d: %s: not a time (%s)", line, s, at < 0 ? "negative" : why);
            faults_free(&f);
            return false;
        }
        const char *what = sp + 1;
        while (*what == ' ' || *what == '\t')
            what++;
        if (strlen(what) >= sizeof f.v[0].what || !fault_do(what, false, why, sizeof why)) {
            snprintf(err, errsize, "%d: %s", line, strlen(what) >= sizeof f.v[0].what ? "fault too long" : why);
            faults_free(&f);
            return false;
        }
        f.v = mem_realloc(f.v, (f.n + 1) * sizeof *f.v);
        f.v[f.n].at = at;
        snprintf(f.v[f.n].what, sizeof f.v[f.n].what, "%s", what);
        f.n++;
    }
    *out = f;
    return true;
}

void faults_free(faults_t *f)
{
    free(f->v);
    f->v = NULL;
    f->n = 0;
}

static void fire(void *arg)
{
    const faults_entry_t *e = arg;
    char err[256];
    if (!faults_apply(e->what, err, sizeof err))
        fprintf(stderr, "chansim: --faults: at %lld ns: %s\n", (long long)e->at, err);
}

void faults_arm(const faults_t *f)
{
    for (size_t i = 0; i < f->n; i++)
        timer_after_func(f->v[i].at - sched_now(), fire, &f->v[i]);
}

bool faults_apply(const char *what, char *err, size_t errsize)
{
    return fault_do(what, true, err, errsize);
}
