/* diagram: the run as a space-time diagram in SVG. See diagram.h. */
#include "diagram.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "duration.h"
#include "mem.h"

#define MAX_PENDING 4096 /* sends waiting for their receive, messages in flight */

enum { MODE_G, MODE_N }; /* goroutine lines, node lines */

typedef enum dkind { D_CHAN, D_NET, D_DROP, D_SPAWN } dkind_t;

typedef struct lane {
    uint64_t id;
    char name[64];
    int first, last; /* rows: born, exited (-1: alive at the end) */
} lane_t;

/* An arrow from lane a at row r0 to lane b at row r1. */
typedef struct arrow {
    dkind_t kind;
    int a, b, r0, r1;
    uint64_t obj;     /* the channel (D_CHAN) */
    char label[48];
} arrow_t;

/* A mark at a row: on a lane (lane >= 0) or across the diagram. */
typedef struct mark {
    const char *cls; /* "fault", "panic" */
    int lane, row;
    char text[96];
} mark_t;

typedef struct pending {
    uint64_t key;     /* channel or message id */
    int lane, row;
    bool used;
} pending_t;

typedef struct side {
    lane_t lanes[DIAGRAM_MAX_LANES];
    int nlanes;
    uint64_t lanes_left_out;
    arrow_t *arrows;
    size_t narrows, caparrows;
    mark_t *marks;
    size_t nmarks, capmarks;
    int rows;
    int64_t *row_t;   /* the time of each row */
    uint64_t rows_left_out;
    pending_t pend[MAX_PENDING];
    size_t pend_pos;
} side_t;

struct diagram {
    side_t s[2];
    int64_t end;
};

diagram_t *diagram_create(void)
{
    diagram_t *d = mem_calloc(1, sizeof *d);
    for (int m = 0; m < 2; m++)
        d->s[m].row_t = mem_malloc(DIAGRAM_MAX_ROWS * sizeof(int64_t));
    return d;
}

void diagram_destroy(diagram_t *d)
{
    if (!d)
        return;
    for (int m = 0; m < 2; m++) {
        free(d->s[m].arrows);
        free(d->s[m].marks);
        free(d->s[m].row_t);
    }
    free(d);
}

static int lane_of(const side_t *s, uint64_t id)
{
    for (int i = 0; i < s->nlanes; i++)
        if (s->lanes[i].id == id)
            return i;
    return -1;
}

static int lane_add(side_t *s, uint64_t id, const char *name, int row)
{
    int i = lane_of(s, id);
    if (i >= 0)
        return i;
    if (s->nlanes == DIAGRAM_MAX_LANES) {
        s->lanes_left_out++;
        return -1;
    }
    lane_t *l = &s->lanes[s->nlanes];
    l->id = id;
    snprintf(l->name, sizeof l->name, "%s", name);
    l->first = row < 0 ? 0 : row;
    l->last = -1;
    return s->nlanes++;
}

/* The next row (at time t), or -1 when the diagram is full. */
static int row_new(side_t *s, int64_t t)
{
    if (s->rows == DIAGRAM_MAX_ROWS) {
        s->rows_left_out++;
        return -1;
    }
    s->row_t[s->rows] = t;
    return s->rows++;
}

static void arrow_add(side_t *s, dkind_t kind, int a, int b, int r0, int r1, const char *label)
{
    if (s->narrows == s->caparrows) {
        s->caparrows = s->caparrows ? s->caparrows * 2 : 256;
        s->arrows = mem_realloc(s->arrows, s->caparrows * sizeof *s->arrows);
    }
    arrow_t *ar = &s->arrows[s->narrows++];
    ar->kind = kind;
    ar->a = a, ar->b = b, ar->r0 = r0, ar->r1 = r1;
    ar->obj = 0;
    snprintf(ar->label, sizeof ar->label, "%s", label ? label : "");
}

static void mark_add(side_t *s, const char *cls, int lane, int row, const char *text)
{
    if (s->nmarks == s->capmarks) {
        s->capmarks = s->capmarks ? s->capmarks * 2 : 64;
        s->marks = mem_realloc(s->marks, s->capmarks * sizeof *s->marks);
    }
    mark_t *m = &s->marks[s->nmarks++];
    m->cls = cls;
    m->lane = lane;
    m->row = row;
    snprintf(m->text, sizeof m->text, "%s", text ? text : "");
}

