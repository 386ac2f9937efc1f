-- Not broken: goroutines started with many arguments (sim.go, errgroup:go,
-- node:go with table.unpack of 250 values). Copying the arguments onto the
-- goroutine's Lua thread once overran its stack ("free(): invalid next
-- size" from 39 arguments, a segfault from 40).
scenario{ name = "goroutine_many_args", description = "goroutines with 250 arguments" }
local args = {}
for i = 1, 250 do args[i] = i end
local function sum(...)
  local n, s = select("#", ...), 0
  for i = 1, n do s = s + select(i, ...) end
  return n, s
end
local wg = sim.waitgroup()
wg:add(1)
sim.go("many", function(...) print("sim.go", sum(...)); wg:done() end, table.unpack(args))
wg:wait()
local g = sim.errgroup(sim.context.background())
g:go(function(...) print("errgroup:go", sum(...)) end, table.unpack(args))
g:wait()
local c = sim.cluster{ nodes = { "n1" } }
c:start()
local n1 = c:node("n1")
wg:add(1)
n1:go("many", function(...) print("node:go", sum(...)); wg:done() end, table.unpack(args))
wg:wait()
