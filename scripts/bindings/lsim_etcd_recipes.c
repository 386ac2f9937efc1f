/*
 * lsim_etcd_recipes: etcd's concurrency package (sim.etcd_session,
 * sim.etcd_mutex, sim.etcd_election and its Observe) and the seed's
 * coordination patterns built on it (sim.distributed_mutex,
 * sim.leader_election, sim.distributed_semaphore), for scenarios. See
 * lsim_etcd.c for the store and its client; the patterns report to the
 * checkers of lsim_checker.c (track =).
 */
#include <lauxlib.h>

#include "checker.h"
#include "concurrency.h"
#include "distributed_mutex.h"
#include "distributed_semaphore.h"
#include "leader_election.h"
#include "lsim_etcd_internal.h"

/* ---- sessions, mutexes, elections -------------------------------------------- */

static int l_session(lua_State *L)
{
    etcd_client_t *c = lsim_checkbox(L, 1, CLIENT_MT);
    concurrency_session_opts_t o = {0};
    static const char *const keys[] = {"ttl", "ctx", NULL};
    lsim_opts_t opt = lsim_opts_opt(L, 2, "cli:session", keys);
    o.ttl_s = lsim_opt_int(&opt, "ttl", 0, 0, LUA_MAXINTEGER);
    o.ctx = lsim_opt_ctx(&opt, "ctx");
    lsim_need_goroutine(L, "etcd session");
    concurrency_session_t *s;
    const go_error_t *err = concurrency_session_new(c, &o, &s);
    if (err)
        return lsim_etcd_fail(L, err);
    lsim_pushbox(L, s, SESSION_MT, 1);
    return 1;
}

static int ses_lease(lua_State *L)
{
    lua_pushinteger(L, concurrency_session_lease(lsim_checkbox(L, 1, SESSION_MT)));
    return 1;
}

static int ses_done(lua_State *L)
{
    lsim_pushchan(L, concurrency_session_done(lsim_checkbox(L, 1, SESSION_MT)));
    return 1;
}

static int ses_close(lua_State *L)
{
    concurrency_session_t *s = lsim_checkbox(L, 1, SESSION_MT);
    lsim_need_goroutine(L, "session close");
    const go_error_t *err = concurrency_session_close(s);
    if (err)
        return lsim_etcd_fail(L, err);
    lua_pushboolean(L, 1);
    return 1;
}

static int ses_orphan(lua_State *L)
{
    concurrency_session_t *s = lsim_checkbox(L, 1, SESSION_MT);
    lsim_need_goroutine(L, "session orphan");
    concurrency_session_orphan(s);
    return 0;
}

static int l_emutex(lua_State *L)
{
    concurrency_session_t *s = lsim_checkbox(L, 1, SESSION_MT);
    lsim_pushbox(L, concurrency_mutex_new(s, luaL_checkstring(L, 2)), EMUTEX_MT, 1);
    return 1;
}

static int em_lock(lua_State *L)
{
    concurrency_mutex_t *m = lsim_checkbox(L, 1, EMUTEX_MT);
    lsim_need_goroutine(L, "Mutex.Lock");
    return lsim_etcd_ok_or_fail(L, concurrency_mutex_lock(m, lsim_etcd_opt_ctx(L, 2)));
}

static int em_try_lock(lua_State *L)
{
    concurrency_mutex_t *m = lsim_checkbox(L, 1, EMUTEX_MT);
    lsim_need_goroutine(L, "Mutex.TryLock");
    return lsim_etcd_ok_or_fail(L, concurrency_mutex_try_lock(m, lsim_etcd_opt_ctx(L, 2)));
}

static int em_unlock(lua_State *L)
{
    concurrency_mutex_t *m = lsim_checkbox(L, 1, EMUTEX_MT);
    lsim_need_goroutine(L, "Mutex.Unlock");
    return lsim_etcd_ok_or_fail(L, concurrency_mutex_unlock(m, lsim_etcd_opt_ctx(L, 2)));
}

static int em_key(lua_State *L)
{
    lua_pushstring(L, concurrency_mutex_key(lsim_checkbox(L, 1, EMUTEX_MT)));
    return 1;
}

