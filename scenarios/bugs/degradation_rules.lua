-- Bug zoo (the seed's graceful degradation): THE RULES RACE THE REQUESTS.
-- When the load manager changes the service level, the seed's rule
-- overwrites featureFlags, retryEnabled and workerPool with no lock while
-- requests in flight read them: data races that go run -race reports,
-- and so does chansim's detector.
--
-- What to watch: "WARNING: DATA RACE" on featureFlags and on workerPool:
-- the rule's write (in the load manager's update) against a request's
-- read (goroutine req-N).
-- Find it:   chansim run scenarios/bugs/degradation_rules.lua
--            (expect_failure = "race" turns the detector on)
-- The fix:   scenarios/bugs/degradation_rules_fixed.lua (the corrected service keeps one
--            executor, resized in place, and its flags as atomics)
scenario{
  name = "bug: degradation rules race",
  description = "the seed's DegradableService: a level change rewrites the flags and pool under live requests",
  gomaxprocs = 4,
  expect_failure = "race",
}

-- A low CPU threshold for Reduced: the level changes within the first seconds.
local svc = sim.degradable_service{ variant = "seed", base_rate = 50, peak_rate = 400,
                                    thresholds = { reduced = { cpu = 20 } } }
svc:simulate_load("2s")
print(string.format("%d level change(s); level %s", #svc:changes(), svc:level()))
