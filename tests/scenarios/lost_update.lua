-- Two goroutines increment a shared counter without a lock: a read and a
-- write that another goroutine's read and write can come between. The
-- update is lost with one preemption (between a goroutine's read and its
-- write); tests/repro_test.py finds it with explore, replays it and shrinks
-- it to that one preemption.
scenario{ name = "lost update", description = "two unsynchronised increments of a shared counter",
          duration = "1s", params = { n = 2 } }
local c = sim.shared("counter", 0)
local wg = sim.waitgroup()
for i = 1, sim.params.n do
  wg:add(1)
  sim.go(function()
    local v = c.value
    c.value = v + 1
    wg:done()
  end)
end
wg:wait()
sim.expect(c.value == sim.params.n, "no update lost")
