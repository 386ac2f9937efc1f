-- Not broken: the ways around setmetatable's refusal of __gc are closed.
-- A metatable marked with any __gc value is refused (Lua decides on
-- finalization when setmetatable runs, whatever the field holds later),
-- and the metatables of sim objects are read-only views, so no object made
-- later carries a finalizer. A finalizer that loops forever would hang
-- chansim, since Lua runs finalizers with the instruction budget's hook off.
scenario{ name = "gc_metatable", description = "no way to a finalizer" }
print("__gc = true:", pcall(setmetatable, {}, { __gc = true }))
print("assign:", pcall(function() getmetatable(sim.chan()).__gc = function() while true do end end end))
local ran = 0
rawset(getmetatable(sim.chan()), "__gc", function() ran = ran + 1; while true do end end)
local keep = {}
for i = 1, 20000 do
  local c = sim.chan(1)
  keep[i % 10 + 1] = { c, string.rep("x", i % 200) }
end
print("finalizers run:", ran)
print("methods still there:", type(getmetatable(sim.chan()).__index.send))