/* m:token(): the revision at which the lock was acquired (a fencing token) */
static int em_token(lua_State *L)
{
    lua_pushinteger(L, concurrency_mutex_header_revision(lsim_checkbox(L, 1, EMUTEX_MT)));
    return 1;
}

/* m:is_owner(): IsOwner() as a compare for cli:txn: { key = m:key(),
 * target = "create", op = "=", value = the key's create revision }. */
static int em_is_owner(lua_State *L)
{
    kv_cmp_t c = concurrency_mutex_is_owner(lsim_checkbox(L, 1, EMUTEX_MT));
    lua_createtable(L, 0, 4);
    lua_pushstring(L, c.key);
    lua_setfield(L, -2, "key");
    lua_pushliteral(L, "create");
    lua_setfield(L, -2, "target");
    lua_pushliteral(L, "=");
    lua_setfield(L, -2, "op");
    lsim_set_int(L, "value", c.num);
    return 1;
}

static int l_election(lua_State *L)
{
    concurrency_session_t *s = lsim_checkbox(L, 1, SESSION_MT);
    lsim_pushbox(L, concurrency_election_new(s, luaL_checkstring(L, 2)), ELECTION_MT, 1);
    return 1;
}

static int el_campaign(lua_State *L)
{
    concurrency_election_t *e = lsim_checkbox(L, 1, ELECTION_MT);
    const char *val = luaL_checkstring(L, 2);
    lsim_need_goroutine(L, "Election.Campaign");
    return lsim_etcd_ok_or_fail(L, concurrency_election_campaign(e, lsim_etcd_opt_ctx(L, 3), val));
}

static int el_proclaim(lua_State *L)
{
    concurrency_election_t *e = lsim_checkbox(L, 1, ELECTION_MT);
    const char *val = luaL_checkstring(L, 2);
    lsim_need_goroutine(L, "Election.Proclaim");
    return lsim_etcd_ok_or_fail(L, concurrency_election_proclaim(e, lsim_etcd_opt_ctx(L, 3), val));
}

static int el_resign(lua_State *L)
{
    concurrency_election_t *e = lsim_checkbox(L, 1, ELECTION_MT);
    lsim_need_goroutine(L, "Election.Resign");
    return lsim_etcd_ok_or_fail(L, concurrency_election_resign(e, lsim_etcd_opt_ctx(L, 2)));
}

/* value, key, term = e:leader([ctx]) */
static int el_leader(lua_State *L)
{
    concurrency_election_t *e = lsim_checkbox(L, 1, ELECTION_MT);
    lsim_need_goroutine(L, "Election.Leader");
    kv_result_t r = {0};
    const go_error_t *err = concurrency_election_leader(e, lsim_etcd_opt_ctx(L, 2), &r);
    if (err) {
        kv_result_clear(&r);
        return lsim_etcd_fail(L, err);
    }
    lua_pushstring(L, r.op.kvs[0].value);
    lua_pushstring(L, r.op.kvs[0].key);
    lua_pushinteger(L, r.op.kvs[0].create_rev);
    kv_result_clear(&r);
    return 3;
}

static int el_is_leader(lua_State *L)
{
    lua_pushboolean(L, concurrency_election_is_leader(lsim_checkbox(L, 1, ELECTION_MT)));
    return 1;
}

static int el_term(lua_State *L)
{
    lua_pushinteger(L, concurrency_election_rev(lsim_checkbox(L, 1, ELECTION_MT)));
    return 1;
}

/* o = e:observe([ctx]): the current leader once there is one, then every
 * change of leader or of its value. o:recv() blocks for the next one:
 * { key =, value =, create_rev = (the term), revision = }, or nil once it
 * is closed; o:cancel() ends it. */
static int el_observe(lua_State *L)
{
    concurrency_election_t *e = lsim_checkbox(L, 1, ELECTION_MT);
    lwatch_t *w = lsim_etcd_push_receiver(L, OBSERVE_MT, lsim_etcd_opt_ctx(L, 2));
    w->ch = concurrency_election_observe(e, w->ctx);
    return 1;
}

