-- Lock handoff when the holder crashes.
--
-- node1 takes the lock (etcd's concurrency.Mutex, session TTL 6s) and
-- crashes at 2s while holding it: no Unlock, no Revoke. Its lease is no
-- longer kept alive, so the store expires it at the first 500ms check
-- after its deadline (the last keep-alive + TTL), deletes the lock key with
-- it, and node2, waiting in Lock, gets the lock.
--
-- What to watch: the lock comes back no earlier than two thirds of the TTL
-- less 500ms after the crash (clientv3 3.4/3.5 checks every 500ms and renews
-- once TTL/3 has passed since the last reply, so the lease had at least
-- 2/3 TTL - 500ms left) and no later than the TTL plus one expiry period; the fence
-- token grows; node1 restarts at 4s as a new incarnation and queues behind
-- node2.
scenario{
  name = "lock handoff on crash",
  description = "the holder crashes; the lock is acquired again once its lease expires",
  seed = 1,
  duration = "30s",
  params = { ttl = 6, crash_at = "2s", restart_at = "4s" },
}

local c = sim.cluster{ nodes = { "etcd", "node1", "node2" }, latency = "2ms", jitter = "1ms" }
local store = sim.etcd_server(c:node("etcd"))
local excl = sim.holders{ name = "/locks/job", limit = 1 }
local got = {}

local function contender(n, delay)
  n:on_boot(function(self)
    sim.sleep(delay)
    local cli = store:client(self)
    local s = assert(sim.etcd_session(cli, { ttl = sim.params.ttl }))
    local m = sim.etcd_mutex(s, "/locks/job")
    assert(m:lock())
    local who = self:name() .. "#" .. self:incarnation()
    got[#got + 1] = { who = who, t = sim.now(), token = m:token() }
    sim.log(string.format("%s holds the lock, token %d", who, m:token()))
    excl:enter(who)
    sim.sleep("3s")
    excl:leave(who)
    m:unlock()
    sim.log(who .. " released the lock")
  end)
end

contender(c:node("node1"), 0)
contender(c:node("node2"), sim.duration("100ms"))
c:start()
local crash_at = sim.duration(sim.params.crash_at)
sim.at(crash_at, function()
  c:node("node1"):crash()
  excl:leave("node1#0") -- a crashed process holds nothing any more
end)
sim.at(sim.params.restart_at, function() c:node("node1"):restart() end)

sim.finally(function()
  for _, g in ipairs(got) do
    print(string.format("%-8s got the lock at %s (token %d)", g.who, sim.format_duration(g.t), g.token))
  end
  local ttl = sim.params.ttl * 1000000000
  sim.expect(#got == 3 and got[1].who == "node1#0" and got[2].who == "node2#0" and got[3].who == "node1#1",
    "node1, then node2 after the crash, then node1's new incarnation")
  local second = got[2]
  local after = second and second.t - crash_at
  sim.expect(after ~= nil and after >= ttl * 2 // 3 - 500000000 and after <= ttl + 500000000,
    "the lock came back between 2/3 TTL - 500ms and TTL + 500ms after the crash")
  local grow = #got >= 2
  for i = 2, #got do grow = grow and got[i].token > got[i - 1].token end
  sim.expect(grow, "fence tokens grow")
  sim.expect(#excl:violations() == 0, "one holder at a time")
end)

-- The cluster lives on after main's body: wait for the world until the
-- scenario's duration (main returning would end the run at once, as in Go).
sim.run()
