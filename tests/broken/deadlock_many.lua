-- Broken on purpose: a deadlock among 1,000 goroutines. Go prints every
-- goroutine; chansim prints the first 100 one by one, then the rest grouped
-- by state and stack ("600 goroutines [chan receive] like goroutine 101"),
-- so that a deadlock among 100,000 is a page, not megabytes.
scenario{ name = "deadlock_many", description = "1,000 goroutines blocked for good" }
local c, d = sim.chan(), sim.chan()
for i = 1, 1000 do
  if i % 3 == 0 then
    sim.go("sender", function() c:send(i) end)
  else
    sim.go("receiver", function() d:recv() end)
  end
end
local wg = sim.waitgroup()
wg:add(1)
wg:wait()
