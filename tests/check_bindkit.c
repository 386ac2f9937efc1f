/*
 * check_bindkit: the bindings' toolkit (scripts/bindings/lsim_kit.h) on a
 * real lua_State: option tables (unknown keys in a stable order, type and
 * range errors, defaults, one message shape with the caller's file:line),
 * metatables, `nil, err`, Lua errors as Go errors, and the C-to-Lua funnel
 * refusing a thread that no goroutine runs.
 *
 * The states here have no host, so a scenario error is raised as a Lua
 * error carrying the same "file:line: message" the host prints before it
 * exits with status 3 (tests/broken/option_*.lua check that end to end).
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include <check.h>
#include <lauxlib.h>
#include <lualib.h>

#include "goerr.h"
#include "sched.h"
#include "lsim_kit.h"

/* ---- a binding written with the kit -------------------------------------- */

static const char *const t_keys[] = {"workers", "ratio", "timeout", "verbose", "name", "mode", "on_done", NULL};

/* t{...}: read every option; return them as workers, ratio, timeout,
 * verbose, name, mode index, whether on_done was given. */
static int l_t(lua_State *L)
{
    static const char *const modes[] = {"fast", "safe", "seed", NULL};
    lsim_opts_t o = lsim_opts_opt(L, 1, "sim.t", t_keys);
    lua_Integer workers = lsim_opt_int(&o, "workers", 4, 1, 10);
    lua_Number ratio = lsim_opt_num(&o, "ratio", 0.5, 0, 1);
    simtime_t timeout = lsim_opt_dur(&o, "timeout", 250 * SIM_MS, SIM_MS, 10 * SIM_SEC);
    bool verbose = lsim_opt_bool(&o, "verbose", true);
    const char *name = lsim_opt_str(&o, "name", "t");
    int mode = lsim_opt_enum(&o, "mode", modes, 1);
    int ref = lsim_opt_func(&o, "on_done");
    if (ref != LUA_NOREF)
        luaL_unref(L, LUA_REGISTRYINDEX, ref);
    lua_pushinteger(L, workers);
    lua_pushnumber(L, ratio);
    lua_pushinteger(L, timeout);
    lua_pushboolean(L, verbose);
    lua_pushstring(L, name);
    lua_pushinteger(L, mode);
    lua_pushboolean(L, ref != LUA_NOREF);
    return 7;
}

/* req{...}: a required table. */
static int l_req(lua_State *L)
{
    static const char *const keys[] = {"a", NULL};
    lsim_opts_t o = lsim_opts(L, 1, "sim.req", keys);
    lua_pushinteger(L, lsim_opt_int(&o, "a", 7, 0, LUA_MAXINTEGER));
    return 1;
}

/* bad{}: reads a key it did not declare (a binding's bug). */
static int l_bad(lua_State *L)
{
    static const char *const keys[] = {"a", NULL};
    lsim_opts_t o = lsim_opts_opt(L, 1, "sim.bad", keys);
    lsim_opt_int(&o, "b", 0, 0, 1);
    return 0;
}

static int l_errpair(lua_State *L)
{
    return lsim_push_error(L, lua_toboolean(L, 1) ? &GO_ERR_CANCELED : go_errorf("boom %d", 42));
}

static int l_callback(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TFUNCTION);
    lua_pushvalue(L, 1);
    lsim_pcall(L, 0, 0); /* no goroutine runs L: a bug, which aborts */
    return 0;
}

static int m_get(lua_State *L)
{
    lua_pushinteger(L, *(int *)luaL_checkudata(L, 1, "test.box"));
    return 1;
}

static int m_tostring(lua_State *L)
{
    lua_pushfstring(L, "box(%d)", *(int *)luaL_checkudata(L, 1, "test.box"));
    return 1;
}

static int l_box(lua_State *L)
{
    *(int *)lsim_newudata(L, sizeof(int), "test.box", 0) = (int)luaL_checkinteger(L, 1);
    return 1;
}

static lua_State *new_state(void)
{
    lua_State *L = luaL_newstate();
    ck_assert_ptr_nonnull(L);
    *(void **)lua_getextraspace(L) = NULL; /* no goroutine runs this state */
    luaL_openlibs(L);
    static const luaL_Reg fns[] = {
        {"t", l_t}, {"req", l_req}, {"bad", l_bad}, {"errpair", l_errpair},
        {"callback", l_callback}, {"box", l_box}, {NULL, NULL},
    };
    lua_newtable(L);
    luaL_setfuncs(L, fns, 0);
    lua_setglobal(L, "sim");
    static const luaL_Reg meta[] = {{"__tostring", m_tostring}, {NULL, NULL}};
    static const luaL_Reg methods[] = {{"get", m_get}, {NULL, NULL}};
    lsim_createmeta(L, "test.box", meta, methods);
    return L;
}

