-- Bug zoo (the seed's timed first response): AN EARLY ERROR WINS. The
-- same request goes to a fast and a slower service; the seed sends a
-- failure into the same one-slot channel as the successes and returns
-- whatever arrives first. When the fast service fails (30% of its calls
-- here) its error comes back before the slower service's success, and the
-- call fails although the slower service never fails.
--
-- What to watch: "call N: error: fast-service operation failed" and the
-- failed check "a call fails only when every service fails".
-- Find it:   chansim explore scenarios/bugs/first_response_error.lua --first
-- The fix:   scenarios/bugs/first_response_error_fixed.lua (return the first success; an
--            error only when every service failed or timed out)
scenario{
  name = "bug: first response's early error",
  description = "the seed's firstResponse returns a fast failure before a slower success",
  expect_failure = "invariant: a call fails only when every service fails",
}

local fr = sim.first_response{
  operations = { { name = "fast-service", min = "20ms", max = "60ms", fail_pct = 30 },
                 { name = "slow-service", min = "80ms", max = "120ms", fail_pct = 0 } },
  timeout = "400ms", variant = "seed" }
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
