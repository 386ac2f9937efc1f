-- buffered.lua: Lua-level benchmark, twin of `twins buffered N` in
-- bench/go/twins: n values through a channel of capacity 1024.
scenario{ name = "bench_buffered", params = { n = 1000000 } }
local n = sim.params.n
local c = sim.chan(1024)
sim.go("producer", function()
  for i = 1, n do c:send(i) end
  c:close()
end)
local sum = 0
for v in c:range() do sum = sum + v end
sim.expect(sum == n * (n + 1) // 2, "every value arrived")
