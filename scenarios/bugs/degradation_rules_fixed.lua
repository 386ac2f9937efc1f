-- Bug zoo (the seed's graceful degradation): THE RULES RACE THE REQUESTS,
-- fixed. The corrected service keeps one executor, resized in place, and
-- its feature flags as atomics: a level change and the requests in flight
-- are ordered, and the detector reports nothing.
--
-- Prove it: chansim explore scenarios/bugs/degradation_rules_fixed.lua --race --runs 50
scenario{
  name = "bug fixed: degradation rules race",
  description = "the corrected DegradableService: one executor resized in place, atomic flags",
  gomaxprocs = 4,
}

local svc = sim.degradable_service{ variant = "corrected", base_rate = 50, peak_rate = 400,
                                    thresholds = { reduced = { cpu = 20 } } }
svc:simulate_load("2s")
print(string.format("%d level change(s); level %s", #svc:changes(), svc:level()))
sim.expect(#svc:changes() >= 1, "the level changed under load")
