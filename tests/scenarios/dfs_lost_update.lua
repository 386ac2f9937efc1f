-- Two goroutines add 1 to a shared counter without a lock: a read and a
-- write each, so a preemption between one's read and its write loses the
-- other's update. tests/dfs_test.py: explore --strategy dfs:1 finds it.
scenario{ name = "lost update", description = "two unsynchronised increments of a shared counter" }
local c = sim.shared("counter", 0)
local wg = sim.waitgroup()
for _ = 1, 2 do
  wg:add(1)
  sim.go(function()
    local v = c.value
    c.value = v + 1
    wg:done()
  end)
end
wg:wait()
sim.expect(c.value == 2, "no update is lost")
