-- Broken on purpose: a goroutine polls a flag with sim.yield(). Every
-- yield is a scheduling step, so the instruction budget starts again at
-- each one, and simulated time never reaches main's wake-up at 1s. After
-- --max-steps-per-instant steps (default 1000000) at one instant chansim
-- stops the run: "fatal error: livelock: ...", naming the goroutine that
-- spun, exit 2.
scenario{ name = "livelock_yield", description = "polling with yield keeps time still" }
local done = false
sim.go("poller", function()
  while not done do
    sim.yield()
  end
end)
sim.sleep("1s")
done = true
