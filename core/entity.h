/*
 * entity: what a pattern publishes for the trace and the view.
 *
 * An entity is a named thing of a pattern or of the simulated world that a
 * viewer should see: a worker pool and its workers, a queue with its depth
 * and capacity, a circuit breaker with its state and counts, a node with
 * its role, a service level. Entities form a tree (a worker belongs to its
 * pool) and carry a state (a short word: "idle", "busy", "open", "leader")
 * and named integer fields ("depth", "capacity", "failures"). Every change
 * is an EV_STATE trace event, so the text log, the Perfetto export and the
 * view all see the same history, and the trace hash covers it (all but
 * entity_note's fields, kept for the view alone).
 *
 * Fields are kept in the order they were first set; entities in creation
 * order. Ownership: entities are owned by the running scheduler.
 */
#ifndef CHANSIM_ENTITY_H
#define CHANSIM_ENTITY_H

#include <stddef.h>
#include <stdint.h>

#include "sched.h"

typedef struct entity entity_t;

#define ENTITY_MAX_FIELDS 16

/* A new entity of the given kind ("pool", "worker", "queue", "breaker",
 * "node", ...) named name (copied), under parent (or NULL). */
entity_t *entity_new(const char *kind, const char *name, entity_t *parent);
/* Set the state word (interned); emits "state" with detail = the state. */
void entity_set_state(entity_t *e, const char *state);
/* Set a named integer field; emits "state" with detail = the field name
 * and a = the value. At most ENTITY_MAX_FIELDS fields per entity. */
void entity_set(entity_t *e, const char *field, int64_t value);
/* entity_set unless the field already holds value (no event then): one
 * lookup of the field instead of entity_get's and entity_set's. A field
 * never set is not made for INT64_MIN. */
void entity_update(entity_t *e, const char *field, int64_t value);
/* Set a field for viewers only: no trace event, so the trace and its hash
 * do not see it (a timer's expiry that moves at every step of a protocol,
 * such as an election timeout, published for the view to draw). The
 * field is listed with the others (entity_fields); a traced entity_set of
 * the same name later traces as usual. */
void entity_note(entity_t *e, const char *field, int64_t value);
/* Add to a field (creating it at 0). Returns the new value. */
int64_t entity_add(entity_t *e, const char *field, int64_t delta);
/* Associate a goroutine with the entity (a worker's goroutine), so a view
 * can colour the entity by the goroutine's state. */
void entity_set_goroutine(entity_t *e, uint64_t goroutine_id);

uint64_t entity_id(const entity_t *e);
const char *entity_kind(const entity_t *e);
const char *entity_name(const entity_t *e);
const char *entity_state(const entity_t *e);
entity_t *entity_parent(const entity_t *e);
uint64_t entity_goroutine(const entity_t *e);
/* The value of a field, or def if it was never set. */
int64_t entity_get(const entity_t *e, const char *field, int64_t def);
/* Fields in first-set order: returns the count; names and values are
 * borrowed until the next change of the entity. */
size_t entity_fields(const entity_t *e, const char *const **names, const int64_t **values);

/* Visit the running scheduler's entities in creation order. */
void entity_each(sched_t *s, void (*fn)(void *ud, entity_t *e), void *ud);
/* Find an entity by id (NULL if none). */
entity_t *entity_find(sched_t *s, uint64_t id);

#endif