/* Run code as the chunk "scenario.lua"; returns the error message or NULL
 * (copied into buf). */
static const char *run(lua_State *L, const char *code, char *buf, size_t size)
{
    if (luaL_loadbuffer(L, code, strlen(code), "=scenario.lua") != LUA_OK)
        ck_abort_msg("does not load: %s", lua_tostring(L, -1));
    if (lua_pcall(L, 0, LUA_MULTRET, 0) == LUA_OK)
        return NULL;
    snprintf(buf, size, "%s", lua_tostring(L, -1));
    lua_pop(L, 1);
    return buf;
}

static void expect_error(const char *code, const char *want)
{
    lua_State *L = new_state();
    char buf[1024];
    const char *err = run(L, code, buf, sizeof buf);
    ck_assert_msg(err != NULL, "no error from: %s", code);
    ck_assert_str_eq(err, want);
    lua_close(L);
}

/* ---- unknown keys --------------------------------------------------------- */

START_TEST(test_unknown_key_one)
{
    expect_error("sim.t{ workers = 2, wrokers = 3 }",
                 "scenario.lua:1: sim.t: unknown option \"wrokers\" (known: workers, ratio, timeout, "
                 "verbose, name, mode, on_done)");
}
END_TEST

/* Every unknown key, sorted, whatever the table's hash order: many fresh
 * states (each with its own hash seed) and insertion orders give one text. */
START_TEST(test_unknown_keys_stable)
{
    static const char *const orders[] = {
        "local o = {} o.zeta = 1 o.alpha = 2 o.mid = 3 o.Beta = 4 o.workers = 1 return sim.t(o)",
        "local o = {} o.workers = 1 o.Beta = 4 o.mid = 3 o.alpha = 2 o.zeta = 1 return sim.t(o)",
        "return sim.t{ mid = 3, zeta = 1, workers = 1, alpha = 2, Beta = 4 }",
        "local o = {} for i = 1, 40 do o['pad' .. i] = i end for i = 1, 40 do o['pad' .. i] = nil end "
        "o.alpha = 2 o.Beta = 4 o.zeta = 1 o.mid = 3 return sim.t(o)",
    };
    const char *want = "scenario.lua:1: sim.t: unknown options \"Beta\", \"alpha\", \"mid\", \"zeta\" "
                       "(known: workers, ratio, timeout, verbose, name, mode, on_done)";
    for (int round = 0; round < 25; round++) {
        for (size_t i = 0; i < sizeof orders / sizeof orders[0]; i++) {
            lua_State *L = new_state();
            char buf[1024];
            const char *err = run(L, orders[i], buf, sizeof buf);
            ck_assert_msg(err != NULL, "no error from: %s", orders[i]);
            ck_assert_str_eq(err, want);
            lua_close(L);
        }
    }
}
END_TEST

START_TEST(test_unknown_nonstring_key)
{
    expect_error("sim.t{ 10, workers = 2 }",
                 "scenario.lua:1: sim.t: unknown option 1 (known: workers, ratio, timeout, verbose, name, "
                 "mode, on_done)");
}
END_TEST

/* ---- types, ranges and defaults ------------------------------------------ */

