-- chan_values.lua: every kind of Lua value comes out of a channel as it went
-- in (registered in tests/CMakeLists.txt: every expectation must hold),
-- through an unbuffered send, a buffered one, try_send/try_recv and select,
-- including the integers at the edges of what a channel slot carries
-- without a reference (0, 2^31 - 9, 2^31 - 8) and those it never does.
scenario{ name = "chan_values", description = "channel values round-trip unchanged" }

local t = {}
local f = function() end
local values = { 0, 1, 7, 2147483639, 2147483640, 2147483647, 2147483648, -1, -8, -2147483648,
                 math.maxinteger, math.mininteger, 1.5, -0.5, 0.0, 2^53, "", "hello", t, f,
                 true, false, nil }
local n = 23 -- values[23] is nil: # would stop short

local function same(a, b)
  return a == b and math.type(a) == math.type(b)
end

local function check(how, got)
  for i = 1, n do
    sim.expect(same(got[i], values[i]), how .. ": value " .. i .. " (" .. tostring(values[i]) .. ") came back")
  end
end

-- unbuffered
local ch = sim.chan()
sim.go(function() for i = 1, n do ch:send(values[i]) end end)
local got = {}
for i = 1, n do got[i] = ch:recv() end
check("unbuffered", got)

-- buffered, all in flight at once
local bc = sim.chan(n)
for i = 1, n do bc:send(values[i]) end
got = {}
for i = 1, n do got[i] = bc:recv() end
check("buffered", got)

-- try_send / try_recv, and a try_send that finds no room drops its value
local one = sim.chan(1)
got = {}
for i = 1, n do
  sim.expect(one:try_send(values[i]), "try_send " .. i .. " found room")
  sim.expect(not one:try_send(values[i]), "try_send " .. i .. " found the buffer full")
  local v, ok, done = one:try_recv()
  sim.expect(ok and done, "try_recv " .. i .. " received")
  got[i] = v
end
check("try_send/try_recv", got)

-- select: a send case that wins, and one that loses to a ready receive
local sc = sim.chan(1)
local other = sim.chan(1)
got = {}
for i = 1, n do
  local k = sim.select{ { send = sc, value = values[i] } }
  sim.expect(k == 1, "select send " .. i .. " won")
  other:send(values[i])
  local k2, v = sim.select{ { recv = other }, { send = sc, value = "never" } }
  sim.expect(k2 == 1, "select " .. i .. ": the receive wins over a full channel's send")
  sim.expect(same(v, values[i]), "select recv " .. i .. " came back")
  got[i] = sc:recv()
end
check("select", got)

-- a closed channel's zero value, and ok
local zc = sim.chan(1, "zc", 0)
zc:send(5)
zc:close()
local v, ok = zc:recv()
sim.expect(v == 5 and ok, "the buffered value before the close")
v, ok = zc:recv()
sim.expect(v == 0 and math.type(v) == "integer" and not ok, "the declared zero value once drained")
