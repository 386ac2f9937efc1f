-- Broken on purpose: several misspelt options, in a goroutine, under pcall.
-- A scenario error cannot be recovered: the run ends with exit 3 and every
-- unknown option is named, sorted (never in Lua's hash order, which
-- changes from run to run).
scenario{ name = "option_goroutine", description = "unknown options in a goroutine under pcall" }
sim.go("worker", function()
  sim.sleep("10ms")
  local ok, err = pcall(sim.worker_pool, { workrs = 3, min_workers = 1, queue = 5, Log = false })
  print("never printed", ok, err)
end)
sim.sleep("1s")
print("never printed either")
