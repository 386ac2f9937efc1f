-- Distributed mutex: the seed's DistributedMutex over etcd's
-- concurrency.Mutex, first the seed's own demo (one node locks, works 5s
-- in the critical section, unlocks), then three nodes contending.
--
-- What to watch: lock order is create-revision order (the order the
-- nodes' Lock transactions reached the store), one holder at a time, each
-- holder's fencing token (the store's revision when it got the lock)
-- higher than the last. GetLockOwner is the seed's bug on show: it reads
-- the prefix sorted by key and returns the first key's value, which
-- concurrency.Mutex leaves empty: the seed's version never names the
-- owner. The corrected one returns the holder's key.
scenario{
  name = "distributed mutex",
  description = "the seed's DistributedMutex on etcd: its demo, then three nodes contending",
  seed = 1,
  duration = "60s",
  params = { variant = "corrected", work = "5s", contenders = 3 },
}

local names = { "etcd" }
local unlock_failed = 0
for i = 1, sim.params.contenders do names[#names + 1] = "node" .. i end
local c = sim.cluster{ nodes = names, latency = "2ms", jitter = "1ms" }
local store = sim.etcd_server(c:node("etcd"))
c:start()

local excl = sim.holders{ name = "/locks/my-critical-section", limit = 1 }
local order, tokens = {}, {}

local wg = sim.waitgroup()
for i = 1, sim.params.contenders do
  local n = c:node("node" .. i)
  wg:add(1)
  n:go("main", function()
    local cli = store:client(n)
    local dm, err = sim.distributed_mutex{ client = cli, lock_path = "/locks/my-critical-section",
                                           variant = sim.params.variant }
    assert(dm, err)
    local ctx, cancel = sim.context.with_timeout(sim.context.background(), "30s")
    sim.log("Attempting to acquire lock...")
    local ok, lerr = dm:lock(ctx)
    if not ok then sim.log("Failed to acquire lock:", lerr) wg:done() return end
    excl:enter(n:name())
    order[#order + 1] = n:name()
    tokens[#tokens + 1] = dm:token()
    sim.log(string.format("Lock acquired (token %d, owner says %q)! Performing critical section work...",
      dm:token(), dm:owner(ctx) or "?"))
    sim.sleep(sim.params.work)
    excl:leave(n:name())
    local uok, uerr = dm:unlock(ctx)
    if uok then sim.log("Lock released") else
      unlock_failed = unlock_failed + 1
      sim.log("Failed to release lock:", uerr)
    end
    dm:close()
    cancel()
    wg:done()
  end)
end
wg:wait()

print("lock order: " .. table.concat(order, ", "))
local increasing = true
for i = 2, #tokens do increasing = increasing and tokens[i] > tokens[i - 1] end
sim.expect(#order == sim.params.contenders, "every node got the lock once")
sim.expect(unlock_failed == 0, "every holder released the lock")
sim.expect(increasing, "fencing tokens increase from holder to holder")
sim.expect(#excl:violations() == 0, "one holder at a time")

-- The cluster lives on after main's body: wait for the world until the
-- scenario's duration (main returning would end the run at once, as in Go).
sim.run()