START_TEST(test_type_errors)
{
    expect_error("sim.t{ workers = \"3\" }",
                 "scenario.lua:1: sim.t: workers must be an integer from 1 to 10 (got \"3\")");
    expect_error("sim.t{ workers = 2.5 }",
                 "scenario.lua:1: sim.t: workers must be an integer from 1 to 10 (got 2.5)");
    expect_error("sim.t{ workers = 11 }",
                 "scenario.lua:1: sim.t: workers must be an integer from 1 to 10 (got 11)");
    expect_error("sim.t{ ratio = 2 }", "scenario.lua:1: sim.t: ratio must be a number from 0 to 1 (got 2)");
    expect_error("sim.t{ ratio = true }", "scenario.lua:1: sim.t: ratio must be a number from 0 to 1 (got true)");
    expect_error("sim.t{ timeout = \"3 parsecs\" }",
                 "scenario.lua:1: sim.t: timeout must be a duration such as \"250ms\" or integer nanoseconds "
                 "(got \"3 parsecs\")");
    expect_error("sim.t{ timeout = \"1h\" }", "scenario.lua:1: sim.t: timeout must be from 1ms to 10s (got \"1h\")");
    expect_error("sim.t{ verbose = 1 }", "scenario.lua:1: sim.t: verbose must be true or false (got 1)");
    expect_error("sim.t{ name = {} }", "scenario.lua:1: sim.t: name must be a string (got table: #1)");
    expect_error("sim.t{ mode = \"quick\" }",
                 "scenario.lua:1: sim.t: mode must be \"fast\", \"safe\" or \"seed\" (got \"quick\")");
    expect_error("sim.t{ on_done = \"later\" }", "scenario.lua:1: sim.t: on_done must be a function (got \"later\")");
}
END_TEST

START_TEST(test_defaults_and_values)
{
    lua_State *L = new_state();
    char buf[512];
    ck_assert_ptr_null(run(L, "return sim.t()", buf, sizeof buf));
    ck_assert_int_eq(lua_gettop(L), 7);
    ck_assert_int_eq(lua_tointeger(L, 1), 4);
    ck_assert(lua_tonumber(L, 2) == 0.5);
    ck_assert_int_eq(lua_tointeger(L, 3), 250 * SIM_MS);
    ck_assert(lua_toboolean(L, 4));
    ck_assert_str_eq(lua_tostring(L, 5), "t");
    ck_assert_int_eq(lua_tointeger(L, 6), 1);
    ck_assert(!lua_toboolean(L, 7));
    lua_settop(L, 0);
    ck_assert_ptr_null(run(L, "return sim.t{ workers = 10, ratio = 1, timeout = \"1.5s\", verbose = false, "
                              "name = \"x\", mode = \"seed\", on_done = print }", buf, sizeof buf));
    ck_assert_int_eq(lua_tointeger(L, 1), 10);
    ck_assert(lua_tonumber(L, 2) == 1);
    ck_assert_int_eq(lua_tointeger(L, 3), 1500 * SIM_MS);
    ck_assert(!lua_toboolean(L, 4));
    ck_assert_str_eq(lua_tostring(L, 5), "x");
    ck_assert_int_eq(lua_tointeger(L, 6), 2);
    ck_assert(lua_toboolean(L, 7));
    lua_settop(L, 0);
    /* An integral float is an integer; integer nanoseconds are a duration. */
    ck_assert_ptr_null(run(L, "return sim.t{ workers = 3.0, timeout = 2000000 }", buf, sizeof buf));
    ck_assert_int_eq(lua_tointeger(L, 1), 3);
    ck_assert_int_eq(lua_tointeger(L, 3), 2 * SIM_MS);
    lua_settop(L, 0);
    ck_assert_ptr_null(run(L, "return sim.req{}", buf, sizeof buf));
    ck_assert_int_eq(lua_tointeger(L, 1), 7);
    lua_close(L);
}
END_TEST

/* The message points at the scenario's line of the call, also from inside
 * a function and a coroutine. */
START_TEST(test_message_format)
{
    expect_error("local x = 1\n\nsim.req(5)\n", "scenario.lua:3: sim.req: options must be a table (got 5)");
    expect_error("sim.req()", "scenario.lua:1: sim.req: options must be a table (got nothing)");
    expect_error("local function f()\n  return sim.req{ b = 1 }\nend\nf()\n",
                 "scenario.lua:2: sim.req: unknown option \"b\" (known: a)");
    expect_error("local co = coroutine.create(function()\n\n  sim.t{ workers = 0 }\nend)\n"
                 "local ok, err = coroutine.resume(co)\nerror(err, 0)\n",
                 "scenario.lua:3: sim.t: workers must be an integer from 1 to 10 (got 0)");
}
END_TEST

START_TEST(test_undeclared_key_aborts)
{
    lua_State *L = new_state();
    char buf[256];
    run(L, "sim.bad{}", buf, sizeof buf); /* aborts */
    lua_close(L);
}
END_TEST

/* ---- metatables, errors, the funnel -------------------------------------- */

