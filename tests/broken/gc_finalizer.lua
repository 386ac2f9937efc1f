-- Broken on purpose: a finalizer (__gc) that uses channels, locks and
-- goroutines. Lua would run it wherever its collector steps, with the
-- instruction budget off, or after the run when the simulated runtime is
-- gone (a use after free). Scenarios have no finalizers: setmetatable
-- refuses a metatable with __gc, a clear error at the caller's line.
scenario{ name = "gc_finalizer", description = "a __gc that touches the runtime" }
local ch, mu = sim.chan(1), sim.mutex()
local mt = { __gc = function()
  ch:close()
  mu:try_lock()
  sim.go("from_gc", function() end)
  sim.chan()
end }
for i = 1, 1000 do
  setmetatable({}, mt)
end
