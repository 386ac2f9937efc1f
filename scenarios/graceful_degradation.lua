-- Graceful degradation: the seed's LoadManager and DegradableService under
-- its 30-second load test (Production Best Practices, "Graceful
-- Degradation").
--
-- The load rises from 50 to 2000 requests per second at 15s and falls back
-- by 30s. Each request takes a slot of the BoundedExecutor (20 slots, 1s to
-- get one at Full; 15/800ms at Reduced, 10/500ms at Minimal, 5/300ms at
-- Emergency) and is processed for its level's time (Full 100ms + 50ms
-- analytics + 50ms recommendations, Reduced 80ms, Minimal 50ms, Emergency
-- 30ms), failing 5% of the time; at Full and Reduced a failed request is
-- retried once (50ms). The LoadManager goes to the highest level any metric
-- reaches (cpu 70/85/95 %, memory 80/90/95 %, rate 1000/2000/3000 per
-- second, errors 5/10/20 %) and runs that level's rule.
--
-- Three variants:
-- - seed: the seed itself, its logic with its own made-up inputs: cpu =
--   30 + 70*progress rising to 65% mid-test, then 30 + 140*(1-progress)
--   (100% just past the middle, falling), memory = 40 + 55*progress, the
--   rate and error rate from its counters, processing as plain sleeps. It
--   prints the seed's own lines ("Load: CPU 33%, ... Level 0": the levels
--   are ints in the seed). No calm tail: its figures exist only inside
--   its test.
-- - seed_measured: the seed's logic (its bugs below) with measured inputs.
-- - corrected (the default): the bugs fixed, measured inputs.
-- Measured, not invented: cpu is the utilisation of the 4 simulated CPUs
-- (a quarter of every processing step holds a CPU, the rest waits on I/O);
-- memory is the requests in flight at 512 KiB each against a 512 MiB
-- budget; the rate and error rate are counted over the real window. After
-- the seed's 30 seconds, 8 calm seconds at 50 requests per second show
-- whether the service comes back.
--
-- What to watch: the CPUs saturate within the first seconds at Full, and
-- the level climbs to Emergency. There it stays through the peak, with the
-- CPUs a third busy, because the executor, not the CPU, is the bottleneck:
-- Emergency's 5 slots of 30ms serve at most 166 requests per second, so
-- most requests are rejected and the error rate holds the level up.
-- Shrinking the pool lowers the service's capacity (Minimal's 10 slots of
-- 50ms serve 200 per second).
--
-- The seed's bugs (variants seed and seed_measured keep them):
-- 1. The load loop sends a "second" of requests spaced over one second,
--    then sleeps another second: half the intended load, in 1s bursts,
--    with metrics every 2s (watch the update times and the request count).
-- 2. Each rule replaces workerPool with a new executor while requests still
--    hold slots in the old one: concurrency goes past the bound (watch
--    "most executing at once" and "admissions over the bound").
-- 3. errorCounter counts failed attempts plus the failed request again:
--    2 or 3 counts per failed request, 1 for a request whose retry worked.
--    With retries off, the 5% processing failures read as a 10% error rate.
-- 4. Nothing restores the service when the load is gone: no rule for Full,
--    so the pool, analytics, recommendations and retries stay as the last
--    rule left them. Together with 3, the calm tail shows it: with no load
--    to speak of, the seed's own 5% failures, counted twice with retries
--    off, read as ~10% and keep throwing it back to Minimal and Reduced;
--    when it does reach Full, its pool is still 10 and analytics,
--    recommendations and retries are still off. The corrected service
--    returns to Full once, with everything restored.
scenario{
  name = "graceful degradation",
  description = "the seed's LoadManager and DegradableService under its 50 -> 2000 -> 50 req/s load test",
  seed = 1,
  duration = "60s",
  gomaxprocs = 4,
  params = { variant = "corrected", duration = "30s", cpu_pct = 25, calm = "8s" },
}

