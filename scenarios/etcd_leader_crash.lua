-- The seed's distributed mutex through an etcd leader crash.
--
-- The store is three etcd members (e1, e2, e3) electing a leader as etcd's
-- Raft does: heartbeats every 100ms, an election timeout drawn in
-- [1s, 2s), pre-vote, CheckQuorum. Three nodes take the seed's
-- DistributedMutex (session TTL 10s) in turn and hold it for `work` each.
-- At `crash_at` the member that leads crashes; it restarts at
-- `restart_at` as a follower.
--
-- What to watch: requests in flight to the dead leader are lost (the
-- caller gets "etcdserver: request timed out" or its context's deadline;
-- a write to a member that knows no leader waits for one, up to 7s, then
-- "context deadline exceeded", as etcd 3.4 answers):
-- node1's Unlock, sent through a follower that still forwards to the dead
-- leader, times out after 7s, and the lock is freed only when the seed's
-- Close revokes node1's session. Clients whose member is down move to the
-- next endpoint at once, and the surviving two elect a new leader (a
-- higher term) within about two election timeouts. The new leader extends every lease (etcd's lessor
-- Promote: 1s + its TTL from the moment it leads), so the holder does not
-- lose the lock to the outage, and every waiter still gets it, in order,
-- one at a time, with growing fencing tokens. --set fault=partition cuts
-- the leader off from everyone instead (from crash_at to restart_at): it
-- steps down on its own (CheckQuorum) and the others elect a leader, but a
-- member that is cut off still looks alive to its clients (clientv3 sends
-- no health checks by default), so their calls through it time out (7s)
-- before they move on: the seed's DistributedMutex gives up on the first
-- failed Lock, and some nodes never get the lock.
scenario{
  name = "etcd leader crash",
  description = "the seed's distributed mutex on a 3-member etcd whose leader crashes and comes back",
  seed = 1,
  duration = "60s",
  params = { work = "3s", crash_at = "4s", restart_at = "20s", members = 3, fault = "crash" },
}

local P = sim.params
local names, members = {}, {}
for i = 1, P.members do names[#names + 1] = "e" .. i end
for i = 1, 3 do names[#names + 1] = "node" .. i end
local c = sim.cluster{ nodes = names, latency = "2ms", jitter = "1ms" }
local nodes = {}
for i = 1, P.members do nodes[i] = c:node("e" .. i) end
local store = sim.etcd_server(P.members == 1 and nodes[1] or nodes) -- 1: a store of one
c:start()

local excl = sim.holders{ name = "/locks/job", limit = 1 }
local order, tokens, failures = {}, {}, {}
local first_leader, first_term

-- the fault: wait for a leader, crash it at crash_at, restart it later
local crashed
sim.go("fault", function()
  sim.sleep(P.crash_at)
  first_leader, first_term = store:leader()
  if not first_leader then return end
  crashed = first_leader
  local partition = P.fault == "partition"
  sim.log(string.format("%s the etcd leader %s (term %d)", partition and "cutting off" or "crashing",
    crashed, first_term))
  if partition then c:isolate(crashed) else c:node(crashed):crash() end
  sim.sleep(sim.duration(P.restart_at) - sim.duration(P.crash_at))
  if partition then
    sim.log("healing the partition")
    c:heal()
  else
    sim.log("restarting " .. crashed)
    c:node(crashed):restart()
  end
end)

local wg = sim.waitgroup()
for i = 1, 3 do
  local n = c:node("node" .. i)
  wg:add(1)
  n:go("main", function()
    -- start once the store has its first leader (elected 1s to 2s after boot)
    while not store:leader() do sim.sleep("100ms") end
    sim.sleep(i * sim.duration("10ms"))
    local cli = store:client(n)
    local dm, err = sim.distributed_mutex{ client = cli, lock_path = "/locks/job" }
    if not dm then failures[#failures + 1] = n:name() .. ": " .. err wg:done() return end
    local ctx, cancel = sim.context.with_timeout(sim.context.background(), "40s")
    local ok, lerr = dm:lock(ctx)
    if not ok then
      failures[#failures + 1] = n:name() .. " lock: " .. lerr
      sim.log("Failed to acquire lock: " .. lerr)
    else
      excl:enter(n:name())
      order[#order + 1] = n:name()
      tokens[#tokens + 1] = dm:token()
      sim.log(string.format("holds the lock (token %d)", dm:token()))
      sim.sleep(P.work)
      excl:leave(n:name())
      local uok, uerr = dm:unlock(ctx)
      if uok then sim.log("released the lock") else
        failures[#failures + 1] = n:name() .. " unlock: " .. uerr
        sim.log("Failed to release lock: " .. uerr)
      end
    end
    cancel()
    dm:close()
    wg:done()
  end)
end
wg:wait()
sim.sleep(sim.duration(P.restart_at) + sim.duration("3s") - sim.now()) -- the old leader back, and settled

local leader, term = store:leader()
print("lock order: " .. table.concat(order, ", "))
print(string.format("etcd leader: %s then %s (term %s then %s)", tostring(first_leader), tostring(leader),
  tostring(first_term), tostring(term)))
for _, f in ipairs(failures) do print("failure: " .. f) end
local increasing = #tokens == 3
for i = 2, #tokens do increasing = increasing and tokens[i] > tokens[i - 1] end
if P.fault == "partition" then
  sim.expect(#failures > 0, "calls through the cut-off member time out")
else
  sim.expect(#order == 3, "every node got the lock through the leader crash")
  sim.expect(increasing, "fencing tokens increase from holder to holder")
end
sim.expect(#excl:violations() == 0, "one holder at a time")
sim.expect(leader ~= nil and leader ~= crashed and term ~= nil and first_term ~= nil and term > first_term,
  "a surviving member leads in a higher term")
