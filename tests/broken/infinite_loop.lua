-- Broken on purpose: a goroutine spins without ever reaching a simulated
-- event (no channel operation, sleep or lock), so simulated time cannot
-- move. After --instr-budget Lua instructions chansim stops it: "fatal
-- error: goroutine 2 (spinner) ran N Lua instructions without reaching a
-- simulated event at infinite_loop.lua:10: an infinite loop?", exit 2.
scenario{ name = "infinite_loop", description = "a goroutine that never yields" }
sim.go("spinner", function()
  local n = 0
  while true do
    n = n + 1
  end
end)
sim.sleep("1s")
