-- Broken on purpose: an invariant that never returns. Invariants run between
-- simulated steps under the same instruction budget as goroutines: the
-- check fails with "an infinite loop?" (exit 1: an expectation failed),
-- instead of hanging the run.
scenario{ name = "invariant_loop", description = "an invariant with an infinite loop" }
local done = false
sim.invariant(function()
  while not done do end
  return true
end, "spins forever")
sim.sleep("10ms")
