-- Bug zoo (the seed's adaptive worker pool): SHUTDOWN RACES THE
-- AUTOSCALER. The autoscaler's scale-down sends on stopCh with a default
-- case; Shutdown closes stopCh. If Shutdown runs between the autoscaler's
-- decision to scale down (its loads of workerCount, activeWorkers and
-- pendingJobs) and its send, the send panics. Real Go: 52 to 586 panics in
-- 20,000 runs at GOMAXPROCS=2.
--
-- What to watch: "panic: send on closed channel" in the autoscaler
-- goroutine, at the scale-down tick that meets Shutdown.
-- Find it:   chansim explore scenarios/bugs/pool_shutdown.lua --strategy random --first
-- The fix:   scenarios/bugs/pool_shutdown_fixed.lua (variant "corrected": the autoscaler
--            stops before the channels close)
scenario{
  name = "bug: pool shutdown vs autoscaler",
  description = "the seed's adaptive pool: Shutdown closes stopCh under the autoscaler's scale-down",
  expect_failure = "panic: send on closed channel",
}

local pool = sim.worker_pool{ name = "pool", min_workers = 1, max_workers = 4, queue_size = 8,
                              scale_interval = "100ms", variant = "seed" }
sim.go("results", function() for _ in pool:results() do end end)
for i = 1, 6 do pool:submit{ id = i, duration = "60ms" } end
sim.sleep("300ms")          -- the pool scaled up; now idle: the next tick scales down
pool:shutdown()             -- ... at the same instant as Shutdown
sim.sleep("1ms")            -- main lives on a moment (the panic comes after Shutdown returns)
print("shut down")
