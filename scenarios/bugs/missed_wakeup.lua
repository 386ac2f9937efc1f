-- Bug zoo: MISSED CONDITION WAKEUP. The waiter checks "ready" without the
-- lock, then waits on the condition; the notifier sets "ready" and signals
-- without the lock. If the signal comes between the waiter's check and
-- its Wait, nobody is waiting yet: the signal is lost and the waiter
-- sleeps for ever.
--
-- What to watch: "fatal error: all goroutines are asleep - deadlock!",
-- the waiter in sync.Cond.Wait and main in sync.WaitGroup.Wait.
-- Find it:   chansim explore scenarios/bugs/missed_wakeup.lua --strategy pct:3 --first
-- The fix:   scenarios/bugs/missed_wakeup_fixed.lua (check and wait under the lock, in a loop)
scenario{
  name = "bug: missed Cond wakeup",
  description = "a condition checked outside its lock; the signal can come before the Wait",
  expect_failure = "deadlock",
}

local mu = sim.mutex()
local cond = sim.cond(mu)
local ready = sim.shared("ready", false)
local wg = sim.waitgroup()
wg:add(2)

sim.go("waiter", function()
  if not ready.value then       -- checked without the lock ...
    mu:lock()
    cond:wait()                 -- ... the signal may already be gone
    mu:unlock()
  end
  print("waiter: ready")
  wg:done()
end)

sim.go("notifier", function()
  ready.value = true            -- set and signalled without the lock
  cond:signal()
  wg:done()
end)

wg:wait()
