-- Bug zoo (the seed's priority multiplexer): EVENTS LOST SILENTLY. Each
-- sweep polls every source with a 1ms timeout and keeps only the
-- highest-priority event of the sweep; every other event received in that
-- sweep was taken from its source and is never forwarded, and nothing says
-- so (no "Dropped" warning: the source thinks it was delivered).
--
-- What to watch: the stats line "lost" per source, and the failed check
-- "every event taken from a source is forwarded" (user and metrics events
-- vanish when they tick together with another source).
-- Find it:   chansim run scenarios/bugs/priority_mux_loss.lua
--            (the sources tick together every 200ms: every schedule loses events)
-- The fix:   scenarios/bugs/priority_mux_loss_fixed.lua (take the ready event of the highest
--            priority, else block on all sources at once; forward everything received)
scenario{
  name = "bug: priority mux silent loss",
  description = "the seed's PriorityMultiplexer forwards one event per sweep and loses the rest",
  expect_failure = "invariant: every event taken from a source is forwarded",
}

local mux = sim.priority_mux{ variant = "seed", timeout = "1s", print = false }
local processed = 0
for _ in mux:events() do processed = processed + 1 end
local st = mux:stats()
for _, s in ipairs(st.sources) do
  print(string.format("%-8s generated %2d, forwarded %2d, dropped %d, lost %d", s.name, s.generated,
    s.forwarded, s.dropped, s.lost))
end
print(string.format("processed %d", processed))
sim.expect(st.lost == 0, "every event taken from a source is forwarded")