START_TEST(test_createmeta)
{
    lua_State *L = new_state();
    char buf[256];
    ck_assert_ptr_null(run(L, "local b = sim.box(7) return b:get(), tostring(b)", buf, sizeof buf));
    ck_assert_int_eq(lua_tointeger(L, 1), 7);
    ck_assert_str_eq(lua_tostring(L, 2), "box(7)");
    lua_close(L);
}
END_TEST

/* Go errors are made by the running scheduler: these run as its main. */
static void errors_main(void *arg)
{
    (void)arg;
    lua_State *L = new_state();
    char buf[256];
    ck_assert_ptr_null(run(L, "return sim.errpair(false)", buf, sizeof buf));
    ck_assert_int_eq(lua_gettop(L), 2);
    ck_assert(lua_isnil(L, 1));
    ck_assert_str_eq(lua_tostring(L, 2), "boom 42");
    lua_settop(L, 0);
    ck_assert_ptr_null(run(L, "return sim.errpair(true)", buf, sizeof buf));
    ck_assert_str_eq(lua_tostring(L, 2), "context canceled");
    lua_settop(L, 0);
    ck_assert_ptr_eq(lsim_go_error("context canceled"), &GO_ERR_CANCELED);
    ck_assert_ptr_eq(lsim_go_error("context deadline exceeded"), &GO_ERR_DEADLINE_EXCEEDED);
    ck_assert_str_eq(go_error_msg(lsim_go_error("disk full")), "disk full");
    lua_pushinteger(L, 5);
    ck_assert_str_eq(go_error_msg(lsim_to_go_error(L, -1)), "5");
    ck_assert_int_eq(lua_gettop(L), 1); /* the value stays; nothing else is left */
    lua_close(L);
}

START_TEST(test_errors)
{
    sched_config_t c = sched_config_default();
    sched_t *s = sched_create(&c);
    ck_assert_int_eq(sched_run(s, errors_main, NULL), SCHED_DONE);
    sched_destroy(s);
}
END_TEST

/* The funnel calls a Lua function on the running goroutine's own thread
 * (the host marks the thread with the goroutine's record); an error stays
 * a status and a value on that thread. */
static void funnel_main(void *arg)
{
    (void)arg;
    static int record;
    lua_State *L = new_state();
    go_set_userdata(go_self(), &record);
    *(void **)lua_getextraspace(L) = &record;
    luaL_loadstring(L, "local x = ... return x * 2");
    lua_pushinteger(L, 21);
    ck_assert_int_eq(lsim_pcall(L, 1, 1), LUA_OK);
    ck_assert_int_eq(lua_tointeger(L, -1), 42);
    lua_pop(L, 1);
    luaL_loadstring(L, "error('no', 0)");
    ck_assert_int_eq(lsim_pcall(L, 0, 0), LUA_ERRRUN);
    ck_assert_str_eq(lua_tostring(L, -1), "no");
    lua_pop(L, 1);
    ck_assert_int_eq(lua_gettop(L), 0);
    go_set_userdata(go_self(), NULL);
    lua_close(L);
}

START_TEST(test_pcall_on_goroutine)
{
    sched_config_t c = sched_config_default();
    sched_t *s = sched_create(&c);
    ck_assert_int_eq(sched_run(s, funnel_main, NULL), SCHED_DONE);
    sched_destroy(s);
}
END_TEST

START_TEST(test_pcall_off_goroutine_aborts)
{
    lua_State *L = new_state();
    char buf[256];
    run(L, "sim.callback(function() end)", buf, sizeof buf); /* aborts */
    lua_close(L);
}
END_TEST

static Suite *bindkit_suite(void)
{
    Suite *s = suite_create("bindkit");
    TCase *tc = tcase_create("options");
    tcase_add_test(tc, test_unknown_key_one);
    tcase_add_test(tc, test_unknown_keys_stable);
    tcase_add_test(tc, test_unknown_nonstring_key);
    tcase_add_test(tc, test_type_errors);
    tcase_add_test(tc, test_defaults_and_values);
    tcase_add_test(tc, test_message_format);
    tcase_add_test_raise_signal(tc, test_undeclared_key_aborts, SIGABRT);
    suite_add_tcase(s, tc);
    tc = tcase_create("toolkit");
    tcase_add_test(tc, test_createmeta);
    tcase_add_test(tc, test_errors);
    tcase_add_test(tc, test_pcall_on_goroutine);
    tcase_add_test_raise_signal(tc, test_pcall_off_goroutine_aborts, SIGABRT);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(bindkit_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
