-- Bug zoo: LOCK-ORDER DEADLOCK, fixed. Both transfers lock the accounts in
-- one global order (by name), whatever the direction: no cycle of waits
-- can form.
--
-- Prove it: chansim explore scenarios/bugs/lock_order_fixed.lua --strategy pct:3 --runs 100
scenario{
  name = "bug fixed: lock-order deadlock",
  description = "two transfers lock two accounts in one global order",
}

local accounts = {
  A = { mu = sim.mutex(), balance = sim.shared("A.balance", 100) },
  B = { mu = sim.mutex(), balance = sim.shared("B.balance", 100) },
}

local function transfer(from, to, amount)
  local first, second = from, to
  if second < first then first, second = second, first end
  accounts[first].mu:lock()
  accounts[second].mu:lock()
  local a, b = accounts[from], accounts[to]
  a.balance.value = a.balance.value - amount
  b.balance.value = b.balance.value + amount
  accounts[second].mu:unlock()
  accounts[first].mu:unlock()
end

local wg = sim.waitgroup()
wg:add(2)
sim.go("A->B", function() transfer("A", "B", 10); wg:done() end)
sim.go("B->A", function() transfer("B", "A", 20); wg:done() end)
wg:wait()
print(string.format("A = %d, B = %d", accounts.A.balance.value, accounts.B.balance.value))
sim.expect(accounts.A.balance.value + accounts.B.balance.value == 200, "money is conserved")
