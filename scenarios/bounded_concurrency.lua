-- Bounded concurrency: the seed's BoundedExecutor ("Bounded Concurrency").
--
-- What it shows: an executor of 5 slots (a buffered channel used as a
-- semaphore) with a 500ms acquisition timeout; the seed's main launches 50
-- operations 50ms apart, each taking 50-249ms and failing 10% of the time,
-- and prints a line per operation and the summary: total, successful,
-- rejected, failed.
--
-- What to watch: at one arrival every 50ms and 150ms per operation on
-- average, about 3 slots are busy: the executor is never the bottleneck,
-- so nothing is rejected, and the failures are the operations' own 10%.
-- The executor entity shows its slots in use (at most 5) and waiters. To
-- see rejections, shorten the interval (--set interval=10ms: 100/s against
-- a capacity of ~33/s) or see bounded_concurrency_burst.lua.
--
-- The seed's executor has no bug. Its main tells rejections from failures
-- by comparing the error text with "operation rejected: context deadline
-- exceeded", so a rejection because the caller's context was cancelled
-- would count as a failure; it cannot happen in this demo.
scenario{
  name = "bounded_concurrency",
  description = "the seed's BoundedExecutor(5, 500ms): 50 operations 50ms apart, 10% failures",
  seed = 1,
  duration = "1m",
  leaks = "fail",
  params = { operations = 50, interval = "50ms", max_concurrent = 5, timeout = "500ms" },
}

local P = sim.params
local r = sim.bounded_concurrency{
  operations = P.operations, interval = P.interval, max_concurrent = P.max_concurrent, timeout = P.timeout,
}

-- The seed's summary.
print("\nSummary:")
print(string.format("- Total operations: %d", r.total))
print(string.format("- Successful: %d", r.successful))
print(string.format("- Rejected: %d", r.rejected))
print(string.format("- Failed: %d", r.failed))
print(string.format("(at most %d operations ran at once; %s in all)", r.in_use_max, sim.format_duration(r.elapsed)))

sim.expect(r.total == P.operations, "every operation is counted")
sim.expect(r.successful + r.rejected + r.failed == r.total, "each one succeeded, was rejected or failed")
sim.expect(r.in_use_max <= P.max_concurrent, "never more than max_concurrent at once")
if P.interval == "50ms" and P.operations == 50 and P.max_concurrent == 5 then
  sim.expect(r.rejected == 0, "at the seed's pace nothing is rejected")
  sim.expect(r.failed >= 1 and r.failed <= 12, "about 10% fail on their own")
end