static void pend_push(side_t *s, uint64_t key, int lane, int row)
{
    pending_t *p = &s->pend[s->pend_pos];
    *p = (pending_t){key, lane, row, true};
    s->pend_pos = (s->pend_pos + 1) % MAX_PENDING;
}

/* The oldest pending entry of key (taken), or NULL. */
static pending_t *pend_take(side_t *s, uint64_t key)
{
    for (size_t k = 0; k < MAX_PENDING; k++) {
        pending_t *p = &s->pend[(s->pend_pos + k) % MAX_PENDING];
        if (p->used && p->key == key) {
            p->used = false;
            return p;
        }
    }
    return NULL;
}

void diagram_sink(void *ud, const trace_event_t *ev)
{
    diagram_t *d = ud;
    side_t *g = &d->s[MODE_G], *n = &d->s[MODE_N];
    d->end = ev->t;
    switch (ev->kind) {
    case EV_GO_SPAWN: {
        int ca = lane_of(g, (uint64_t)ev->a);
        int r = row_new(g, ev->t);
        if (r < 0)
            return;
        int l = lane_add(g, ev->obj, ev->detail ? ev->detail : "goroutine", r);
        if (l >= 0 && ca >= 0)
            arrow_add(g, D_SPAWN, ca, l, r, r, "go");
        break;
    }
    case EV_GO_EXIT: {
        int l = lane_of(g, ev->g);
        if (l >= 0) {
            int r = row_new(g, ev->t);
            g->lanes[l].last = r < 0 ? g->rows : r;
        }
        break;
    }
    case EV_CHAN_SEND: {
        int l = ev->g ? lane_of(g, ev->g) : -1; /* the runtime's sends (timers) start no arrow */
        if (l < 0)
            return;
        int r = row_new(g, ev->t);
        if (r >= 0)
            pend_push(g, ev->obj, l, r);
        break;
    }
    case EV_CHAN_RECV: {
        int l = lane_of(g, ev->g);
        pending_t *p = l >= 0 ? pend_take(g, ev->obj) : NULL;
        if (!p || p->lane == l)
            return;
        int r = row_new(g, ev->t);
        if (r < 0)
            return;
        char label[48];
        snprintf(label, sizeof label, "#%llu", (unsigned long long)ev->obj);
        arrow_add(g, D_CHAN, p->lane, l, p->row, r, label);
        g->arrows[g->narrows - 1].obj = ev->obj;
        break;
    }
    case EV_NET_SEND: {
        int a = lane_add(n, (uint64_t)ev->a, "", 0);
        lane_add(n, (uint64_t)ev->b, "", 0);
        if (a < 0)
            return;
        int r = row_new(n, ev->t);
        if (r >= 0)
            pend_push(n, ev->obj, a, r);
        break;
    }
    case EV_NET_DELIVER:
    case EV_NET_DROP: {
        pending_t *p = pend_take(n, ev->obj);
        int b = lane_of(n, (uint64_t)ev->b);
        if (!p || b < 0)
            return;
        int r = row_new(n, ev->t);
        if (r < 0)
            return;
        arrow_add(n, ev->kind == EV_NET_DROP ? D_DROP : D_NET, p->lane, b, p->row, r,
                  ev->kind == EV_NET_DROP ? (ev->detail ? ev->detail : "dropped") : "");
        break;
    }
    case EV_FAULT: {
        for (int m = 0; m < 2; m++) {
            side_t *s = &d->s[m];
            int r = row_new(s, ev->t);
            if (r >= 0)
                mark_add(s, "fault", m == MODE_N ? lane_of(s, ev->obj) : -1, r, ev->detail ? ev->detail : "fault");
        }
        break;
    }
    case EV_PANIC:
    case EV_FATAL: {
        const char *what = ev->detail ? ev->detail : ev->kind == EV_PANIC ? "panic" : "fatal error";
        for (int m = 0; m < 2; m++) {
            side_t *s = &d->s[m];
            int r = row_new(s, ev->t);
            if (r >= 0)
                mark_add(s, "panic", m == MODE_G ? lane_of(s, ev->g) : -1, r, what);
        }
        break;
    }
    default: break;
    }
}

/* ---- writing ----------------------------------------------------------------- */

enum { LEFT = 96, TOP = 84, LANE_W = 132, ROW_H = 16, BOTTOM = 48 };

