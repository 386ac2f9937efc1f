-- timers.lua: Lua-level benchmark, twin of `twins timers N`: n goroutines
-- each sleep 5 times for 1 to 2 ms (deadlines out of order).
scenario{ name = "bench_timers", params = { n = 100000 } }
local n = sim.params.n
local wg = sim.waitgroup()
wg:add(n)
for i = 1, n do
  local d = 1000000 + ((i + 1) * 7919 % 1000) * 1000
  sim.go(function()
    for _ = 1, 5 do sim.sleep(d) end
    wg:done()
  end)
end
wg:wait()
