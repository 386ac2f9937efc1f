-- Bug zoo: LOST UPDATE, fixed. The read and the write of the counter are
-- one critical section under a mutex, so no increment can slip between.
--
-- Prove it: chansim explore scenarios/bugs/lost_update_fixed.lua --strategy pct:3 --runs 100
-- (every run passes; with --race no race is reported)
scenario{
  name = "bug fixed: lost update",
  description = "two increments of one counter under a mutex",
}

local count = sim.shared("count", 0)
local mu = sim.mutex()
local wg = sim.waitgroup()
wg:add(2)
for i = 1, 2 do
  sim.go("adder" .. i, function()
    mu:lock()
    local v = count.value
    count.value = v + 1
    mu:unlock()
    wg:done()
  end)
end
wg:wait()
print("count = " .. count.value)
sim.expect(count.value == 2, "no update lost")
