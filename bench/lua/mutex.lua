-- mutex.lua: Lua-level benchmark, twin of `twins mutex N`: 4 goroutines
-- share a counter under a mutex (uncontended under FIFO: each runs its
-- loop to its end, as one P does in Go).
scenario{ name = "bench_mutex", params = { n = 1000000 } }
local n = sim.params.n
local mu, wg = sim.mutex(), sim.waitgroup()
local counter = 0
wg:add(4)
for _ = 1, 4 do
  sim.go(function()
    for _ = 1, n // 4 do
      mu:lock()
      counter = counter + 1
      mu:unlock()
    end
    wg:done()
  end)
end
wg:wait()
sim.expect(counter == n // 4 * 4, "no increment was lost")
