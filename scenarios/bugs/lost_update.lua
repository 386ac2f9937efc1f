-- Bug zoo: LOST UPDATE. Two goroutines do `count = count + 1` on a shared
-- counter with no lock: each reads, then writes back its own +1. If both
-- read before either writes, one increment is lost.
--
-- What to watch: the final count is 1, not 2 (the check "no update lost"
-- fails), and --race reports the read/write pair.
-- Find it:   chansim explore scenarios/bugs/lost_update.lua --strategy pct:3 --first
-- The fix:   scenarios/bugs/lost_update_fixed.lua (the increment under a mutex)
scenario{
  name = "bug: lost update",
  description = "two unsynchronised increments of one counter; one can be lost",
  expect_failure = "invariant: no update lost",
}

local count = sim.shared("count", 0)
local wg = sim.waitgroup()
wg:add(2)
for i = 1, 2 do
  sim.go("adder" .. i, function()
    local v = count.value     -- read ...
    count.value = v + 1       -- ... then write: another adder may have written between
    wg:done()
  end)
end
wg:wait()
print("count = " .. count.value)
sim.expect(count.value == 2, "no update lost")
