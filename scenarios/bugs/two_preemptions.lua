-- Bug zoo: AN ATOMICITY VIOLATION THAT NEEDS TWO PREEMPTIONS. A connection
-- is opened, used briefly and closed (conn set, then cleared); a monitor
-- checks "is there a connection?" and then uses it. The monitor crashes
-- only if the connection was opened before its check (the opener switched
-- out after opening: preemption 1) and closed between its check and its
-- use (the monitor switched out after checking: preemption 2). A schedule
-- that only switches where goroutines block never shows it; PCT with
-- depth 3 (two change points) is made for bugs of this depth. Every
-- access is atomic: there is no data race (--race reports nothing), only
-- a check and a use that are not one atomic step.
--
-- What to watch: "panic: runtime error: invalid memory address or nil
-- pointer dereference" in the monitor.
-- Find it:   chansim explore scenarios/bugs/two_preemptions.lua --strategy pct:3 --first
-- The fix:   scenarios/bugs/two_preemptions_fixed.lua (one read: check and use the same value)
scenario{
  name = "bug: atomicity violation (two preemptions)",
  description = "a monitor checks a connection, then uses it; it can close in between",
  expect_failure = "panic: runtime error: invalid memory address or nil pointer dereference",
}

local conn = sim.atomic("conn", 0)        -- the connection's port, 0 when closed
local wg = sim.waitgroup()
wg:add(2)

sim.go("monitor", function()
  sim.yield()                            -- the monitor starts a little later
  if conn:load() ~= 0 then               -- check ...
    local c = conn:load()                -- ... and use: read again
    if c == 0 then error("runtime error: invalid memory address or nil pointer dereference", 0) end
    print("monitor: connection on port " .. c)
  end
  wg:done()
end)

sim.go("opener", function()
  conn:store(5432)                 -- open
  local queries = 0
  for i = 1, 3 do queries = queries + 1 end
  conn:store(0)                     -- close
  wg:done()
end)

wg:wait()
