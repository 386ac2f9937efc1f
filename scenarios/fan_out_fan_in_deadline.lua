-- Fan-out/fan-in under load and deadlines: what the number of workers buys
-- when every batch has a deadline and the work slows down.
--
-- What it shows: batches of 20 tasks arrive at 2 per second for 10s
-- (sim.load.constant_arrival_rate); each batch is one call of the seed's
-- distributeAndProcess with its own 1s context, and each task now takes
-- 50-250ms of work (the seed's processTask) and, besides the seed's
-- multiples of 7, fails 5% of the time at random. From 4s to 7s a fault
-- makes the work three times slower (150-750ms), as a slow dependency
-- would. The same arrivals go through three pools: 1, 5 and 20 workers.
--
-- What to watch, per pool and phase: how many results come back before
-- the deadline (succeeded + failed), how many are cut off (canceled in
-- progress or never handed out), and how long a batch takes.
--  - 1 worker: about 6 of 20 tasks fit in 1s; most of every batch is lost.
--  - 5 workers: a healthy batch finishes in about 0.6s; in the slow phase
--    the deadline cuts every batch short.
--  - 20 workers: each task gets its own worker; a batch takes as long as
--    its slowest task (under 750ms even in the slow phase), so every batch
--    completes.
-- Nothing is left behind: every cancelled batch's goroutines return
-- (leaks = "fail", and the count of goroutines alive is checked at the
-- end).
scenario{
  name = "fan_out_fan_in_deadline",
  description = "batches of 20 tasks at 2/s with a 1s deadline each, through 1, 5 and 20 workers, with a slow phase",
  seed = 2,
  duration = "1m",
  leaks = "fail",
  params = { rate = 2, deadline = "1s", slow_from = "4s", slow_until = "7s" },
}

local P = sim.params
local pools = { 1, 5, 20 }
local slow_from, slow_until = sim.duration(P.slow_from), sim.duration(P.slow_until)
local phases = { "healthy", "slow" }

local rec = {}
for _, w in ipairs(pools) do
  rec[w] = {}
  for _, ph in ipairs(phases) do
    rec[w][ph] = { batches = 0, complete = 0, returned = 0, cut = 0, elapsed = 0 }
  end
end

local wg = sim.waitgroup()
for _, w in ipairs(pools) do
  sim.load.constant_arrival_rate{
    name = "batch-w" .. w, rate = P.rate, duration = "10s",
    exec = function(req)
      wg:add(1)
      local slow = req.intended >= slow_from and req.intended < slow_until
      local r = sim.fan_out_fan_in{
        tasks = 20, workers = w, fail_pct = 5, timeout = P.deadline,
        process = slow and { "150ms", "750ms" } or { "50ms", "250ms" },
      }
      local c = rec[w][slow and "slow" or "healthy"]
      c.batches = c.batches + 1
      c.returned = c.returned + r.succeeded + r.failed
      c.cut = c.cut + r.canceled + r.missing
      if r.canceled + r.missing == 0 then c.complete = c.complete + 1 end
      c.elapsed = c.elapsed + r.elapsed
      wg:done()
    end,
  }
end
sim.sleep("10s")
wg:wait()

print(string.format("%7s %-8s %7s %9s %12s %9s %12s", "workers", "phase", "batches", "complete",
  "results/20", "cut/20", "avg elapsed"))
for _, w in ipairs(pools) do
  for _, ph in ipairs(phases) do
    local c = rec[w][ph]
    print(string.format("%7d %-8s %7d %9d %12.1f %9.1f %12s", w, ph, c.batches, c.complete,
      c.returned / c.batches, c.cut / c.batches, string.format("%.0fms", c.elapsed / c.batches / 1e6)))
  end
end
sim.sleep("1s") -- every timer of the last batches has fired
print(string.format("goroutines alive at the end: %d", sim.goroutines()))

sim.expect(rec[1].healthy.complete == 0, "1 worker: no batch of 20 fits in 1s")
sim.expect(rec[5].healthy.complete > rec[5].healthy.batches / 2, "5 workers: most healthy batches complete")
sim.expect(rec[5].slow.complete < rec[5].slow.batches / 4, "5 workers: the slow phase cuts most batches")
sim.expect(rec[20].healthy.complete == rec[20].healthy.batches, "20 workers: every healthy batch completes")
sim.expect(rec[20].slow.complete == rec[20].slow.batches, "20 workers: even slow batches complete")
sim.expect(sim.goroutines() == 1, "no goroutine is left behind by the cancelled batches")
