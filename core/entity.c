/* entity: published state of patterns and the world. See entity.h. */
#include "entity.h"

#include <string.h>

struct entity {
    obj_t hdr;                 /* scheduler-owned; hdr.name is the name */
    const char *kind;          /* interned */
    const char *state;         /* interned, or NULL */
    entity_t *parent;          /* or NULL */
    uint64_t goroutine;        /* associated goroutine id, or 0 */
    size_t nfields;
    const char *field_names[ENTITY_MAX_FIELDS]; /* interned */
    int64_t field_values[ENTITY_MAX_FIELDS];
    size_t field_lens[ENTITY_MAX_FIELDS];       /* strlen of each name */
    uint64_t field_digests[ENTITY_MAX_FIELDS];  /* trace_hash_detail of each name */
};

/* The field named field (of length len), or e->nfields. Patterns publish
 * a dozen fields at every step: lengths first, bytes only where they
 * agree. */
static size_t field_find(const entity_t *e, const char *field, size_t len)
{
    for (size_t i = 0; i < e->nfields; i++)
        if (e->field_lens[i] == len && memcmp(e->field_names[i], field, len) == 0)
            return i;
    return e->nfields;
}

entity_t *entity_new(const char *kind, const char *name, entity_t *parent)
{
    sched_t *s = sched_current();
    entity_t *e = obj_alloc(sizeof *e, OBJ_ENTITY, NULL);
    e->kind = sched_intern(s, kind);
    obj_set_name(e, name);
    e->parent = parent;
    sched_emit(EV_STATE, e->hdr.id, (int64_t)obj_id(parent), 0, e->kind);
    return e;
}

void entity_set_state(entity_t *e, const char *state)
{
    e->state = sched_intern(sched_current(), state);
    sched_emit(EV_STATE, e->hdr.id, 0, 0, e->state);
}

static size_t field_index(entity_t *e, const char *field)
{
    size_t len = strlen(field);
    size_t i = field_find(e, field, len);
    if (i < e->nfields)
        return i;
    if (e->nfields == ENTITY_MAX_FIELDS)
        return ENTITY_MAX_FIELDS;
    e->field_names[e->nfields] = sched_intern(sched_current(), field);
    e->field_values[e->nfields] = 0;
    e->field_lens[e->nfields] = len;
    e->field_digests[e->nfields] = trace_hash_detail(e->field_names[e->nfields]);
    return e->nfields++;
}

void entity_set(entity_t *e, const char *field, int64_t value)
{
    size_t i = field_index(e, field);
    if (i == ENTITY_MAX_FIELDS)
        return;
    e->field_values[i] = value;
    sched_emit_digest(EV_STATE, e->hdr.id, value, 1, e->field_names[i], e->field_digests[i]);
}

void entity_update(entity_t *e, const char *field, int64_t value)
{
    size_t len = strlen(field), i = field_find(e, field, len);
    if (i < e->nfields) {
        if (e->field_values[i] == value)
            return;
        e->field_values[i] = value;
        sched_emit_digest(EV_STATE, e->hdr.id, value, 1, e->field_names[i], e->field_digests[i]);
        return;
    }
    if (value != INT64_MIN)
        entity_set(e, field, value);
}

void entity_note(entity_t *e, const char *field, int64_t value)
{
    size_t i = field_index(e, field);
    if (i < ENTITY_MAX_FIELDS)
        e->field_values[i] = value;
}

int64_t entity_add(entity_t *e, const char *field, int64_t delta)
{
    size_t i = field_index(e, field);
    if (i == ENTITY_MAX_FIELDS)
        return 0;
    e->field_values[i] += delta;
    sched_emit_digest(EV_STATE, e->hdr.id, e->field_values[i], 1, e->field_names[i],
                      e->field_digests[i]);
    return e->field_values[i];
}

void entity_set_goroutine(entity_t *e, uint64_t goroutine_id)
{
    e->goroutine = goroutine_id;
}

uint64_t entity_id(const entity_t *e) { return e->hdr.id; }
const char *entity_kind(const entity_t *e) { return e->kind; }
const char *entity_name(const entity_t *e) { return e->hdr.name ? e->hdr.name : ""; }
const char *entity_state(const entity_t *e) { return e->state ? e->state : ""; }
entity_t *entity_parent(const entity_t *e) { return e->parent; }
uint64_t entity_goroutine(const entity_t *e) { return e->goroutine; }

int64_t entity_get(const entity_t *e, const char *field, int64_t def)
{
    size_t i = field_find(e, field, strlen(field));
    return i < e->nfields ? e->field_values[i] : def;
}

size_t entity_fields(const entity_t *e, const char *const **names, const int64_t **values)
{
    *names = e->field_names;
    *values = e->field_values;
    return e->nfields;
}

typedef struct each_ctx {
    void (*fn)(void *ud, entity_t *e);
    void *ud;
} each_ctx_t;

static void visit_obj(void *ud, obj_t *o)
{
    each_ctx_t *c = ud;
    if (o->kind == OBJ_ENTITY) /* only entity_new makes these */
        c->fn(c->ud, (entity_t *)o);
}

void entity_each(sched_t *s, void (*fn)(void *ud, entity_t *e), void *ud)
{
    each_ctx_t c = {fn, ud};
    sched_each_object(s, visit_obj, &c);
}

typedef struct find_ctx {
    uint64_t id;
    entity_t *found;
} find_ctx_t;

static void find_one(void *ud, entity_t *e)
{
    find_ctx_t *f = ud;
    if (!f->found && e->hdr.id == f->id)
        f->found = e;
}

entity_t *entity_find(sched_t *s, uint64_t id)
{
    find_ctx_t f = {id, NULL};
    entity_each(s, find_one, &f);
    return f.found;
}
