-- Broken on purpose: a Lua error at run time, in a goroutine. It is a panic
-- of the simulated program: "panic: file:line: message", a dump naming the
-- goroutine ("worker") and its frames, exit 2.
scenario{ name = "runtime_error", description = "indexing nil in a goroutine" }
local function lookup(config)
  return config.server.port       -- config.server is nil
end
sim.go("worker", function()
  sim.sleep("10ms")
  lookup({})
end)
sim.sleep("1s")
