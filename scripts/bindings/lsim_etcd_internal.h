/*
 * lsim_etcd_internal: what the etcd bindings share (lsim_etcd.c: the store,
 * its client, transactions and watches; lsim_etcd_recipes.c: sessions, the
 * concurrency recipes and the seed's coordination patterns on them;
 * lsim_checker.c: the world's checkers, which the patterns track, and the
 * fenced resource). Nothing else includes it.
 */
#ifndef CHANSIM_LSIM_ETCD_INTERNAL_H
#define CHANSIM_LSIM_ETCD_INTERNAL_H

#include <lua.h>

#include "etcd.h"
#include "lsim.h"
#include "lsim_ctx.h"

#define SERVER_MT "chansim.etcd_server"
#define CLIENT_MT "chansim.etcd_client"
#define SESSION_MT "chansim.etcd_session"
#define EMUTEX_MT "chansim.etcd_mutex"
#define ELECTION_MT "chansim.etcd_election"
#define DMUTEX_MT "chansim.distributed_mutex"
#define LEADER_MT "chansim.leader_election"
#define DSEM_MT "chansim.distributed_semaphore"
#define HOLDERS_MT "chansim.holders"
#define LEADERSHIP_MT "chansim.leadership"
#define FENCED_MT "chansim.fenced_resource"
#define ACKED_MT "chansim.acked_writes"
#define WATCH_MT "chansim.etcd_watch"
#define OBSERVE_MT "chansim.etcd_observe"
#define NODE_MT "chansim.node" /* lsim_cluster.c's */

/* Every userdata here is a box (lsim_pushbox) holding a pointer to a
 * scheduler-owned object; uservalue 1 keeps what it was made from alive
 * (its client, session, ...). */

/* A watch or an Observe: a receiver with :recv() and :cancel(). */
typedef struct lwatch {
    chan_t *ch;   /* the C channel of response pointers */
    ctx_t *ctx;   /* a child of the caller's context, cancelled by :cancel() */
} lwatch_t;

/* The optional context at idx: sim.context.background() when omitted. */
ctx_t *lsim_etcd_opt_ctx(lua_State *L, int idx);
/* Go's nil, err; or true when err is NULL. */
int lsim_etcd_fail(lua_State *L, const go_error_t *err);
int lsim_etcd_ok_or_fail(lua_State *L, const go_error_t *err);
/* A key-value pair as a table { key, value, create_rev, mod_rev, version, lease }. */
void lsim_etcd_push_kv(lua_State *L, const kv_kv_t *kv);
/* A new receiver with metatable mt, its context a child of parent. */
lwatch_t *lsim_etcd_push_receiver(lua_State *L, const char *mt, ctx_t *parent);
/* r:cancel() of a watch or an observer. */
int lsim_etcd_wa_cancel(lua_State *L);

/* Registration, called by lsim_open_etcd (lsim.h) in this order. */
void lsim_open_etcd_recipes(lua_State *L, int simtable);
void lsim_open_checker(lua_State *L, int simtable);

#endif
