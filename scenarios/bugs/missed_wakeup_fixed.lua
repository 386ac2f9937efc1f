-- Bug zoo: MISSED CONDITION WAKEUP, fixed. The waiter checks the
-- condition under the lock, in a loop around Wait (which releases the lock
-- atomically); the notifier changes it under the lock before signalling.
-- A signal can no longer fall between the check and the Wait.
--
-- Prove it: chansim explore scenarios/bugs/missed_wakeup_fixed.lua --strategy pct:3 --runs 100
scenario{
  name = "bug fixed: missed Cond wakeup",
  description = "the condition checked and changed under its lock",
}

local mu = sim.mutex()
local cond = sim.cond(mu)
local ready = sim.shared("ready", false)
local wg = sim.waitgroup()
wg:add(2)

sim.go("waiter", function()
  mu:lock()
  while not ready.value do
    cond:wait()
  end
  mu:unlock()
  print("waiter: ready")
  wg:done()
end)

sim.go("notifier", function()
  mu:lock()
  ready.value = true
  cond:signal()
  mu:unlock()
  wg:done()
end)

wg:wait()
