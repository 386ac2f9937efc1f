-- sim.run(): main waits for the world (no Go twin: Go would need a
-- WaitGroup); sim.run(d) waits at most d. Goroutines blocked when the world
-- is idle are leaked.
--| tick 1
--| tick 2
--| tick 3
--| run(350ms): false at 350ms
--| sleeper: woke
--| run(): true at 1s

local n = 0
sim.every("100ms", function() n = n + 1; print("tick " .. n); return n < 3 end)
sim.go("sleeper", function() sim.sleep("1s"); print("sleeper: woke") end)
sim.go("stuck", function() sim.chan():recv() end)
local idle = sim.run("350ms")
print(string.format("run(350ms): %s at %s", idle, sim.format_duration(sim.now())))
idle = sim.run()
print(string.format("run(): %s at %s", idle, sim.format_duration(sim.now())))
