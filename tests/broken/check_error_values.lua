-- Broken on purpose: checks that fail by raising values that are not
-- strings (a table, nil). The report names the kind of value, as Lua's own
-- interpreter does, instead of "(null)"; and the prelude's argument errors
-- (sim.every, sim.at) point at the scenario's line, not at prelude.lua.
scenario{ name = "check_error_values", description = "errors that are not strings" }
sim.invariant(function() error({}) end, "table raised")
sim.invariant(function() error() end, "nil raised")
sim.finally(function() error(setmetatable({}, { __tostring = function() return "x" end })) end)
print(pcall(function() sim.every(0, function() end) end))
print(pcall(function() sim.every("1s", 5) end))
print(pcall(function() sim.at("1s") end))
sim.sleep("1ms")
