-- spawn.lua: Lua-level benchmark, twin of `twins spawn N`: n goroutines
-- started and run to their end, 1000 at a time.
scenario{ name = "bench_spawn", params = { n = 100000 } }
local n = sim.params.n
local wg = sim.waitgroup()
local count = 0
local function body() count = count + 1; wg:done() end
for _ = 1, n // 1000 do
  wg:add(1000)
  for _ = 1, 1000 do sim.go(body) end
  wg:wait()
end
sim.expect(count == n // 1000 * 1000, "every goroutine ran")
