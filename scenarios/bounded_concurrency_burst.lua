-- Bounded concurrency under a burst: why the seed bounds concurrency, and
-- what the bound costs.
--
-- What it shows: a service on 4 simulated CPUs (gomaxprocs = 4); each
-- operation needs 80ms of CPU (sim.work) and then the seed's
-- simulateOperation (50-249ms of waiting on a remote, 10% failures).
-- Requests arrive at a steady 10 per second for 8s, plus a burst of 200 at
-- once at 2s (sim.load.constant_arrival_rate and sim.load.burst). The same
-- load goes through three executors, one after another:
--   unbounded   - no real bound (100000 slots),
--   seed        - the seed's NewBoundedExecutor(5, 500ms),
--   wider       - 16 slots, 500ms.
-- A caller considers an answer after 1s useless ("late").
--
-- What to watch:
--  - unbounded: nothing is rejected, but the burst puts 16s of CPU work on
--    4 CPUs at once: every operation queues for a CPU, the steady requests
--    that arrive behind the burst too; most answers are late (p99 in
--    seconds), and fewer answers come in time than with a bound.
--  - seed: at most 5 run at once, the CPUs stay cool, and the burst is
--    shed within 500ms as fast "operation rejected" errors; the answers
--    that are given come in time.
--  - wider: more of the burst is served, still nothing late, and the most
--    answers in time: the bound trades rejections for latency, and its
--    size is the knob.
-- An invariant checks after every step that no executor ever has more
-- slots in use than its capacity.
--
-- The seed's executor has no bug (see bounded_concurrency.lua for the note
-- on how its main classifies rejections).
scenario{
  name = "bounded_concurrency_burst",
  description = "a burst of 200 on 4 CPUs through no bound, the seed's 5/500ms executor and 16/500ms",
  seed = 5,
  duration = "2m",
  gomaxprocs = 4,
  leaks = "fail",
  params = { burst = 200, rate = 10, cpu = "80ms", slo = "1s" },
}

local P = sim.params
local configs = {
  { name = "unbounded", max_concurrent = 100000, timeout = "500ms" },
  { name = "seed", max_concurrent = 5, timeout = "500ms" },
  { name = "wider", max_concurrent = 16, timeout = "500ms" },
}
local slo = sim.duration(P.slo)

local function pct(sorted, p)
  if #sorted == 0 then return 0 end
  return sorted[math.max(1, (#sorted * p + 99) // 100)]
end

local results = {}
for _, c in ipairs(configs) do
  local ex = sim.bounded_executor{ name = c.name, max_concurrent = c.max_concurrent, timeout = c.timeout }
  sim.invariant(function() return ex:stats().in_use <= c.max_concurrent end,
    c.name .. ": never more slots in use than the capacity")
  local r = { arrived = 0, ok = 0, rejected = 0, failed = 0, late = 0, lat = {} }
  local wg = sim.waitgroup()
  local cpu0, t0 = sim.cpu().busy_ns, sim.now()
  local function exec(req)
    wg:add(1)
    r.arrived = r.arrived + 1
    local v, err = ex:execute(function()
      sim.work(P.cpu)
      return sim.simulate_operation(req.id)
    end)
    local latency = sim.now() - req.intended
    if v then
      r.ok = r.ok + 1
      r.lat[#r.lat + 1] = latency
      if latency > slo then r.late = r.late + 1 end
    elseif err:find("^operation rejected") then
      r.rejected = r.rejected + 1
    else
      r.failed = r.failed + 1
    end
    wg:done()
  end
  sim.load.constant_arrival_rate{ name = c.name .. "-steady", rate = P.rate, duration = "8s", exec = exec }
  sim.load.burst{ name = c.name .. "-burst", at = sim.now() + sim.duration("2s"), count = P.burst, exec = exec }
  sim.sleep("8s")
  wg:wait()
  table.sort(r.lat)
  r.p50, r.p99 = pct(r.lat, 50), pct(r.lat, 99)
  r.in_use_max = ex:stats().in_use_max
  r.cpu = (sim.cpu().busy_ns - cpu0) / (4 * (sim.now() - t0))
  results[c.name] = r
  sim.log(string.format("%s done", c.name))
end

local function ms(ns) return string.format("%.0fms", ns / 1e6) end
print(string.format("\n%-10s %7s %6s %8s %6s %6s %9s %8s %8s %10s %9s", "executor", "arrived", "ok",
  "rejected", "failed", "late", "in time", "p50", "p99", "max in use", "CPU busy"))
for _, c in ipairs(configs) do
  local r = results[c.name]
  print(string.format("%-10s %7d %6d %8d %6d %6d %9d %8s %8s %10d %8.0f%%", c.name, r.arrived, r.ok, r.rejected,
    r.failed, r.late, r.ok - r.late, ms(r.p50), ms(r.p99), r.in_use_max, 100 * r.cpu))
end

local u, s, w = results.unbounded, results.seed, results.wider
sim.expect(u.rejected == 0, "unbounded: nothing is rejected")
sim.expect(u.late > u.ok / 2, "unbounded: most answers come too late")
sim.expect(s.in_use_max <= 5 and w.in_use_max <= 16, "the bounds hold")
sim.expect(s.rejected > 100, "seed: most of the burst is shed as rejections")
sim.expect(s.late == 0 and w.late == 0, "bounded: every answer given comes in time")
sim.expect(w.ok > s.ok, "a wider bound serves more of the burst")
sim.expect(w.ok - w.late > u.ok - u.late, "the wider bound gives more answers in time than no bound")
