-- time.AfterFunc: f runs in its own goroutine when the timer fires; Stop
-- before it fires keeps it from running, Reset arms it again
-- (after_func.go).
--| stop before firing: true
--| fired after 10ms
--| reset after firing: false
--| fired after 10ms
--| stop after firing: false
local t0 = sim.now()
local fired = sim.chan()
local a = sim.after_func("1h", function() print("never") end)
print("stop before firing: " .. tostring(a:stop()))
local b = sim.after_func("10ms", function()
  print("fired after " .. sim.format_duration(sim.now() - t0))
  fired:send(true)
end)
fired:recv()
t0 = sim.now()
print("reset after firing: " .. tostring(b:reset("10ms")))
fired:recv()
print("stop after firing: " .. tostring(b:stop()))