static int ob_recv(lua_State *L)
{
    lwatch_t *w = luaL_checkudata(L, 1, OBSERVE_MT);
    lsim_need_goroutine(L, "observe recv");
    concurrency_observe_t *r = NULL;
    if (!chan_recv(w->ch, &r) || !r) {
        lua_pushnil(L);
        return 1;
    }
    lsim_etcd_push_kv(L, &r->kv);
    lsim_set_int(L, "revision", r->revision);
    concurrency_observe_free(r);
    return 1;
}

/* ---- the seed's patterns -------------------------------------------------------- */

static etcd_client_t *field_client(const lsim_opts_t *o)
{
    if (lsim_opt_push(o, "client") == LUA_TNIL || !luaL_testudata(o->L, -1, CLIENT_MT))
        lsim_opt_fail(o, "client", -1, "an etcd client (store:client(node))");
    etcd_client_t *c = lsim_checkbox(o->L, -1, CLIENT_MT);
    lua_pop(o->L, 1);
    return c;
}

/* The box of an optional key, which must have metatable mt, or NULL. */
static void *field_box(const lsim_opts_t *o, const char *key, const char *mt, const char *want)
{
    void *p = NULL;
    if (lsim_opt_push(o, key) != LUA_TNIL) {
        if (!luaL_testudata(o->L, -1, mt))
            lsim_opt_fail(o, key, -1, want);
        p = lsim_checkbox(o->L, -1, mt);
    }
    lua_pop(o->L, 1);
    return p;
}

/* sim.distributed_mutex{ client =, lock_path = "/locks/my-critical-section", ttl = 10, variant = } */
static int l_dmutex(lua_State *L)
{
    static const char *const keys[] = {"client", "lock_path", "ttl", "variant", NULL};
    lsim_opts_t o = lsim_opts(L, 1, "sim.distributed_mutex", keys);
    etcd_client_t *c = field_client(&o);
    const char *path = lsim_opt_str(&o, "lock_path", "/locks/my-critical-section");
    int64_t ttl = lsim_opt_int(&o, "ttl", 10, LUA_MININTEGER, LUA_MAXINTEGER);
    bool seed = lsim_opt_seed_variant(&o);
    lsim_need_goroutine(L, "NewDistributedMutex");
    distributed_mutex_t *dm;
    const go_error_t *err = distributed_mutex_create(c, path, ttl, seed, &dm);
    if (err)
        return lsim_etcd_fail(L, err);
    lua_getfield(L, 1, "client");
    lsim_pushbox(L, dm, DMUTEX_MT, -1);
    return 1;
}

static int dm_lock(lua_State *L)
{
    distributed_mutex_t *dm = lsim_checkbox(L, 1, DMUTEX_MT);
    lsim_need_goroutine(L, "DistributedMutex.Lock");
    return lsim_etcd_ok_or_fail(L, distributed_mutex_lock(dm, lsim_etcd_opt_ctx(L, 2)));
}

static int dm_unlock(lua_State *L)
{
    distributed_mutex_t *dm = lsim_checkbox(L, 1, DMUTEX_MT);
    lsim_need_goroutine(L, "DistributedMutex.Unlock");
    return lsim_etcd_ok_or_fail(L, distributed_mutex_unlock(dm, lsim_etcd_opt_ctx(L, 2)));
}

static int dm_close(lua_State *L)
{
    distributed_mutex_t *dm = lsim_checkbox(L, 1, DMUTEX_MT);
    lsim_need_goroutine(L, "DistributedMutex.Close");
    distributed_mutex_close(dm);
    return 0;
}

static int dm_is_locked(lua_State *L)
{
    lua_pushboolean(L, distributed_mutex_is_locked(lsim_checkbox(L, 1, DMUTEX_MT)));
    return 1;
}

static int dm_lock_count(lua_State *L)
{
    lua_pushinteger(L, distributed_mutex_lock_count(lsim_checkbox(L, 1, DMUTEX_MT)));
    return 1;
}

