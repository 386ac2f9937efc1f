-- Priority multiplexing under overload: the seed's multiplexer and the
-- corrected one side by side, fed the same load, with a consumer that
-- cannot keep up.
--
-- What it shows: critical ticks every 500ms (priority 10) and metrics every
-- 100ms (priority 1), as in the seed; user events (priority 5) are now
-- clicks arriving at a ramping rate (sim.load.ramping_arrival_rate): 5/s
-- for 2s, up to 60/s over 3s, 60/s for 3s, back to 5/s over 2s. The
-- consumer spends 40ms on each event, so it handles at most 25 per second:
-- at the peak, over 70 per second are offered. Every source still gives an
-- event 50ms to be taken, then drops it with the seed's warning (the
-- warnings are not printed here; they are counted).
--
-- What to watch, per source and variant: generated, forwarded, dropped
-- (the source's 50ms ran out), lost (taken by the multiplexer and thrown
-- away) and the latency from generation to delivery.
--  - corrected: overload is shed where it should be, at the sources, lowest
--    priority first: metrics loses the larger share, user less, critical
--    nothing; nothing is lost, and critical waits at most two consumer
--    steps (the event being handled and the one the multiplexer already
--    holds, waiting to be taken: a one-event buffer in effect).
--  - seed: on top of the drops, every sweep that receives two events throws
--    one away (lost), and under overload that happens all the time: the
--    multiplexer keeps draining sources only to discard what it took, so
--    fewer events reach the consumer although it is busy all the time with
--    the same capacity; and critical waits behind 1ms polls of the others.
--
-- The seed's bug: PriorityMultiplexer keeps only the highest-priority event
-- of each sweep; the others received in that sweep are silently lost.
scenario{
  name = "priority_mux_overload",
  description = "ramping user clicks and a 40ms consumer: dropped and lost events per source, both variants",
  seed = 7,
  duration = "30s",
  leaks = "fail",
  params = { consumer = "40ms", peak_rate = 60, timeout = "10s" },
}

local P = sim.params

local function sources()
  return {
    { name = "critical", interval = "500ms", priority = 10 },
    { name = "user", interval = 0, priority = 5 },        -- fed by the load below
    { name = "metrics", interval = "100ms", priority = 1 },
  }
end

local runs = {}
local wg = sim.waitgroup()
for _, variant in ipairs{ "seed", "corrected" } do
  local mux = sim.priority_mux{ variant = variant, sources = sources(), timeout = P.timeout, print = false }
  sim.load.ramping_arrival_rate{
    name = "clicks-" .. variant,
    start_rate = 5,
    stages = {
      { target = 5, duration = "2s" },
      { target = P.peak_rate, duration = "3s" },
      { target = P.peak_rate, duration = "3s" },
      { target = 5, duration = "2s" },
    },
    exec = function() mux:emit("user", "click") end,
  }
  wg:add(1)
  sim.go({ name = "consumer-" .. variant, role = "consumer" }, function()
    local handled = 0
    for _ in mux:events() do
      sim.sleep(P.consumer)
      handled = handled + 1
    end
    runs[variant] = mux:stats()
    runs[variant].handled = handled
    wg:done()
  end)
end
wg:wait()

local function ms(ns) return string.format("%.1fms", ns / 1e6) end
print(string.format("%-10s %-9s %8s %9s %9s %8s %6s %8s %12s %12s", "variant", "source", "priority",
  "generated", "forwarded", "dropped", "lost", "canceled", "latency avg", "latency max"))
for _, v in ipairs{ "seed", "corrected" } do
  for _, s in ipairs(runs[v].sources) do
    print(string.format("%-10s %-9s %8d %9d %9d %8d %6d %8d %12s %12s", v, s.name, s.priority, s.generated,
      s.forwarded, s.dropped, s.lost, s.canceled, ms(s.latency_avg), ms(s.latency_max)))
  end
  print(string.format("%-10s %d events handled by the consumer", v, runs[v].handled))
end

local seed, fixed = runs.seed, runs.corrected
sim.expect(fixed.lost == 0, "corrected: nothing received is lost")
sim.expect(fixed.by_source.critical.dropped == 0, "corrected: critical is never dropped")
sim.expect(fixed.by_source.critical.latency_max <= 2 * sim.duration(P.consumer),
  "corrected: critical waits at most two consumer steps")
local function shed(s) return s.dropped / s.generated end
sim.expect(shed(fixed.by_source.metrics) > shed(fixed.by_source.user),
  "corrected: the lowest priority is shed first (the larger share dropped)")
sim.expect(seed.lost > 0 and seed.by_source.user.lost > 0 and seed.by_source.metrics.lost > 0,
  "seed: events of user and metrics are lost in the sweeps")
sim.expect(seed.forwarded < fixed.forwarded, "seed: fewer events delivered for the same consumer")
