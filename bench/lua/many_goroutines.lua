-- many_goroutines.lua: N goroutines (default 10,000), each sleeping a few
-- milliseconds and sending to one buffered channel that a sink drains, for
-- 2 simulated seconds. bench/view_fps.py draws it with the view.
scenario{ name = "many goroutines", params = { n = 10000 } }
local n = sim.params.n
local ch = sim.chan(64)
for i = 1, n do
  sim.go("worker-" .. i, function()
    while true do
      sim.sleep((i % 97 + 3) .. "ms")
      ch:send(i)
    end
  end)
end
sim.go("sink", function()
  while true do
    ch:recv()
  end
end)
sim.sleep("2s")
sim.exit()
