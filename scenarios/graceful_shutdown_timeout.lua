-- Graceful shutdown when the timeout strikes: the seed's demo with slow
-- jobs.
--
-- What it shows: the same manager (5s timeout), server and pool (3
-- workers, buffer 10) as graceful_shutdown.lua, but every job takes 2s, so
-- at SIGTERM (3.05s) the pool holds 3 jobs in progress and 9 queued, and
-- "Job 15" is being read: 13 jobs (12 in the seed's variant, which refuses
-- Job 15) need about 9s more, and the manager gives them 5s. At 8.05s
-- "Graceful shutdown timed out", Wait returns, main returns, and the
-- process ends with the pool still busy.
--
-- What to watch: the worker-pool shutdown function returning "context
-- deadline exceeded", and the report's LOST lines: jobs answered 202 that
-- were in progress or still queued when main returned. A graceful shutdown
-- bounded by a timeout can lose accepted work: the timeout has to cover the
-- drain (queue length x job time / workers), or the work must be durable
-- (persisted before the 202) so that the next instance resumes it.
--
-- The seed's bugs (variant = "seed"): as in graceful_shutdown.lua, plus
-- the seed says nothing of what was lost: it logs "Graceful shutdown timed
-- out" and exits. Its shutdownComplete goroutine (waiting on gs.wg) and
-- the worker-pool's own waiter are still blocked when main returns.
scenario{
  name = "graceful shutdown, timeout strikes",
  description = "2s jobs: at SIGTERM 12 accepted jobs need 8s, the 5s timeout strikes and accepted work is lost",
  seed = 1,
  duration = "60s",
  params = { variant = "corrected", sigterm = "3.05s", timeout = "5s", job_time = "2s",
             handler_time = "100ms", jobs = 20 },
}

local P = sim.params
local o = require("lib.shutdown_demo")(P)
local completed, refused_entry, refused_inflight = o.completed, o.refused_entry, o.refused_inflight
local queue_full, refused_conn, lost, unsent = o.queue_full, o.refused_conn, o.lost, o.unsent
local rep, st = o.rep, o.st

sim.expect(rep.timed_out, "the shutdown timeout strikes")
sim.expect(rep.finished - rep.started == sim.duration(P.timeout), "Wait returns exactly timeout after the shutdown began")
sim.expect(#completed + #refused_entry + #refused_inflight + #queue_full + #refused_conn + #unsent + #lost == P.jobs,
  "every job is accounted for")
local pool_err, pool_running
for _, f in ipairs(rep.funcs) do
  if f.name == "worker-pool" then pool_err, pool_running = f.err, f.finished < 0 end
end
-- When the timeout strikes, the function's goroutine and Wait's both wake:
-- under fifo the function returns first; under the exploring strategies
-- Wait may return while the function is still on its way out (as in Go).
sim.expect(pool_err == "context deadline exceeded" or (pool_running and sim.strategy() ~= "fifo"),
  "the worker-pool shutdown function returns ctx.Err()")
if P.sigterm == "3.05s" and P.jobs == 20 and P.job_time == "2s" and P.handler_time == "100ms" and P.timeout == "5s" then
  sim.expect(#completed == 9, "jobs 0-8 complete")
  if P.variant == "seed" then
    sim.expect(#lost == 6, "seed: 6 accepted jobs are lost (9-11 in progress, 12-14 queued)")
    sim.expect(#refused_inflight == 1, "seed: Job 15, in flight at SIGTERM, is refused by the closed pool")
  else
    sim.expect(#lost == 7, "corrected: 7 accepted jobs are lost (9-11 in progress, 12-15 queued)")
    sim.expect(#refused_entry == 2, "corrected: jobs 16 and 17 get 503 during the drain")
  end
  sim.expect(rep.finished == sim.duration("8.05s"), "main returns at 8.05s")
end

-- main returns: the process ends here, whatever is still running.
sim.exit()
