-- Distributed semaphore: the seed's DistributedSemaphore (put a key,
-- count the prefix, back off from 50ms to 1s when over the limit) with
-- the seed's limit of 3, against a fair variant ordered by create
-- revision.
--
-- First the seed's own demo: 5 workers of one process, each holding a
-- permit for 2s, with a 5s TryAcquireWithTimeout. Then contention: 4 nodes
-- with 3 workers each, each worker acquiring 5 times with a 10s timeout.
--
-- What to watch: in the seed's algorithm every acquirer counts the keys
-- of the others who are about to give up too, so simultaneous acquirers
-- all back off together, permits sit idle, and the unlucky ones are
-- overtaken again and again until their timeout (starvation); and the
-- seed's local mutex makes one process's workers queue behind each other's
-- network round trips. The fair variant admits in arrival order, no
-- retries, no permit idle while someone waits. Neither ever has more than
-- 3 holders (the checker would say so).
scenario{
  name = "distributed semaphore",
  description = "the seed's etcd semaphore (limit 3) against a fair one, in the seed's demo and under contention",
  seed = 1,
  duration = "5m",
  params = { fair = false, nodes = 4, workers = 3, rounds = 5, hold = "2s", timeout = "5s",
             contention_timeout = "10s" },
}

local names = { "etcd" }
for i = 1, sim.params.nodes do names[#names + 1] = "node" .. i end
local c = sim.cluster{ nodes = names, latency = "2ms", jitter = "2ms" }
local store = sim.etcd_server(c:node("etcd"))
c:start()

local fair = sim.params.fair
local function run(label, nodes, workers, rounds, timeout)
  local holders = sim.holders{ name = label, limit = 3 }
  local wg = sim.waitgroup()
  local got, failed, sems = 0, 0, {}
  local t0 = sim.now()
  for i = 1, nodes do
    local n = c:node("node" .. i)
    wg:add(1)
    n:go("main", function()
      local cli = store:client(n)
      local sem = assert(sim.distributed_semaphore{ client = cli, path = "/semaphores/" .. label,
                                                    count = 3, fair = fair, track = holders })
      sems[#sems + 1] = sem
      local inner = sim.waitgroup()
      for w = 1, workers do
        inner:add(1)
        n:go("worker-" .. w, function()
          for _ = 1, rounds do
            local id, err = sem:try_acquire(timeout)
            if id then
              got = got + 1
              sim.sleep(sim.params.hold)
              assert(sem:release(id))
            else
              failed = failed + 1
            end
          end
          inner:done()
        end)
      end
      inner:wait()
      wg:done()
    end)
  end
  wg:wait()
  local attempts, rejected, wait_max = 0, 0, 0
  for _, s in ipairs(sems) do
    local st = s:stats()
    attempts = attempts + st.attempts
    rejected = rejected + st.rejected
    wait_max = math.max(wait_max, st.wait_max_ns)
  end
  local _, max_inside = holders:inside()
  print(string.format("%-10s %s: %d acquired, %d timed out, %d attempts (%d refused), longest wait %s, at most %d holders, took %s",
    label, fair and "fair" or "seed", got, failed, attempts, rejected,
    sim.format_duration(wait_max), max_inside, sim.format_duration(sim.now() - t0)))
  return got, failed, holders
end

-- The seed's demo: one process, five workers, one round each.
local demo_got, demo_failed, demo_h = run("demo", 1, 5, 1, sim.params.timeout)
-- Contention: several processes.
-- Contention: several processes; 12 workers for 3 permits held 2s wait at
-- most about 6s in a fair line, so a 10s timeout is enough for everyone.
local got, failed, h = run("contention", sim.params.nodes, sim.params.workers, sim.params.rounds,
                           sim.params.contention_timeout)

sim.expect(#demo_h:violations() == 0 and #h:violations() == 0, "never more than 3 holders")
local total = sim.params.nodes * sim.params.workers * sim.params.rounds
if fair then
  sim.expect(demo_got == 5 and got == total, "the fair semaphore admits everyone (no timeouts)")
else
  sim.expect(failed > 0, "under contention the seed's semaphore times some acquirers out")
end

-- The cluster lives on after main's body: wait for the world until the
-- scenario's duration (main returning would end the run at once, as in Go).
sim.run()
