-- mutex_vs_rwmutex.lua: a read-mostly cache behind a Mutex, then an RWMutex.
--
-- What it shows: the same workload twice, on 4 simulated CPUs
-- (scenario{ gomaxprocs = 4 }): 8 readers and 1 writer share a cache.
-- A read holds the lock while it uses 2ms of CPU (sim.work), a write 3ms.
-- Behind a sync.Mutex every read excludes every other read, so the readers
-- queue for the lock while three CPUs sit idle. Behind a sync.RWMutex the
-- readers share the lock (rw:rlock) and run in parallel, one per CPU; the
-- writer still gets exclusive access (rw:lock), and a waiting writer stops
-- new readers from entering, so it is not starved.
--
-- sim.work(d) holds a CPU for d: when all CPUs are busy a goroutine waits
-- for one, so lock waits and CPU waits are both measured, not assumed.
-- The figures come from the locks' own profile (mu:stats()) and from the
-- goroutines' clocks.
--
-- What to watch: reads per second (about 4 times more with the RWMutex:
-- one CPU against four), the mean wait for the lock per read, and the CPU
-- utilisation of each phase. Try --set readers=2 (little contention: the
-- lock kind hardly matters) or --set write_every=2ms (write-heavy: the
-- RWMutex loses its edge).
scenario{
  name = "mutex_vs_rwmutex",
  description = "Readers and writers on 4 CPUs: Mutex against RWMutex, throughput and wait",
  gomaxprocs = 4,
  params = { readers = 8, read_cost = "2ms", write_cost = "3ms", write_every = "20ms",
             think = "1ms", phase = "500ms" },
}

local P = sim.params
local read_cost, write_cost = P.read_cost, P.write_cost
local phase = sim.duration(P.phase)

-- One phase: readers and a writer hammer the lock for `phase` of simulated
-- time; the lock functions are the only thing that differs.
local function run(kind, lock)
  local rlock, runlock, wlock, wunlock
  if kind == "Mutex" then
    rlock, runlock = lock.lock, lock.unlock
  else
    rlock, runlock = lock.rlock, lock.runlock
  end
  wlock, wunlock = lock.lock, lock.unlock
  local stop = sim.now() + phase
  local cpu0 = sim.cpu().busy_ns
  local r = { reads = 0, writes = 0, read_wait = 0, write_wait = 0 }
  local wg = sim.waitgroup()
  for i = 1, P.readers do
    wg:add(1)
    sim.go(kind .. "-reader" .. i, function()
      while sim.now() < stop do
        local t0 = sim.now()
        rlock(lock)
        r.read_wait = r.read_wait + (sim.now() - t0)
        sim.work(read_cost)
        runlock(lock)
        r.reads = r.reads + 1
        sim.sleep(P.think)
      end
      wg:done()
    end)
  end
  wg:add(1)
  sim.go(kind .. "-writer", function()
    while sim.now() < stop do
      sim.sleep(P.write_every)
      local t0 = sim.now()
      wlock(lock)
      r.write_wait = r.write_wait + (sim.now() - t0)
      sim.work(write_cost)
      wunlock(lock)
      r.writes = r.writes + 1
    end
    wg:done()
  end)
  wg:wait()
  local elapsed = sim.now() - (stop - phase)
  r.per_sec = r.reads * 1000000000 // elapsed
  r.util = (sim.cpu().busy_ns - cpu0) * 100 // (elapsed * sim.cpu().procs)
  r.mean_read_wait = r.reads > 0 and r.read_wait // r.reads or 0
  r.stats = lock:stats()
  sim.log(string.format("%-7s %5d reads (%d/s), %3d writes; mean lock wait per read %s, per write %s; CPUs %d%% busy",
    kind, r.reads, r.per_sec, r.writes, sim.format_duration(r.mean_read_wait),
    sim.format_duration(r.writes > 0 and r.write_wait // r.writes or 0), r.util))
  sim.log(string.format("%-7s profile: %d contended acquisitions, %s waited in total",
    kind, r.stats.contended, sim.format_duration(r.stats.wait_ns)))
  return r
end

local m = run("Mutex", sim.mutex("cache.mu"))
local rw = run("RWMutex", sim.rwmutex("cache.rw"))

sim.expect(m.writes > 0 and rw.writes > 0, "the writer got the lock in both phases")
sim.expect(rw.reads > 2 * m.reads, "the RWMutex serves more than twice the reads")
sim.expect(rw.mean_read_wait < m.mean_read_wait, "readers wait less for an RWMutex")
sim.expect(m.util <= 30 and rw.util >= 70, "a Mutex leaves CPUs idle; an RWMutex keeps them busy")
