-- The store's node crashes.
--
-- Three clients write counters to the etcd-like store every 100ms and
-- record each write the store acknowledged; a lock holder keeps a lease
-- (session TTL 5s) alive. At 3s the store's node crashes; it restarts at
-- 6s.
--
-- What to watch: requests in flight at the crash, and every request sent
-- while the store is down, fail with "etcdserver: request timed out" after
-- the client's 7s request timeout; the store persists what it acknowledged
-- (etcd writes to disk before answering), so after the restart every
-- acknowledged write reads back (the checker: no acknowledged write lost);
-- the restart extends every lease by its TTL plus one second (etcd's
-- Promote), so the lock holder's lease survives an outage longer than its
-- TTL and nobody else gets the lock.
scenario{
  name = "the store crashes",
  description = "etcd's node crashes and restarts: timeouts, no acknowledged write lost, leases extended",
  seed = 1,
  duration = "40s",
  params = { crash_at = "3s", restart_at = "6s", writers = 3 },
}

local names = { "etcd", "locker" }
for i = 1, sim.params.writers do names[#names + 1] = "client" .. i end
local c = sim.cluster{ nodes = names, latency = "2ms", jitter = "1ms" }
local store = sim.etcd_server(c:node("etcd"))
c:start()
local acked = sim.acked_writes("counters")
local timeouts, written = 0, 0

for i = 1, sim.params.writers do
  local n = c:node("client" .. i)
  n:go("writer", function()
    local cli = store:client(n)
    local key = "/counters/" .. n:name()
    for v = 1, 60 do
      local rev, err = cli:put(key, tostring(v))
      if rev then
        acked:ack(key, rev)
        written = written + 1
      else
        timeouts = timeouts + 1
        if timeouts == 1 then sim.log("put failed: " .. err) end
      end
      sim.sleep("100ms")
    end
    -- read everything back
    local kvs, gerr = cli:get(key)
    if not kvs then sim.log("read back failed: " .. gerr) return end
    acked:observe(key, kvs[1] and kvs[1].mod_rev or 0)
    sim.log(string.format("%s reads back %s", key, kvs[1] and kvs[1].value or "nothing"))
  end)
end

local held_through = false
c:node("locker"):go("main", function()
  local n = c:node("locker")
  local cli = store:client(n)
  local s, serr = sim.etcd_session(cli, { ttl = 5 })
  if not s then sim.log("no session: " .. serr) return end
  local m = sim.etcd_mutex(s, "/locks/outage")
  local locked, lerr = m:lock()
  if not locked then sim.log("no lock: " .. lerr) return end
  sim.log("holds the lock through the outage")
  sim.sleep("15s")
  local ok, err = m:unlock()
  held_through = ok ~= nil
  sim.log("unlock: " .. (ok and "ok" or err))
end)

sim.at(sim.params.crash_at, function() c:node("etcd"):crash() end)
sim.at(sim.params.restart_at, function() c:node("etcd"):restart() end)

sim.finally(function()
  print(string.format("%d writes acknowledged, %d timed out", written, timeouts))
  sim.expect(timeouts > 0, "requests during the outage time out")
  sim.expect(#acked:violations() == 0, "no acknowledged write is lost")
  sim.expect(held_through, "the lease survived the outage: the lock was still held at 15s")
end)

-- The cluster lives on after main's body: wait for the world until the
-- scenario's duration (main returning would end the run at once, as in Go).
sim.run()
