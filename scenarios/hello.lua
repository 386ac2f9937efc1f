-- hello.lua: hello, goroutines.
--
-- What it shows: sim.go starts goroutines, as Go's `go` statement does;
-- each one sleeps for a while and then says hello; a WaitGroup lets main
-- wait until all of them are done (wg:add, wg:done, wg:wait). Time is
-- simulated: the run takes 300ms of simulated time and no wall time at all.
--
-- What to watch: the greetings come out in the order the goroutines wake
-- up, not the order they were started (the last one started sleeps the
-- least). Each sim.log line starts with the simulated time and the name of
-- the goroutine that printed it. Run it twice: the output is the same, byte
-- for byte, and so is the trace hash in the summary.
--
-- Try: chansim run scenarios/hello.lua --set n=5
scenario{
  name = "hello",
  description = "Hello, goroutines: sim.go, sim.sleep and a WaitGroup",
  params = { n = 3 },
}

local names = { "Ada", "Barbara", "Grace", "Margaret", "Radia", "Frances", "Hedy", "Karen" }
local n = sim.params.n
local wg = sim.waitgroup()
local order = {}

sim.log("starting", n, "goroutines")
for i = 1, n do
  local who = names[(i - 1) % #names + 1]
  wg:add(1)
  -- the first one started sleeps the longest
  local nap = (n - i + 1) * 100 .. "ms"
  sim.go(who, function()
    sim.sleep(nap)
    sim.log("hello, I slept " .. nap)
    order[#order + 1] = i
    wg:done()
  end)
end
wg:wait()
sim.log("all", n, "said hello")

sim.expect(#order == n, "every goroutine said hello")
sim.expect(order[1] == n, "the last one started woke first")
sim.expect(sim.now() == n * 100 * 1000000, "main waited for the slowest (n x 100ms)")
