-- Bug zoo (the seed's circuit breaker): HALF-OPEN OVER-ADMISSION. After
-- the reset timeout the breaker is half-open and should let through only
-- as many probes as its success threshold (2). The seed compares the
-- finished probes (successCount + failureCount) with the threshold, so
-- every request that arrives while the first probes are still in flight
-- is let through: four concurrent requests, four calls to a dependency
-- that is still recovering.
--
-- What to watch: "admitted 4 in half-open" and the failed check "half-open
-- admits at most success_threshold probes".
-- Find it:   chansim explore scenarios/bugs/breaker_half_open.lua --first
-- The fix:   scenarios/bugs/breaker_half_open_fixed.lua (count the probes admitted, not the
--            probes finished; the rest get "too many requests")
scenario{
  name = "bug: breaker's half-open over-admission",
  description = "the seed's CircuitBreaker lets every concurrent request through while half-open",
  expect_failure = "invariant: half-open admits at most success_threshold probes",
  params = { variant = "seed" },
}

local cb = sim.breaker{ name = "dep", failure_threshold = 1, success_threshold = 2,
                        reset_timeout = "100ms", variant = sim.params.variant, log = false }
local function call(ctx)
  local i = sim.select{ { recv = sim.after("50ms") }, { recv = ctx:done() } }
  if i == 2 then return nil, ctx:err() end
  return "ok"
end

cb:execute(function() return nil, "upstream 503" end)   -- opens the breaker
sim.sleep("150ms")                                        -- past the reset timeout
local wg, answers = sim.waitgroup(), {}
wg:add(4)
for r = 1, 4 do
  sim.go("request" .. r, function()
    local _, err = cb:execute(call, "1s")
    answers[#answers + 1] = err or "ok"
    wg:done()
  end)
end
wg:wait()
local admitted = cb:metrics().half_open_admitted_max
print(string.format("admitted %d in half-open; answers: %s", admitted, table.concat(answers, ", ")))
sim.expect(admitted <= 2, "half-open admits at most success_threshold probes")
