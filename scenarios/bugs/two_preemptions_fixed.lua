-- Bug zoo: AN ATOMICITY VIOLATION THAT NEEDS TWO PREEMPTIONS, fixed. The
-- monitor reads the connection once and uses the value it checked (in Go:
-- copy the pointer, or hold the lock across the check and the use).
--
-- Prove it: chansim explore scenarios/bugs/two_preemptions_fixed.lua --strategy pct:3 --runs 100
scenario{
  name = "bug fixed: atomicity violation (two preemptions)",
  description = "the monitor checks and uses one read of the connection",
}

local conn = sim.atomic("conn", 0)        -- the connection's port, 0 when closed
local wg = sim.waitgroup()
wg:add(2)

sim.go("monitor", function()
  sim.yield()
  local c = conn:load()                  -- one read: checked and used
  if c ~= 0 then
    print("monitor: connection on port " .. c)
  end
  wg:done()
end)

sim.go("opener", function()
  conn:store(5432)
  local queries = 0
  for i = 1, 3 do queries = queries + 1 end
  conn:store(0)
  wg:done()
end)

wg:wait()
