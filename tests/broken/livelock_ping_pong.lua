-- Broken on purpose: two goroutines hand a value back and forth forever
-- and never wait for simulated time, so the clock stays at 0 and main's
-- sleep never ends. Each handoff is a step of its own: the run stops after
-- --max-steps-per-instant steps at one instant as a livelock naming both,
-- exit 2.
scenario{ name = "livelock_ping_pong", description = "a handoff loop with no time passing" }
local a, b = sim.chan(), sim.chan()
sim.go("ping", function() while true do a:send(1); b:recv() end end)
sim.go("pong", function() while true do a:recv(); b:send(1) end end)
sim.sleep("1s")
