-- Bug zoo (the seed's priority multiplexer): EVENTS LOST SILENTLY, fixed.
-- The corrected multiplexer takes, without waiting, the ready event of the
-- highest priority, else blocks on all sources at once, and forwards every
-- event it receives: nothing is taken from a source and then dropped.
--
-- Prove it: chansim explore scenarios/bugs/priority_mux_loss_fixed.lua --runs 100
scenario{
  name = "bug fixed: priority mux silent loss",
  description = "the corrected PriorityMultiplexer forwards every event it receives",
}

local mux = sim.priority_mux{ variant = "corrected", timeout = "1s", print = false }
local processed = 0
for _ in mux:events() do processed = processed + 1 end
local st = mux:stats()
for _, s in ipairs(st.sources) do
  print(string.format("%-8s generated %2d, forwarded %2d, dropped %d, lost %d", s.name, s.generated,
    s.forwarded, s.dropped, s.lost))
end
print(string.format("processed %d", processed))
sim.expect(st.lost == 0, "every event taken from a source is forwarded")
