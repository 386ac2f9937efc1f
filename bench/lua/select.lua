-- select.lua: Lua-level benchmark, twin of `twins select N`: a select over
-- four channels of which one (buffered, refilled) is ready.
scenario{ name = "bench_select", params = { n = 1000000 } }
local n = sim.params.n
local a, b, c, ready = sim.chan(), sim.chan(), sim.chan(), sim.chan(1024)
local cases = { { recv = a }, { recv = b }, { recv = c }, { recv = ready } }
local sum, done = 0, 0
while done < n do
  for i = 1, 1024 do ready:send(i) end
  for _ = 1, 1024 do
    local i, v = sim.select(cases)
    if i ~= 4 then error("wrong case") end
    sum = sum + v
  end
  done = done + 1024
end
sim.expect(sum > 0, "every select took the ready case")
