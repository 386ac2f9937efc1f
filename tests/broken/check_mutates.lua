-- Broken on purpose: checks observe a run, they must not change it. A
-- finally check that closes a channel (and an invariant that sends on one)
-- fail with a clear message naming the call (exit 1), where core would
-- otherwise have to abort outside any goroutine.
scenario{ name = "check_mutates", description = "invariant and finally that change the run" }
local ch = sim.chan(4)
sim.invariant(function() ch:try_send(1) return true end, "sends from an invariant")
sim.finally(function() ch:close() end)
sim.sleep("10ms")
