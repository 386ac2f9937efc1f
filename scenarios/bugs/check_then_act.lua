-- Bug zoo: CHECK-THEN-ACT. Two withdrawals of 60 from an account holding
-- 100. Each checks the balance, then subtracts: if both check before
-- either subtracts, both pass the check and the balance goes to -20.
--
-- What to watch: "balance = -20" and the failed check "the balance never
-- goes negative"; with --race, the read in the check against the other
-- withdrawal's write.
-- Find it:   chansim explore scenarios/bugs/check_then_act.lua --strategy pct:3 --first
-- The fix:   scenarios/bugs/check_then_act_fixed.lua (check and act under one lock)
scenario{
  name = "bug: check-then-act",
  description = "two withdrawals check the balance, then act on a stale check",
  expect_failure = "invariant: the balance never goes negative",
}

local balance = sim.shared("balance", 100)
local wg = sim.waitgroup()
local done = 0
wg:add(2)
for i = 1, 2 do
  sim.go("withdraw" .. i, function()
    if balance.value >= 60 then           -- check ...
      balance.value = balance.value - 60  -- ... then act, on what may no longer hold
      done = done + 1
    end
    wg:done()
  end)
end
wg:wait()
print(string.format("balance = %d after %d withdrawal(s)", balance.value, done))
sim.expect(balance.value >= 0, "the balance never goes negative")
