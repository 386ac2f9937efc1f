-- pingpong.lua: Lua-level benchmark, the twin of `twins pingpong N` in bench/go/twins.
-- n round trips over two unbuffered channels; run by bench/run.sh.
scenario{ name = "bench_pingpong", params = { n = 1000000 } }
local n = sim.params.n
local ping, pong = sim.chan(), sim.chan()
sim.go("pong", function()
  for _ = 1, n do pong:send(ping:recv() + 1) end
end)
local v = 0
for _ = 1, n do
  ping:send(v)
  v = pong:recv()
end
sim.expect(v == n, "every round trip came back")
