-- Bug zoo (the seed's timed first response): AN EARLY ERROR WINS, fixed.
-- The corrected firstResponse returns the first success, and an error
-- only when every service has failed or timed out (all the errors joined):
-- the fast service's failures no longer fail the call.
--
-- Prove it: chansim explore scenarios/bugs/first_response_error_fixed.lua --runs 100
scenario{
  name = "bug fixed: first response's early error",
  description = "the corrected firstResponse: the first success, errors only when all fail",
}

local fr = sim.first_response{
  operations = { { name = "fast-service", min = "20ms", max = "60ms", fail_pct = 30 },
                 { name = "slow-service", min = "80ms", max = "120ms", fail_pct = 0 } },
  timeout = "400ms", variant = "corrected" }
local failed = 0
for i = 1, 3 do
  local r = fr:call()
  if r.ok then
    print(string.format("call %d: %s from %s", i, r.value, r.from))
  else
    print(string.format("call %d: error: %s", i, r.err))
    failed = failed + 1
  end
end
sim.expect(failed == 0, "a call fails only when every service fails")