static int dm_owner(lua_State *L)
{
    distributed_mutex_t *dm = lsim_checkbox(L, 1, DMUTEX_MT);
    lsim_need_goroutine(L, "DistributedMutex.GetLockOwner");
    char out[512];
    const go_error_t *err = distributed_mutex_get_lock_owner(dm, lsim_etcd_opt_ctx(L, 2), out, sizeof out);
    if (err)
        return lsim_etcd_fail(L, err);
    lua_pushstring(L, out);
    return 1;
}

static int dm_node_id(lua_State *L)
{
    lua_pushstring(L, distributed_mutex_node_id(lsim_checkbox(L, 1, DMUTEX_MT)));
    return 1;
}

static int dm_token(lua_State *L)
{
    lua_pushinteger(L, concurrency_mutex_header_revision(distributed_mutex_inner(lsim_checkbox(L, 1, DMUTEX_MT))));
    return 1;
}

static int dm_session_done(lua_State *L)
{
    lsim_pushchan(L, concurrency_session_done(distributed_mutex_session(lsim_checkbox(L, 1, DMUTEX_MT))));
    return 1;
}

/* sim.leader_election{ client =, election_id = "/elections/my-service-leader", ttl = 10,
 *                      variant =, track = sim.leadership(...) } */
static int l_leader(lua_State *L)
{
    static const char *const keys[] = {"client", "election_id", "ttl", "variant", "track", NULL};
    lsim_opts_t o = lsim_opts(L, 1, "sim.leader_election", keys);
    etcd_client_t *c = field_client(&o);
    const char *id = lsim_opt_str(&o, "election_id", "/elections/my-service-leader");
    int64_t ttl = lsim_opt_int(&o, "ttl", 10, LUA_MININTEGER, LUA_MAXINTEGER);
    bool seed = lsim_opt_seed_variant(&o);
    checker_leadership_t *track = field_box(&o, "track", LEADERSHIP_MT, "a sim.leadership");
    lsim_need_goroutine(L, "NewLeaderElection");
    leader_election_t *le;
    const go_error_t *err = leader_election_create(c, id, ttl, seed, track, &le);
    if (err)
        return lsim_etcd_fail(L, err);
    lua_getfield(L, 1, "client");
    lsim_pushbox(L, le, LEADER_MT, -1);
    return 1;
}

static int le_campaign(lua_State *L)
{
    leader_election_t *le = lsim_checkbox(L, 1, LEADER_MT);
    lsim_need_goroutine(L, "LeaderElection.Campaign");
    return lsim_etcd_ok_or_fail(L, leader_election_campaign(le, lsim_etcd_opt_ctx(L, 2)));
}

static int le_resign(lua_State *L)
{
    leader_election_t *le = lsim_checkbox(L, 1, LEADER_MT);
    lsim_need_goroutine(L, "LeaderElection.Resign");
    return lsim_etcd_ok_or_fail(L, leader_election_resign(le, lsim_etcd_opt_ctx(L, 2)));
}

static int le_is_leader(lua_State *L)
{
    lua_pushboolean(L, leader_election_is_leader(lsim_checkbox(L, 1, LEADER_MT)));
    return 1;
}

/* le:changes(): the LeaderChanges channel; values are true or false */
static int le_changes(lua_State *L)
{
    lsim_pushchan_bool(L, leader_election_changes(lsim_checkbox(L, 1, LEADER_MT)));
    return 1;
}

static int le_watch_leader(lua_State *L)
{
    leader_election_t *le = lsim_checkbox(L, 1, LEADER_MT);
    leader_election_watch_leader(le, lsim_etcd_opt_ctx(L, 2));
    return 0;
}

static int le_close(lua_State *L)
{
    leader_election_t *le = lsim_checkbox(L, 1, LEADER_MT);
    lsim_need_goroutine(L, "LeaderElection.Close");
    leader_election_close(le);
    return 0;
}

