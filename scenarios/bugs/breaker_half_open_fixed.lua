-- Bug zoo (the seed's circuit breaker): HALF-OPEN OVER-ADMISSION, fixed.
-- The corrected breaker counts the probes it admitted (as gobreaker does)
-- and answers the others "too many requests" until the probes decide:
-- two of the four concurrent requests reach the dependency.
--
-- Prove it: chansim explore scenarios/bugs/breaker_half_open_fixed.lua --runs 100
scenario{
  name = "bug fixed: breaker's half-open over-admission",
  description = "the corrected CircuitBreaker admits success_threshold probes while half-open",
  params = { variant = "corrected" },
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
