-- Priority multiplexing with select: the seed's EventSource and
-- PriorityMultiplexer ("Multiplexing with Select"), for 5 seconds.
--
-- What it shows: three sources tick on their own: critical every 500ms
-- (priority 10), user every 200ms (5), metrics every 100ms (1). Each tries
-- to hand its event to the multiplexer for 50ms and drops it with a warning
-- otherwise. The multiplexer forwards events on one channel, preferring
-- higher priorities; main prints each one it receives, as the seed's main
-- does. The run is the variant of params.variant (default "corrected") with
-- the seed's lines; then the other variant runs quietly and a table
-- compares both, per source: generated, forwarded, dropped at the source,
-- lost by the multiplexer, canceled (in hand when the deadline struck) and
-- the latency from generation to delivery.
--
-- What to watch: the sources tick together every 200ms (user and metrics),
-- every 500ms (critical and metrics) and every second (all three). In the
-- seed's variant those coinciding events are received in the same sweep,
-- and all but the highest-priority one are LOST: metrics loses about half
-- of its events (every tick that coincides with user or critical), user
-- the ones at whole seconds (with critical), silently: no warning is
-- printed, the events were taken from their sources. The corrected variant
-- loses nothing. Each source makes 9, 24 and 49 events, not 10, 25 and 50:
-- the last ticks fall at exactly 5s, with the context's deadline, which
-- was armed first and so fires first (under --strategy random the order
-- of those timers is a coin toss, as in Go). The seed's 1ms-per-source polling also adds milliseconds of
-- latency that the corrected multiplexer (which blocks on all sources at
-- once) does not have.
--
-- The seed's bug: PriorityMultiplexer polls each source with a 1ms timeout
-- in map order and keeps only the highest-priority event of a sweep; the
-- others received in the same sweep are overwritten or skipped and never
-- forwarded. variant = "seed" keeps that behaviour; the default forwards
-- every event it receives, taking the highest ready priority first.
scenario{
  name = "priority_mux",
  description = "the seed's critical/user/metrics sources through its PriorityMultiplexer, both variants",
  seed = 1,
  duration = "20s",
  leaks = "fail",
  params = { variant = "corrected", timeout = "5s" },
}

local P = sim.params
local other = P.variant == "seed" and "corrected" or "seed"

-- The seed's main: sources, the multiplexer, and the consumer loop.
local mux = sim.priority_mux{ variant = P.variant, timeout = P.timeout }
local t0 = sim.now()
for event in mux:events() do
  print(string.format("Processed: %s event from %s at %s", event.type, event.source,
    sim.format_duration(event.time - t0)))
end
local runs = { [P.variant] = mux:stats() }

-- The other variant, quietly, on the same sources.
local quiet = sim.priority_mux{ variant = other, timeout = P.timeout, print = false }
for _ in quiet:events() do end
runs[other] = quiet:stats()

local function ms(ns) return string.format("%.2fms", ns / 1e6) end
print()
print(string.format("%-10s %-9s %8s %9s %9s %8s %6s %8s %12s %12s", "variant", "source", "priority",
  "generated", "forwarded", "dropped", "lost", "canceled", "latency avg", "latency max"))
for _, v in ipairs{ "seed", "corrected" } do
  for _, s in ipairs(runs[v].sources) do
    print(string.format("%-10s %-9s %8d %9d %9d %8d %6d %8d %12s %12s", v, s.name, s.priority, s.generated,
      s.forwarded, s.dropped, s.lost, s.canceled, ms(s.latency_avg), ms(s.latency_max)))
  end
end

local seed, fixed = runs.seed, runs.corrected
for _, r in ipairs{ seed, fixed } do
  sim.expect(r.generated >= 82 and r.generated <= 85,
    r.variant .. ": 10 + 25 + 50 ticks in 5 seconds, less those that lose the race with the deadline")
end
sim.expect(fixed.lost == 0, "the corrected multiplexer loses nothing it receives")
sim.expect(seed.by_source.metrics.lost >= 15 and seed.by_source.user.lost >= 3,
  "the seed's multiplexer loses the low-priority events of coinciding ticks")
sim.expect(seed.by_source.critical.lost == 0, "the highest priority is never lost")
for _, r in ipairs{ seed, fixed } do
  for _, s in ipairs(r.sources) do
    sim.expect(s.generated == s.forwarded + s.dropped + s.lost + s.canceled,
      r.variant .. " " .. s.name .. ": every event is forwarded, dropped, lost or cut off by the deadline")
  end
end
