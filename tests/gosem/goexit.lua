-- runtime.Goexit runs the goroutine's deferred calls (Lua's to-be-closed
-- variables), is not stopped by recover (pcall), and ends only its
-- goroutine; main's Goexit with nothing left is Go's fatal error
-- (goexit.go).
--| worker: deferred runs
--| worker: outer deferred runs
--| main: worker done
--| main: deferred runs
--! exit 2
--? fatal error: no goroutines (main called runtime.Goexit) - deadlock!
local function defer(fn) return setmetatable({}, { __close = fn }) end
local done = sim.chan()
sim.go("worker", function()
  local outer <close> = defer(function() print("worker: outer deferred runs"); done:send(true) end)
  local ok = pcall(function()
    local d <close> = defer(function() print("worker: deferred runs") end)
    sim.goexit()
    print("never")
  end)
  print("never: recover does not stop Goexit", ok)
end)
done:recv()
print("main: worker done")
do
  local d <close> = defer(function() print("main: deferred runs") end)
  sim.goexit()
end
print("never")