local variant = sim.params.variant
local seed_inputs = variant == "seed"
local svc = sim.degradable_service{ variant = variant, cpu_pct = tonumber(sim.params.cpu_pct) }

local function secs(ns) return string.format("%6.2fs", ns / 1e9) end
local LEVELS = { "Full", "Reduced", "Minimal", "Emergency" }

print("Starting load test with graceful degradation... (variant " .. variant .. ")")
local t_start = sim.now()
local st = svc:simulate_load(sim.params.duration)
local t_end = sim.now()
local nupdates = #svc:updates()

-- The seed's "Load: ..." lines, with each level change (and its cause)
-- where it happened.
local changes = svc:changes()
local ci = 1
local LEVEL_NUM = { Full = 0, Reduced = 1, Minimal = 2, Emergency = 3 }
local function print_changes(upto)
  local list = svc:changes()
  while list[ci] and list[ci].t <= upto do
    local c = list[ci]
    if seed_inputs then -- the seed's onLevelChange: %v of an int
      print(string.format("%s Service level changed from %d to %d  (%s)", secs(c.t), LEVEL_NUM[c.from],
        LEVEL_NUM[c.to], c.cause))
    else
      print(string.format("%s Service level changed from %s to %s: %s", secs(c.t), c.from, c.to, c.cause))
    end
    ci = ci + 1
  end
end
for _, u in ipairs(svc:updates()) do
  print_changes(u.t)
  if seed_inputs then -- the seed's own line
    print(string.format("%s Load: CPU %d%%, Mem %d%%, Rate %d req/s, Errors %d%%, Level %d  (executing %d of %d)",
      secs(u.t), u.cpu, u.memory, u.rate, u.errors, LEVEL_NUM[u.level], u.executing, u.capacity))
  else
    print(string.format("%s Load: CPU %d%%, Mem %d%%, Rate %d req/s, Errors %d%%, Level %s  (offered %d/s, in flight %d, executing %d of %d)",
        secs(u.t), u.cpu, u.memory, u.rate, u.errors, u.level, u.offered_rate, u.in_flight, u.executing, u.capacity))
  end
end
print(string.format("%s Load test completed", secs(t_end)))

-- The calm tail: 50 requests per second, metrics every second.
local calm = sim.duration(sim.params.calm)
if seed_inputs then calm = 0 end
if calm > 0 then
  sim.load.constant_arrival_rate{ name = "calm", rate = 50, duration = calm, exec = function(req)
    local ctx, cancel = sim.context.with_timeout(sim.context.background(), "2s")
    svc:handle_request(ctx, "calm-" .. req.id)
    cancel()
  end }
  local n = 0
  sim.every("1s", function()
    local level = svc:update_metrics()
    local m = svc:metrics()
    print_changes(sim.now())
    print(string.format("%s calm: CPU %d%%, Mem %d%%, Rate %d req/s, Errors %d%%, Level %s",
      secs(sim.now()), m.cpu, m.memory, m.requestRate, m.errorRate, level))
    n = n + 1
    return n * sim.duration("1s") < calm
  end, "calm.monitor")
  sim.sleep(calm + sim.duration("1s"))
end

local f = svc:flags()
print()
print(string.format("Summary (%s variant):", variant))
print(string.format("- Requests in the load test: %d (succeeded %d, failed %d: %d rejected by the executor, the rest processing errors)",
  st.requests, st.succeeded, st.failed, st.rejected))
print(string.format("- Retries: %d (%d succeeded); errorCounter added up to %d for %d failed requests",
  st.retries, st.retries_succeeded, st.error_counter_total, st.failed))
print(string.format("- Level changes: %d; metrics updates: %d", st.level_changes, nupdates))
print(string.format("- Most requests executing at once: %d (bound at Full: 20); admissions over the bound in force: %d; executors created: %d",
  st.executing_max, st.admissions_over_bound, st.executors_created))
