-- dfs_lost_update.lua's fixed twin: the increments under a mutex.
-- tests/dfs_test.py: every schedule up to 1 and 2 preemptions passes, and
-- the sleep sets run fewer of them than the plain search.
scenario{ name = "locked update", description = "two increments of a shared counter under a mutex" }
local c = sim.shared("counter", 0)
local mu = sim.mutex()
local wg = sim.waitgroup()
for _ = 1, 2 do
  wg:add(1)
  sim.go(function()
    mu:lock()
    local v = c.value
    c.value = v + 1
    mu:unlock()
    wg:done()
  end)
end
wg:wait()
sim.expect(c.value == 2, "no update is lost")
