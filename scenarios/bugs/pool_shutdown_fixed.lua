-- Bug zoo (the seed's adaptive worker pool): SHUTDOWN RACES THE
-- AUTOSCALER, fixed. The corrected pool stops its autoscaler and waits for
-- it before it closes any channel, and Submit after Shutdown answers
-- "pool is shut down" instead of sending: nothing sends on a closed
-- channel, whatever the order at the shared instant.
--
-- Prove it: chansim explore scenarios/bugs/pool_shutdown_fixed.lua --strategy random --runs 200
scenario{
  name = "bug fixed: pool shutdown vs autoscaler",
  description = "the corrected adaptive pool: the autoscaler stops before the channels close",
}

local pool = sim.worker_pool{ name = "pool", min_workers = 1, max_workers = 4, queue_size = 8,
                              scale_interval = "100ms", variant = "corrected" }
local got = 0
sim.go("results", function() for _ in pool:results() do got = got + 1 end end)
for i = 1, 6 do pool:submit{ id = i, duration = "60ms" } end
sim.sleep("300ms")
pool:shutdown()
sim.sleep("1ms")
local ok, err = pool:submit{ id = 7 }
print("shut down; a late submit: " .. tostring(err))
sim.expect(not ok, "a submit after Shutdown is refused")
