-- Bug zoo: CHECK-THEN-ACT, fixed. The check and the withdrawal are one
-- critical section: the second withdrawal sees the first one's balance
-- and is refused.
--
-- Prove it: chansim explore scenarios/bugs/check_then_act_fixed.lua --strategy pct:3 --runs 100
scenario{
  name = "bug fixed: check-then-act",
  description = "the balance checked and changed under one lock",
}

local balance = sim.shared("balance", 100)
local mu = sim.mutex()
local wg = sim.waitgroup()
local done = 0
wg:add(2)
for i = 1, 2 do
  sim.go("withdraw" .. i, function()
    mu:lock()
    if balance.value >= 60 then
      balance.value = balance.value - 60
      done = done + 1
    end
    mu:unlock()
    wg:done()
  end)
end
wg:wait()
print(string.format("balance = %d after %d withdrawal(s)", balance.value, done))
sim.expect(balance.value >= 0, "the balance never goes negative")
sim.expect(done == 1, "exactly one withdrawal of 60 from 100")
