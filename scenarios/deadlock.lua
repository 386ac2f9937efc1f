-- deadlock.lua: the classic WaitGroup-before-receive deadlock.
--
-- What it shows: main starts workers that send their results on an
-- unbuffered channel, then calls wg:wait() before it reads any result.
-- Each worker blocks in its send (nobody receives yet), so none reaches
-- wg:done(); main blocks in wg:wait(). No goroutine can run and no timer is
-- pending: Go's runtime, and chansim, stop the program with
--
--   fatal error: all goroutines are asleep - deadlock!
--
-- followed by a dump of every goroutine and what it waits for, and exit
-- status 2.
--
-- What to watch: in the dump, goroutine 1 (main) waits in
-- [sync.WaitGroup.Wait] at the wg:wait() line and each worker waits in
-- [chan send] at its send, "created by main.main in goroutine 1". The
-- expectations checked before the deadlock still appear in the summary.
--
-- The fix: receive while the workers run. Run it with --set fixed=true:
-- main collects the results in a goroutine of its own, then waits.
scenario{
  name = "deadlock",
  description = "WaitGroup.Wait before reading an unbuffered channel: all goroutines are asleep",
  params = { workers = 3, fixed = false },
}

local n = sim.params.workers
local results = sim.chan()   -- unbuffered: a send waits for a receiver
local wg = sim.waitgroup()

for i = 1, n do
  wg:add(1)
  sim.go("worker" .. i, function()
    sim.sleep(i * 10 .. "ms")        -- do some work
    results:send(i * i)              -- blocks until someone receives
    wg:done()
  end)
end
sim.expect(wg:count() == n, "every worker registered with the WaitGroup")

local sum = 0
if sim.params.fixed then
  local collected = sim.chan()
  sim.go("collector", function()
    for v in results:range() do sum = sum + v end
    collected:close()
  end)
  wg:wait()
  results:close()
  collected:recv()
  sim.log("sum of squares:", sum)
  sim.expect(sum == n * (n + 1) * (2 * n + 1) // 6, "the fixed version collects every result")
else
  wg:wait()                          -- deadlock: the workers wait for us
  for v in results:range() do sum = sum + v end
  sim.log("never reached:", sum)
end
