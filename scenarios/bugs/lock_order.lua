-- Bug zoo: LOCK-ORDER DEADLOCK. A transfer from A to B locks A then B; a
-- transfer from B to A locks B then A. If each takes its first lock before
-- the other takes its second, each waits for the other for ever.
--
-- What to watch: "fatal error: all goroutines are asleep - deadlock!" and
-- the dump: one transfer waits on account B's mutex held by the other,
-- which waits on account A's.
-- Find it:   chansim explore scenarios/bugs/lock_order.lua --strategy pct:3 --first
-- The fix:   scenarios/bugs/lock_order_fixed.lua (locks always taken in one order)
scenario{
  name = "bug: lock-order deadlock",
  description = "two transfers lock two accounts in opposite orders",
  expect_failure = "deadlock",
}

local accounts = {
  A = { mu = sim.mutex(), balance = sim.shared("A.balance", 100) },
  B = { mu = sim.mutex(), balance = sim.shared("B.balance", 100) },
}

local function transfer(from, to, amount)
  local a, b = accounts[from], accounts[to]
  a.mu:lock()                         -- the order depends on the direction ...
  b.mu:lock()                         -- ... so two directions can hold one each
  a.balance.value = a.balance.value - amount
  b.balance.value = b.balance.value + amount
  b.mu:unlock()
  a.mu:unlock()
end

local wg = sim.waitgroup()
wg:add(2)
sim.go("A->B", function() transfer("A", "B", 10); wg:done() end)
sim.go("B->A", function() transfer("B", "A", 20); wg:done() end)
wg:wait()
print(string.format("A = %d, B = %d", accounts.A.balance.value, accounts.B.balance.value))