static void xml_text(FILE *f, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '&': fputs("&amp;", f); break;
        case '"': fputs("&quot;", f); break;
        default:
            if ((unsigned char)*s >= 0x20 || *s == '\t')
                fputc(*s, f);
        }
    }
}

static int lane_x(int l)
{
    return LEFT + LANE_W / 2 + l * LANE_W;
}

static int row_y(int r)
{
    return TOP + r * ROW_H + ROW_H / 2;
}

typedef struct names_ctx {
    side_t *s;
} names_ctx_t;

/* A channel's name on the arrows through it. */
static void name_chan(void *ud, obj_t *o)
{
    names_ctx_t *c = ud;
    if (o->kind != OBJ_CHAN || !o->name)
        return;
    for (size_t i = 0; i < c->s->narrows; i++)
        if (c->s->arrows[i].obj == o->id)
            snprintf(c->s->arrows[i].label, sizeof c->s->arrows[i].label, "%s", o->name);
}

static void name_lane(void *ud, obj_t *o)
{
    names_ctx_t *c = ud;
    int l = lane_of(c->s, o->id);
    if (l >= 0 && o->name && !c->s->lanes[l].name[0])
        snprintf(c->s->lanes[l].name, sizeof c->s->lanes[l].name, "%s", o->name);
}

