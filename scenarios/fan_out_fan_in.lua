-- Fan-out/fan-in: the seed's distributeAndProcess ("Fan-Out/Fan-In Pattern").
--
-- What it shows: fanOut sends 20 tasks on one unbuffered channel; 5 workers
-- take them as they come, and send their results into one channel buffered
-- for every task; main collects until the workers are done. Tasks whose ID
-- is a multiple of 7 (0, 7, 14) fail, so the seed's summary is
-- "Summary: 17 succeeded, 3 failed".
--
-- Then a second run shows cancellation: each worker now spends 100ms in the
-- seed's processTask (defined by the seed, unused by its worker), and the
-- context is cancelled at 250ms. Tasks 0-9 are done by 200ms; the five in
-- progress end with "context canceled" (each worker's last select then picks
-- at random, as Go does, between sending that result and returning, so some
-- of those results are dropped); the rest are never handed out; every
-- goroutine (fanOut, the workers, the closer) returns.
--
-- What to watch: in the first run the results come back in the order the
-- workers got to them, not by task ID, and all at time 0 (the seed's worker
-- does no simulated work). In the second: the worker entities go busy/idle
-- at 100ms and 200ms, the pool ends "canceled", and no goroutine is left
-- (leaks = "fail" makes a leftover goroutine an error, exit 2).
--
-- The seed's code has no bug here; note only that on cancellation the seed
-- drops the tasks no worker reached without a trace: their results are
-- simply missing (counted below as "missing").
scenario{
  name = "fan_out_fan_in",
  description = "the seed's 20 tasks over 5 workers (multiples of 7 fail), then a cancellation at 250ms",
  seed = 1,
  duration = "10s",
  leaks = "fail",
  params = { tasks = 20, workers = 5, cancel_at = "250ms", process = "100ms" },
}

local P = sim.params

-- The seed's main.
local r = sim.fan_out_fan_in{ tasks = P.tasks, workers = P.workers }
print("Results:")
for _, result in ipairs(r.results) do
  if result.err then
    print(string.format("Task %d failed: %s", result.id, result.err))
  else
    print(string.format("Task %d succeeded: %s", result.id, result.result))
  end
end
print(string.format("\nSummary: %d succeeded, %d failed", r.succeeded, r.failed))
sim.expect(r.succeeded == 17 and r.failed == 3, "the seed's summary: 17 succeeded, 3 failed")

-- Cancellation: 100ms of work per task, the context cancelled at 250ms.
print("\nWith 100ms of work per task and a cancellation at " .. P.cancel_at .. ":")
local ctx, cancel = sim.context.with_cancel(sim.context.background())
sim.at(sim.now() + sim.duration(P.cancel_at), cancel, "canceller")
local t0 = sim.now()
local c = sim.fan_out_fan_in{ tasks = P.tasks, workers = P.workers, process = P.process, ctx = ctx }
for _, result in ipairs(c.results) do
  print(string.format("  %s task %2d by worker %d: %s", sim.format_duration(result.done_at - t0), result.id,
    result.worker, result.err or result.result))
end
print(string.format("Summary: %d succeeded, %d failed, %d canceled, %d never handed out (returned after %s)",
  c.succeeded, c.failed, c.canceled, c.missing, sim.format_duration(c.elapsed)))
sim.sleep("1ms") -- let fanOut see the cancellation too
print(string.format("goroutines alive: %d (main only)", sim.goroutines()))
sim.expect(c.succeeded + c.failed == 10, "tasks 0-9 finish by 200ms, before the cancellation")
sim.expect(c.canceled + c.missing == 10, "the other 10 are cancelled in progress or never handed out")
sim.expect(sim.goroutines() == 1, "no goroutine left behind after the cancellation")
