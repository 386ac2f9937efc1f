-- Broken on purpose: sim.dist called as a function with a name that is not
-- a distribution. sim.dist is a table of constructors; once this was Lua's
-- "attempt to call a table value", now the error is at this file's line
-- and names the valid distributions (an unknown field, sim.dist.gauss,
-- too: the first pcall below). Exit 2, as any error raised by the scenario.
scenario{ name = "dist_unknown", description = "a distribution that does not exist" }
print(pcall(function() return sim.dist.gauss(1, 2) end))
local d = sim.dist("nonsense")