static int le_current_leader(lua_State *L)
{
    leader_election_t *le = lsim_checkbox(L, 1, LEADER_MT);
    lsim_need_goroutine(L, "LeaderElection.GetCurrentLeader");
    char out[512];
    const go_error_t *err = leader_election_get_current_leader(le, lsim_etcd_opt_ctx(L, 2), out, sizeof out);
    if (err)
        return lsim_etcd_fail(L, err);
    lua_pushstring(L, out);
    return 1;
}

static int le_node_id(lua_State *L)
{
    lua_pushstring(L, leader_election_node_id(lsim_checkbox(L, 1, LEADER_MT)));
    return 1;
}

static int le_term(lua_State *L)
{
    lua_pushinteger(L, leader_election_term(lsim_checkbox(L, 1, LEADER_MT)));
    return 1;
}

/* sim.distributed_semaphore{ client =, path = "/semaphores/connection-limit", count = 3,
 *                            ttl = 10, fair = false, track = sim.holders{...} } */
static int l_dsem(lua_State *L)
{
    static const char *const keys[] = {"client", "path", "count", "ttl", "fair", "track", NULL};
    lsim_opts_t o = lsim_opts(L, 1, "sim.distributed_semaphore", keys);
    etcd_client_t *c = field_client(&o);
    const char *path = lsim_opt_str(&o, "path", "/semaphores/connection-limit");
    int64_t count = lsim_opt_int(&o, "count", 3, 1, 64);
    int64_t ttl = lsim_opt_int(&o, "ttl", 10, LUA_MININTEGER, LUA_MAXINTEGER);
    bool fair = lsim_opt_bool(&o, "fair", false);
    checker_holders_t *track = field_box(&o, "track", HOLDERS_MT, "a sim.holders");
    lsim_need_goroutine(L, "NewDistributedSemaphore");
    distributed_semaphore_t *ds;
    const go_error_t *err = distributed_semaphore_create(c, path, (int)count, ttl, fair, track, &ds);
    if (err)
        return lsim_etcd_fail(L, err);
    lua_getfield(L, 1, "client");
    lsim_pushbox(L, ds, DSEM_MT, -1);
    return 1;
}

static int ds_acquire(lua_State *L)
{
    distributed_semaphore_t *ds = lsim_checkbox(L, 1, DSEM_MT);
    lsim_need_goroutine(L, "DistributedSemaphore.Acquire");
    char id[512];
    const go_error_t *err = distributed_semaphore_acquire(ds, lsim_etcd_opt_ctx(L, 2), id, sizeof id);
    if (err)
        return lsim_etcd_fail(L, err);
    lua_pushstring(L, id);
    return 1;
}

/* id = sem:try_acquire(timeout [, ctx]) (TryAcquireWithTimeout) */
static int ds_try_acquire(lua_State *L)
{
    distributed_semaphore_t *ds = lsim_checkbox(L, 1, DSEM_MT);
    simtime_t timeout = lsim_checkduration(L, 2);
    lsim_need_goroutine(L, "DistributedSemaphore.TryAcquireWithTimeout");
    char id[512];
    const go_error_t *err =
        distributed_semaphore_try_acquire_with_timeout(ds, lsim_etcd_opt_ctx(L, 3), timeout, id, sizeof id);
    if (err)
        return lsim_etcd_fail(L, err);
    lua_pushstring(L, id);
    return 1;
}

static int ds_release(lua_State *L)
{
    distributed_semaphore_t *ds = lsim_checkbox(L, 1, DSEM_MT);
    const char *id = luaL_checkstring(L, 2);
    lsim_need_goroutine(L, "DistributedSemaphore.Release");
    return lsim_etcd_ok_or_fail(L, distributed_semaphore_release(ds, lsim_etcd_opt_ctx(L, 3), id));
}

static int ds_available(lua_State *L)
{
    distributed_semaphore_t *ds = lsim_checkbox(L, 1, DSEM_MT);
    lsim_need_goroutine(L, "DistributedSemaphore.GetAvailable");
    int n;
    const go_error_t *err = distributed_semaphore_get_available(ds, lsim_etcd_opt_ctx(L, 2), &n);
    if (err)
        return lsim_etcd_fail(L, err);
    lua_pushinteger(L, n);
    return 1;
}

