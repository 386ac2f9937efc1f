-- Graceful degradation, flapping: the seed's LoadManager has one threshold
-- per level and metric, and it falls back as soon as every metric is below
-- them. When degrading is what lowers the metric, the service flaps.
--
-- The seed's DegradableService (corrected variant) runs four times under
-- the same load, rising from 20 to 80 requests per second at 15s and back
-- by 30s, on 4 simulated CPUs; a quarter of every processing step is CPU
-- work. At Full a request costs 200ms (50ms of CPU), at Reduced 80ms (20ms
-- of CPU). Above ~56 requests per second Full needs over 70% of the CPUs,
-- so the manager goes to Reduced; there the CPUs are ~30% busy, below every
-- threshold, so at the next update it goes back to Full, where the CPU is
-- over 70% again: Full, Reduced, Full, Reduced, once a second.
--
-- The four runs:
--   none:         the seed's rule (no hysteresis)
--   band 20%:     leave a level only when every metric is 20% below its
--                 thresholds (cpu < 56): too narrow, Reduced's 30% is below
--   dwell 5s:     stay at least 5s at a level before falling back: fewer
--                 changes, same oscillation, only slower
--   band 60% + dwell 3s: the band is wider than the degradation's own
--                 effect (Reduced costs 40% of Full's CPU), so the service
--                 stays at Reduced while the load needs it and returns to
--                 Full once when the load has passed
--
-- What to watch: the number of level changes in each run, and what the
-- flapping costs: every return to Full overloads the CPUs again (queueing
-- behind cpu_work shows in the latency and the rejections).
scenario{
  name = "graceful degradation: flapping",
  description = "level changes with and without hysteresis under a load that degrading itself relieves",
  seed = 1,
  duration = "200s",
  gomaxprocs = 4,
  params = { base_rate = 20, peak_rate = 80, duration = "30s", cpu_pct = 25 },
}

local runs = {
  { name = "none", down_pct = 0, min_dwell = "0s" },
  { name = "band 20%", down_pct = 20, min_dwell = "0s" },
  { name = "dwell 5s", down_pct = 0, min_dwell = "5s" },
  { name = "band 60% + dwell 3s", down_pct = 60, min_dwell = "3s" },
}

local LEVEL_RANK = { Full = 0, Reduced = 1, Minimal = 2, Emergency = 3 }
local function secs(ns) return string.format("%6.2fs", ns / 1e9) end

for _, r in ipairs(runs) do
  local t0 = sim.now()
  local svc = sim.degradable_service{
    name = "DegradableService (" .. r.name .. ")",
    base_rate = tonumber(sim.params.base_rate), peak_rate = tonumber(sim.params.peak_rate),
    cpu_pct = tonumber(sim.params.cpu_pct), down_pct = r.down_pct, min_dwell = r.min_dwell,
  }
  r.stats = svc:simulate_load(sim.params.duration)
  r.changes = svc:changes()
  print(string.format("%s: %d level changes", r.name, #r.changes))
  for _, c in ipairs(r.changes) do
    print(string.format("  %s %s -> %s: %s", secs(c.t - t0), c.from, c.to, c.cause))
  end
  sim.sleep("1s") -- let the CPUs' window of the next run start clean
end

print()
print(string.format("%-22s %8s %10s %9s %7s %9s %12s %13s", "hysteresis", "changes", "requests",
  "succeeded", "failed", "rejected", "avg latency", "time Reduced"))
for _, r in ipairs(runs) do
  local st = r.stats
  print(string.format("%-22s %8d %10d %9d %7d %9d %10.1fms %12.1fs", r.name, #r.changes, st.requests,
    st.succeeded, st.failed, st.rejected, st.latency_avg_ns / 1e6, st.by_level.Reduced.time_ns / 1e9))
end

-- Steps up caused by the CPU (a window of 20 requests with one failure also
-- reads as a 5% error rate: that noise is the same in every run).
local function cpu_rises(r)
  local n = 0
  for _, c in ipairs(r.changes) do
    if c.metric == "cpu" and LEVEL_RANK[c.to] > LEVEL_RANK[c.from] then n = n + 1 end
  end
  return n
end
local none, band20, dwell, both = runs[1], runs[2], runs[3], runs[4]
print()
print(string.format("steps up caused by the CPU: none %d, band 20%% %d, dwell 5s %d, band 60%% + dwell 3s %d",
  cpu_rises(none), cpu_rises(band20), cpu_rises(dwell), cpu_rises(both)))
sim.expect(cpu_rises(none) >= 4, "without hysteresis the CPU pushes the level up again and again")
sim.expect(#band20.changes >= #none.changes - 2, "a band narrower than the degradation's own effect does not help")
sim.expect(#dwell.changes < #none.changes and cpu_rises(dwell) >= 2,
  "a minimum dwell time slows the flapping down but does not stop it")
sim.expect(cpu_rises(both) == 1 and both.changes[#both.changes].to == "Full",
  "with a wide enough band and a dwell time: one step down for the CPU, and back to Full at the end")
sim.expect(#none.changes >= 3 * #both.changes, "hysteresis cuts the level changes at least threefold")