print(string.format("- Most requests in flight: %d; average latency of successes %.1fms, max %.1fms",
  st.in_flight_max, st.latency_avg_ns / 1e6, st.latency_max_ns / 1e6))
if not seed_inputs then
  print(string.format("- CPU time used: %.1f CPU-seconds of the 4 CPUs' %d", st.cpu_busy_ns / 1e9,
    4 * sim.duration(sim.params.duration) // 1000000000))
end
print(string.format("  %-9s %9s %9s %8s %6s", "level", "requests", "succeeded", "time", "rules"))
for _, l in ipairs(LEVELS) do
  local b = st.by_level[l]
  print(string.format("  %-9s %9d %9d %7.1fs %6d", l, b.requests, b.succeeded, b.time_ns / 1e9, b.rules_applied))
end
if calm > 0 then
  print(string.format("- Level changes in the calm tail: %d", #svc:changes() - st.level_changes))
end
print(string.format("- After %s: level %s, pool %d (timeout %dms), analytics %s, recommendations %s, notifications %s, fullHistory %s, retries %s",
  calm > 0 and "the calm tail" or "the test", svc:level(), f.pool, f.pool_timeout // 1000000, tostring(f.analytics), tostring(f.recommendations),
  tostring(f.notifications), tostring(f.fullHistory), tostring(f.retry)))

-- What the run must show.
local first = changes[1]
local reached = {}
for _, c in ipairs(changes) do reached[c.to] = true end
sim.expect(reached.Emergency, "the peak drives the service to Emergency")
if seed_inputs then
  -- The seed's figures, recomputed here from each update's time: progress
  -- a float, each figure truncated toward zero as Go's int64() does.
  local dur = sim.duration(sim.params.duration)
  local function trunc(x) return x >= 0 and math.floor(x) or math.ceil(x) end
  local same = true
  for _, u in ipairs(svc:updates()) do
    local p = (u.t - t_start) / dur
    local cpu = p > 0.5 and 30 + trunc((1 - p) * 140) or 30 + trunc(p * 70)
    if u.cpu ~= cpu or u.memory ~= 40 + trunc(p * 55) then same = false end
  end
  sim.expect(same, "cpu and memory are the seed's own curves of the test's progress")
  sim.expect(first ~= nil and first.metric == "errorRate",
    "with the seed's inputs its error rate, not cpu or memory, moves the level first")
end
if variant ~= "corrected" then
  sim.expect(nupdates <= 16, "the seed's loop updates the metrics only every ~2s")
  sim.expect(st.requests < 17000, "the seed's loop offers about half the curve's ~30,000 requests")
  sim.expect(st.executing_max > 20 and st.admissions_over_bound > 0,
    "replacing workerPool lets concurrency exceed the bound")
  sim.expect(st.error_counter_total > st.failed, "errorCounter counts more errors than failed requests")
  if calm > 0 then
    sim.expect(f.pool < 20 and not f.retry,
      "after the load is gone the seed's pool and retries are not restored")
    sim.expect(#svc:changes() - st.level_changes >= 2,
      "in the calm tail the seed's double-counted failures move the level again and again")
  end
else
  sim.expect(first ~= nil and first.metric == "cpu", "the first level change is caused by the measured CPU")
  sim.expect(nupdates == 30, "the metrics are updated every second")
  sim.expect(st.requests > 30000, "the whole curve is offered (~30,700 requests)")
  sim.expect(st.executing_max <= 20 and st.admissions_over_bound == 0 and st.executors_created == 1,
    "one executor, resized in place, never admits past its bound")
  sim.expect(st.error_counter_total >= st.failed, "errors are counted once per failed request for the error rate")
  if calm > 0 then
    sim.expect(svc:level() == "Full" and f.pool == 20 and f.retry and f.analytics and f.recommendations,
      "back at Full the pool and every feature are restored")
    local n = #svc:changes() - st.level_changes
    sim.expect(n >= 1 and n <= 2, "the calm tail brings the level back to Full in at most two steps")
  end
end
