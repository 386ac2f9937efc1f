-- A channel's element has a zero value: a receive from a closed, drained
-- channel gives it, with ok false (typed_zero.go).
--| 7 true
--| 0 false
--| "" false
--| range ended
--| select: 0 false
local ints = sim.chan(1, "ints", 0)
ints:send(7)
ints:close()
local v, ok = ints:recv(); print(v .. " " .. tostring(ok))
v, ok = ints:recv(); print(v .. " " .. tostring(ok))
local strs = sim.chan(0, "strs", "")
strs:close()
v, ok = strs:recv(); print(string.format("%q %s", v, ok))
for _ in ints:range() do end
print("range ended")
local _, sv, sok = sim.select{ { recv = ints } }
print("select: " .. tostring(sv) .. " " .. tostring(sok))