static int ds_close(lua_State *L)
{
    distributed_semaphore_t *ds = lsim_checkbox(L, 1, DSEM_MT);
    lsim_need_goroutine(L, "DistributedSemaphore.Close");
    distributed_semaphore_close(ds);
    return 0;
}

static int ds_stats(lua_State *L)
{
    distributed_semaphore_stats_t st = distributed_semaphore_stats(lsim_checkbox(L, 1, DSEM_MT));
    lua_createtable(L, 0, 6);
    lsim_set_int(L, "acquired", (lua_Integer)st.acquired);
    lsim_set_int(L, "attempts", (lua_Integer)st.attempts);
    lsim_set_int(L, "rejected", (lua_Integer)st.rejected);
    lsim_set_int(L, "timeouts", (lua_Integer)st.timeouts);
    lsim_set_int(L, "wait_ns", st.wait_ns);
    lsim_set_int(L, "wait_max_ns", st.wait_max_ns);
    return 1;
}

/* ---- registration ------------------------------------------------------------------ */

void lsim_open_etcd_recipes(lua_State *L, int t)
{
    static const luaL_Reg session_m[] = {
        {"lease", ses_lease}, {"done", ses_done}, {"close", ses_close}, {"orphan", ses_orphan},
        {NULL, NULL},
    };
    static const luaL_Reg emutex_m[] = {
        {"lock", em_lock}, {"try_lock", em_try_lock}, {"unlock", em_unlock},
        {"key", em_key},   {"token", em_token},       {"is_owner", em_is_owner},
        {NULL, NULL},
    };
    static const luaL_Reg election_m[] = {
        {"campaign", el_campaign},   {"proclaim", el_proclaim}, {"resign", el_resign},
        {"leader", el_leader},       {"is_leader", el_is_leader}, {"term", el_term},
        {"observe", el_observe},     {NULL, NULL},
    };
    static const luaL_Reg dmutex_m[] = {
        {"lock", dm_lock},       {"unlock", dm_unlock},   {"close", dm_close},
        {"is_locked", dm_is_locked}, {"lock_count", dm_lock_count}, {"owner", dm_owner},
        {"node_id", dm_node_id}, {"token", dm_token},     {"session_done", dm_session_done},
        {NULL, NULL},
    };
    static const luaL_Reg leader_m[] = {
        {"campaign", le_campaign},   {"resign", le_resign},   {"is_leader", le_is_leader},
        {"changes", le_changes},     {"watch_leader", le_watch_leader}, {"close", le_close},
        {"current_leader", le_current_leader}, {"node_id", le_node_id}, {"term", le_term},
        {NULL, NULL},
    };
    static const luaL_Reg dsem_m[] = {
        {"acquire", ds_acquire}, {"try_acquire", ds_try_acquire}, {"release", ds_release},
        {"available", ds_available}, {"close", ds_close}, {"stats", ds_stats}, {NULL, NULL},
    };
    lsim_createmeta(L, SESSION_MT, NULL, session_m);
    lsim_createmeta(L, EMUTEX_MT, NULL, emutex_m);
    lsim_createmeta(L, ELECTION_MT, NULL, election_m);
    lsim_createmeta(L, DMUTEX_MT, NULL, dmutex_m);
    lsim_createmeta(L, LEADER_MT, NULL, leader_m);
    lsim_createmeta(L, DSEM_MT, NULL, dsem_m);
    static const luaL_Reg observe_m[] = {{"recv", ob_recv}, {"cancel", lsim_etcd_wa_cancel}, {NULL, NULL}};
    lsim_createmeta(L, OBSERVE_MT, NULL, observe_m);
    static const luaL_Reg funcs[] = {
        {"etcd_session", l_session},
        {"etcd_mutex", l_emutex},        {"etcd_election", l_election},
        {"distributed_mutex", l_dmutex}, {"leader_election", l_leader},
        {"distributed_semaphore", l_dsem},
        {NULL, NULL},
    };
    lua_pushvalue(L, t);
    luaL_setfuncs(L, funcs, 0);
    lua_pop(L, 1);
}
