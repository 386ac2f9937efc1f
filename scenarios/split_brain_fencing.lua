-- Split brain by a paused holder, with and without fencing tokens.
--
-- node1 takes the lock (etcd's concurrency.Mutex, session TTL 3s) and
-- writes to a shared resource once a second. At 2s it freezes for 10s (a
-- stop-the-world GC pause, a SIGSTOP, a VM migration): its keep-alives
-- stop, its lease expires, and node2, waiting in Lock, gets the lock and
-- writes. At 12s node1 wakes up in the middle of its loop, still believing
-- it holds the lock, and writes again (etcd issues 11456 and 11457;
-- Kleppmann's "How to do distributed locking").
--
-- What to watch: without fencing (--set fencing=false) the resource
-- accepts node1's stale write after node2's: two writers, a violation
-- reported with the moment it happened. With fencing, each write carries
-- the lock's revision (m:token()); the resource refuses a token lower than
-- one it has seen, and node1's late write is rejected. The other fix
-- (--set fencing=false --set owner_guard=true): the resource lives in the
-- store, and each write is a transaction guarded by the lock,
-- Txn(If(IsOwner()).Then(Put)) (m:is_owner()); node1's lock key went with
-- its lease, so the store refuses its late write.
scenario{
  name = "split brain: a paused lock holder",
  description = "a holder paused past its lease writes after the new holder; fencing tokens stop it",
  seed = 1,
  duration = "30s",
  params = { fencing = true, owner_guard = false, ttl = 3, pause_at = "2s", pause_for = "10s" },
}

local c = sim.cluster{ nodes = { "etcd", "node1", "node2" }, latency = "2ms", jitter = "1ms" }
local store = sim.etcd_server(c:node("etcd"))
c:start()
local res = sim.fenced_resource{ name = "storage", fencing = sim.params.fencing }
local outcomes = {}

local function holder(n, writes, delay)
  n:go("main", function()
    sim.sleep(delay)
    local cli = store:client(n)
    local s, serr = sim.etcd_session(cli, { ttl = sim.params.ttl })
    if not s then sim.log("no session: " .. serr) return end
    local m = sim.etcd_mutex(s, "/locks/storage")
    local locked, lerr = m:lock()
    if not locked then sim.log("no lock: " .. lerr) return end
    local token = m:token()
    sim.log(string.format("holds the lock with token %d", token))
    for i = 1, writes do
      local ok, err
      if sim.params.owner_guard then
        -- the write itself, in the store, only while the lock key is ours
        local r = assert(cli:txn{ compare = { m:is_owner() },
                                  success = { { put = "/storage", value = n:name() .. " " .. i } } })
        if r.succeeded then
          ok, err = res:write(n:name(), token) -- the checker sees what the store took
        else
          ok, err = false, "refused by the store: not the lock's owner"
        end
      else
        ok, err = res:write(n:name(), token)
      end
      outcomes[#outcomes + 1] = string.format("%s write %d: %s", n:name(), i, ok and "accepted" or err)
      sim.log(outcomes[#outcomes])
      sim.sleep("1s")
    end
    m:unlock()
  end)
end

holder(c:node("node1"), 15, 0)
holder(c:node("node2"), 5, sim.duration("100ms"))
sim.at(sim.params.pause_at, function() c:node("node1"):pause() end)
sim.at(sim.duration(sim.params.pause_at) + sim.duration(sim.params.pause_for), function()
  c:node("node1"):resume()
end)

sim.finally(function()
  local st = res:stats()
  print(string.format("resource: %d writes accepted, %d rejected, highest token %d",
    st.accepted, st.rejected, st.max_token))
  if sim.params.owner_guard then
    local refused = 0
    for _, o in ipairs(outcomes) do
      if o:find("refused by the store", 1, true) then refused = refused + 1 end
    end
    sim.expect(refused > 0, "the store refuses the paused holder's guarded writes")
    sim.expect(#res:violations() == 0, "the resource never saw a stale write")
  elseif sim.params.fencing then
    sim.expect(st.rejected > 0, "fencing rejects the paused holder's stale writes")
    sim.expect(#res:violations() == 0, "the resource never saw a stale write")
  else
    sim.expect(#res:violations() > 0, "without fencing the resource accepts a stale write")
  end
end)

-- The cluster lives on after main's body: wait for the world until the
-- scenario's duration (main returning would end the run at once, as in Go).
sim.run()
