-- Context propagation: the seed's service graph (Production Best Practices).
--
--   A (100ms) -> B (200ms) -> D (100ms), E (150ms)
--             -> C (150ms) -> E (150ms)
--
-- Each service calls its dependencies one after another, each call under
-- context.WithTimeout(ctx, 500ms), then does its own work in a select on
-- time.After(processing) and ctx.Done().
--
-- What to watch: the seed's comments expect the first request (800ms
-- deadline) to succeed and the second (300ms) to fail. Work it out: B needs
-- D + E + its own 200ms = 450ms; C needs E + 150ms = 300ms; A adds its own
-- 100ms: 850ms along the critical path. So the 800ms request fails too, at
-- exactly 800ms, in A's own processing after B and C succeeded. The 300ms
-- request fails at 300ms inside B's processing, 50ms short. The simulation
-- tells the truth, whatever the comments say.
scenario{
  name = "context propagation",
  description = "the seed's A->B,C; B->D,E; C->E graph under 800ms and 300ms deadlines",
  seed = 1,
  params = { first_deadline = "800ms", second_deadline = "300ms" },
}

local D = sim.service{ name = "ServiceD", processing = "100ms" }
local E = sim.service{ name = "ServiceE", processing = "150ms" }
local B = sim.service{ name = "ServiceB", processing = "200ms", deps = { D, E } }
local C = sim.service{ name = "ServiceC", processing = "150ms", deps = { E } }
local A = sim.service{ name = "ServiceA", processing = "100ms", deps = { B, C } }

local function ms(ns) return string.format("%dms", ns // 1000000) end

local function report(label, deadline)
  local t0 = sim.now()
  local ctx, cancel = sim.context.with_timeout(sim.context.background(), deadline)
  print(string.format("%s: deadline %s", label, sim.format_duration(sim.duration(deadline))))
  local result, err, spans = A:process(ctx, label)
  cancel()
  for _, s in ipairs(spans) do
    local outcome = s.err and ("failed: " .. s.err) or "ok"
    local work = s.work_start >= 0 and string.format(", own work from %s", ms(s.work_start - t0)) or ""
    print(string.format("  %s%-8s %5s - %-5s %s%s%s", string.rep("  ", s.depth), s.service,
      ms(s.start - t0), ms(s.finish - t0), outcome, work,
      s.struck and "   <- the deadline struck here" or ""))
  end
  if err then
    print(string.format("  request failed at %s: %s", ms(sim.now() - t0), err))
  else
    print(string.format("  request succeeded at %s: %s", ms(sim.now() - t0), result))
  end
  return result, err, sim.now() - t0, spans
end

print(string.format("critical path of ServiceA: %s", ms(A:critical_path())))
print()
local r1, e1, t1, s1 = report("req-1", sim.params.first_deadline)
print()
local r2, e2, t2, s2 = report("req-2", sim.params.second_deadline)

sim.expect(A:critical_path() == sim.duration("850ms"), "the critical path is 850ms")
if sim.params.first_deadline == "800ms" then
  sim.expect(e1 == "context deadline exceeded" and t1 == sim.duration("800ms"),
    "req-1 (800ms) fails at 800ms in ServiceA's own work, although the seed expects success")
  sim.expect(s1[1].service == "ServiceA" and s1[1].struck, "the deadline struck in ServiceA")
end
if sim.params.second_deadline == "300ms" then
  sim.expect(e2 == "dependency ServiceB failed: context deadline exceeded" and t2 == sim.duration("300ms"),
    "req-2 (300ms) fails at 300ms: ServiceB runs out of time")
end