bool diagram_write(diagram_t *d, sched_t *sched, const char *scenario, FILE *f)
{
    /* Nodes when they talked; goroutines otherwise. */
    int mode = d->s[MODE_N].narrows ? MODE_N : MODE_G;
    side_t *s = &d->s[mode];
    if (sched) {
        names_ctx_t c = {s};
        sched_each_object(sched, mode == MODE_N ? name_lane : name_chan, &c);
    }
    for (int i = 0; i < s->nlanes; i++)
        if (!s->lanes[i].name[0])
            snprintf(s->lanes[i].name, sizeof s->lanes[i].name, "node #%llu", (unsigned long long)s->lanes[i].id);
    int rows = s->rows ? s->rows : 1;
    int w = LEFT + (s->nlanes ? s->nlanes : 1) * LANE_W + 24;
    if (w < 960)
        w = 960; /* room for the heading */
    int h = TOP + rows * ROW_H + BOTTOM;
    fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
               "font-family=\"DejaVu Sans, Verdana, sans-serif\" font-size=\"12\">\n", w, h, w, h);
    fputs("<style>\n"
          ".lane{stroke:#444;stroke-width:2}\n"
          ".exit{stroke:#444;stroke-width:3}\n"
          ".chan{stroke:#0072B2;stroke-width:1.5;fill:none}\n"
          ".net{stroke:#009E73;stroke-width:1.5;fill:none}\n"
          ".drop{stroke:#D55E00;stroke-width:1.5;stroke-dasharray:5 3;fill:none}\n"
          ".spawn{stroke:#999;stroke-width:1;stroke-dasharray:2 3;fill:none}\n"
          ".time{stroke:#e4e2da;stroke-width:1}\n"
          ".fault line{stroke:#CC79A7;stroke-width:2;stroke-dasharray:6 3}\n"
          ".fault text{fill:#8a3c6b}\n"
          ".panic line{stroke:#D55E00;stroke-width:3}\n"
          ".panic text{fill:#D55E00}\n"
          "text.head{font-weight:bold}\n"
          "</style>\n", f);
    fprintf(f, "<defs><marker id=\"head\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" markerWidth=\"7\" "
               "markerHeight=\"7\" orient=\"auto-start-reverse\"><path d=\"M0,0 L10,5 L0,10 z\" fill=\"context-stroke\"/>"
               "</marker></defs>\n");
    fprintf(f, "<rect width=\"%d\" height=\"%d\" fill=\"#fbfaf6\"/>\n", w, h);
    fprintf(f, "<text x=\"12\" y=\"22\" font-size=\"16\" font-weight=\"bold\">");
    xml_text(f, scenario ? scenario : "chansim");
    fprintf(f, "</text>\n<text x=\"12\" y=\"40\" fill=\"#555\">%s; time goes down, one row per event "
               "(events of one instant stay apart)</text>\n",
            mode == MODE_N ? "one line per node, arrows: messages (dashed, ending in a cross: dropped)"
                           : "one line per goroutine, arrows: values handed over through channels");
    /* Time labels where the time changes, with a faint rule. */
    int64_t last = -1;
    char buf[64];
    for (int r = 0; r < s->rows; r++) {
        if (s->row_t[r] == last)
            continue;
        last = s->row_t[r];
        int y = row_y(r);
        fprintf(f, "<g class=\"time\"><line class=\"time\" x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\"/>"
                   "<text x=\"%d\" y=\"%d\" text-anchor=\"end\" fill=\"#777\" font-size=\"10\">%s</text></g>\n",
                LEFT, y, w - 12, y, LEFT - 6, y + 4, dur_format(last, buf, sizeof buf));
    }
    /* The lines. */
    for (int i = 0; i < s->nlanes; i++) {
        const lane_t *l = &s->lanes[i];
        int x = lane_x(i);
        int y0 = mode == MODE_N ? TOP : row_y(l->first);
        int y1 = l->last >= 0 ? row_y(l->last) : TOP + rows * ROW_H;
        fprintf(f, "<g><title>");
        xml_text(f, l->name);
        fprintf(f, "</title><text class=\"head\" x=\"%d\" y=\"%d\" text-anchor=\"middle\"%s>", x,
                mode == MODE_N ? TOP - 12 : y0 - 8 < 60 ? 60 : y0 - 8,
                strlen(l->name) > 18 ? " font-size=\"10\"" : "");
        xml_text(f, l->name);
        fprintf(f, "</text><line class=\"lane\" x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\"/>", x, y0, x, y1);
        if (l->last >= 0)
            fprintf(f, "<line class=\"exit\" x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\"/>", x - 8, y1, x + 8, y1);
        fprintf(f, "</g>\n");
    }
    /* The arrows. */
    static const char *const cls[] = {"chan", "net", "drop", "spawn"};
    for (size_t i = 0; i < s->narrows; i++) {
        const arrow_t *a = &s->arrows[i];
        int x0 = lane_x(a->a), y0 = row_y(a->r0), x1 = lane_x(a->b), y1 = row_y(a->r1);
        if (a->kind == D_DROP) {
            /* It dies halfway, at the cut. */
            int xm = (x0 + x1) / 2, ym = (y0 + y1) / 2;
            fprintf(f, "<g><title>dropped: ");
            xml_text(f, a->label);
            fprintf(f, "</title><line class=\"drop\" x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\"/>"
                       "<path class=\"drop\" style=\"stroke-dasharray:none;stroke-width:2.5\" "
                       "d=\"M%d,%d L%d,%d M%d,%d L%d,%d\"/></g>\n",
                    x0, y0, xm, ym, xm - 5, ym - 5, xm + 5, ym + 5, xm - 5, ym + 5, xm + 5, ym - 5);
            continue;
        }
        fprintf(f, "<line class=\"%s\" x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" marker-end=\"url(#head)\">", cls[a->kind],
                x0, y0, x1 + (x1 > x0 ? -3 : 3), y1);
        if (a->label[0]) {
            fputs("<title>", f);
            xml_text(f, a->label);
            fputs("</title>", f);
        }
        fputs("</line>\n", f);
    }
    /* Faults and failures. */
    for (size_t i = 0; i < s->nmarks; i++) {
        const mark_t *m = &s->marks[i];
        int y = row_y(m->row);
        fprintf(f, "<g class=\"%s\"><title>", m->cls);
        xml_text(f, m->text);
        fputs("</title>", f);
        if (m->lane >= 0) {
            int x = lane_x(m->lane);
            if (strcmp(m->cls, "panic") == 0)
                fprintf(f, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\"/><line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\"/>",
                        x - 7, y - 7, x + 7, y + 7, x - 7, y + 7, x + 7, y - 7);
            else
                fprintf(f, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\"/>", x - LANE_W / 3, y, x + LANE_W / 3, y);
            fprintf(f, "<text x=\"%d\" y=\"%d\" font-size=\"10\">", x + 10, y - 4);
        } else {
            fprintf(f, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\"/>", LEFT, y, w - 12, y);
            fprintf(f, "<text x=\"%d\" y=\"%d\" font-size=\"10\">", LEFT + 4, y - 4);
        }
        xml_text(f, m->text);
        fputs("</text></g>\n", f);
    }
    if (s->lanes_left_out || s->rows_left_out)
        fprintf(f, "<text x=\"12\" y=\"%d\" fill=\"#D55E00\">not drawn: %llu more lines, %llu more events</text>\n",
                h - 16, (unsigned long long)s->lanes_left_out, (unsigned long long)s->rows_left_out);
    fputs("</svg>\n", f);
    return !ferror(f);
}
