-- etcd_api.lua: the etcd client's Lua calls with exact revisions and times
-- (registered in tests/CMakeLists.txt: the run must pass every expectation).
--
-- One store, two client nodes, 1ms links without jitter, so every reply
-- comes 2ms after its request: cli:txn (compares, both branches, one
-- revision per transaction), cli:watch (from a revision: the history in one
-- response, then a response per revision, a transaction's writes together), cli:time_to_live, e:observe and
-- a write guarded by m:is_owner().
scenario{
  name = "etcd_api",
  description = "txn, watch, time_to_live, observe and an owner-guarded write from Lua",
  duration = "60s",
}

local c = sim.cluster{ nodes = { "etcd", "n1", "n2" }, latency = "1ms" }
local store = sim.etcd_server(c:node("etcd"))
c:start()
local cli = store:client(c:node("n1"))
local cli2 = store:client(c:node("n2"))

-- txn: create-if-absent, once; the second one runs the failure branch
local create = {
  compare = { { key = "/cfg", target = "create", op = "=", value = 0 } },
  success = { { put = "/cfg", value = "v1" }, { put = "/cfg.owner", value = "n1" } },
  failure = { { get = "/cfg" } },
}
local r = assert(cli:txn(create))
sim.expect(r.succeeded and r.revision == 2 and #r.responses == 2 and r.responses[1].type == "put",
  "a transaction's writes share one revision (2)")
sim.expect(sim.now() == sim.duration("2ms"), "a txn is one round trip")
local r2 = assert(cli:txn(create))
sim.expect(not r2.succeeded and r2.revision == 2 and r2.responses[1].type == "get"
  and r2.responses[1].kvs[1].value == "v1" and r2.responses[1].kvs[1].create_rev == 2,
  "the failure branch reads; no write, no new revision")
local r3 = assert(cli:txn{
  compare = { { key = "/cfg", target = "value", op = "=", value = "v1" },
              { key = "/cfg", target = "version", op = "<", value = 5 } },
  success = { { put = "/cfg", value = "v2" }, { delete = "/cfg.", prefix = true } },
})
sim.expect(r3.succeeded and r3.revision == 3 and r3.responses[2].deleted == 1,
  "value and version compares; a put and a prefix delete in revision 3")
local nr, err = cli:txn{ success = { { put = "/a", value = "1" }, { put = "/a", value = "2" } } }
sim.expect(nr == nil and err == "etcdserver: duplicate key given in txn request",
  "a branch that writes one key twice is refused")

-- watch from a past revision: the history in one response stamped with the
-- store's revision (etcd's header.revision), in revision order, each once
local w = cli2:watch("/", { prefix = true, rev = 2 })
local first = w:recv()
local names = {}
for _, ev in ipairs(first.events) do names[#names + 1] = ev.kv.mod_rev .. " " .. ev.type .. " " .. ev.kv.key end
sim.expect(first.revision == 3 and table.concat(names, ", ") ==
  "2 put /cfg, 2 put /cfg.owner, 3 put /cfg, 3 delete /cfg.owner",
  "a watch from revision 2 replays revisions 2 and 3 in one response stamped 3, in order")
sim.go("writer", function()
  sim.sleep("10ms")
  cli:put("/x", "1")
  cli:txn{ success = { { put = "/y", value = "1" }, { put = "/z", value = "1" } } }
end)
local a, b = w:recv(), w:recv()
sim.expect(a.revision == 4 and #a.events == 1 and b.revision == 5 and #b.events == 2,
  "live events: revision 4 (one put), then 5 (the txn's two puts together)")
w:cancel()
sim.expect(w:recv() == nil, "a cancelled watch is closed")

-- lease TimeToLive: whole seconds left, rounded down; -1 once gone
local t0 = sim.now()
local lease = assert(cli:grant(10))
cli:put("/leased", "x", lease)
sim.sleep("2500ms")
local ttl, granted, nkeys = cli:time_to_live(lease)
sim.expect(ttl == 7 and granted == 10 and nkeys == 1,
  "TimeToLive 2.5s after the grant: 7s left of 10, one key")
cli:revoke(lease)
sim.expect(cli:time_to_live(lease) == -1, "a revoked lease: TTL -1, no error")
sim.expect(sim.now() - t0 == sim.duration("2510ms"), "grant, put, 2.5s, ttl, revoke, ttl: 2.51s")

-- election Observe: the leader, its new values, the next leader
local s1 = assert(sim.etcd_session(cli, { ttl = 10 }))
local s2 = assert(sim.etcd_session(cli2, { ttl = 10 }))
local e1 = sim.etcd_election(s1, "/el")
local e2 = sim.etcd_election(s2, "/el")
local o = e2:observe()
local seen = {}
local done = sim.chan(0)
sim.go("observer", function()
  for _ = 1, 3 do
    local ev = o:recv()
    seen[#seen + 1] = ev.value
  end
  o:cancel()
  done:send(true)
end)
assert(e1:campaign("n1"))
sim.go("n2 campaign", function() assert(e2:campaign("n2")) end)
sim.sleep("100ms")
assert(e1:proclaim("n1 again"))
sim.sleep("100ms")
assert(e1:resign())
done:recv()
sim.expect(seen[1] == "n1" and seen[2] == "n1 again" and seen[3] == "n2",
  "Observe: n1, then its proclaimed value, then n2 after n1 resigns")

-- an owner-guarded write: Txn(If(IsOwner()).Then(Put)) fails once the
-- lock key is gone (here its session's lease revoked from elsewhere)
local s3 = assert(sim.etcd_session(cli, { ttl = 10 }))
local m = sim.etcd_mutex(s3, "/locks/res")
assert(m:lock())
local own = m:is_owner()
sim.expect(own.key == m:key() and own.target == "create" and own.op == "=",
  "is_owner() is the compare CreateRevision(key) = the key's revision")
local ok1 = assert(cli:txn{ compare = { m:is_owner() }, success = { { put = "/res", value = "a" } } })
assert(cli2:revoke(s3:lease()))
local ok2 = assert(cli:txn{ compare = { m:is_owner() }, success = { { put = "/res", value = "late" } } })
local kvs = cli:get("/res")
sim.expect(ok1.succeeded and not ok2.succeeded and kvs[1].value == "a",
  "the guarded write succeeds while the key is held, and is refused after")
