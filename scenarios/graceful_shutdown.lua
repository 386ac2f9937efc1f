-- Graceful shutdown: the seed's demo (Graceful Shutdown Pattern, main()),
-- with SIGTERM injected at a chosen time.
--
-- What it shows: a GracefulShutdown manager with a 5s timeout listening
-- for SIGINT/SIGTERM; an HTTP server on :8080; a worker pool of 3 workers
-- with a buffer of 10 and 100ms jobs. A job arrives every 200ms as an HTTP
-- request ("Job 0" .. "Job 19"); the handler reads the request (100ms),
-- submits the job and answers 202, or 503 with the pool's error. A third
-- shutdown function ("database", 250ms) shows AddShutdownFunc. SIGTERM
-- comes at 2.05s (--set sigterm=...), while "Job 10" is being read. The
-- shutdown functions run concurrently under one 5s context. The report
-- lists every job: completed (by which worker, when), refused (and why),
-- or lost (accepted but never finished when main returned).
--
-- What to watch: the server entity going serving -> shutting down ->
-- stopped, the requests answered 503 or refused, the workers logging
-- "processing final jobs before shutdown", and "Graceful shutdown completed
-- successfully" well inside the timeout. Nothing accepted is lost.
--
-- The seed's bugs (variant = "seed" keeps them):
-- * Its shutdown functions run concurrently with no order, so the worker
--   pool closes its job channel in the same instant as the server begins
--   to drain: "Job 10", already in flight when SIGTERM came, is read and
--   then refused ("worker pool is shutting down"), although the seed says
--   graceful shutdown "ensures in-flight operations complete". SubmitJob
--   tests the manager's IsShuttingDown, not the pool's own state, and its
--   test-then-send races with the close on real threads ("send on closed
--   channel"). The corrected pool waits for "http-server" before closing,
--   and refuses only once it is itself closed (under its mutex).
-- * The handler's 503 "Server is shutting down" is dead code in the seed:
--   http.Server.Shutdown closes the listener in the same instant, so new
--   clients get "connection refused". The corrected server keeps listening
--   for a drain period (500ms) answering 503, so a load balancer can take
--   it out of rotation, then closes the listener.
scenario{
  name = "graceful shutdown",
  description = "the seed's server and 3-worker pool, a job every 200ms, SIGTERM at 2.05s, 5s shutdown timeout",
  seed = 1,
  duration = "60s",
  params = { variant = "corrected", sigterm = "2.05s", timeout = "5s", job_time = "100ms",
             handler_time = "100ms", jobs = 20 },
}

local P = sim.params
local o = require("lib.shutdown_demo")(P)
local completed, refused_entry, refused_inflight = o.completed, o.refused_entry, o.refused_inflight
local queue_full, refused_conn, lost, unsent = o.queue_full, o.refused_conn, o.lost, o.unsent
local rep, st = o.rep, o.st

sim.expect(not rep.timed_out, "the shutdown finishes inside its timeout")
sim.expect(#lost == 0, "nothing accepted is lost")
sim.expect(#completed + #refused_entry + #refused_inflight + #queue_full + #refused_conn + #unsent == P.jobs,
  "every job is accounted for")
for _, f in ipairs(rep.funcs) do sim.expect(f.err == nil, f.name .. " shut down without error") end
if P.sigterm == "2.05s" and P.jobs == 20 and P.job_time == "100ms" and P.handler_time == "100ms" then
  sim.expect(#completed == (P.variant == "seed" and 10 or 11), "jobs 0-9 complete (and Job 10 when corrected)")
  if P.variant == "seed" then
    sim.expect(#refused_inflight == 1 and refused_inflight[1] == "Job 10",
      "seed: Job 10, in flight at SIGTERM, is refused by the already closed pool")
    sim.expect(#refused_entry == 0, "seed: the handler's 503 never runs: the listener closed at once")
    sim.expect(#refused_conn == 1 and #unsent == 8, "seed: Job 11 finds the listener closed; the program ends at 2.3s, before 12-19")
    sim.expect(st.listener_closed_at == sim.duration("2.05s"), "seed: the listener closes at SIGTERM")
  else
    sim.expect(#refused_inflight == 0, "corrected: the in-flight request's job is accepted and completed")
    sim.expect(#refused_entry == 2, "corrected: two requests during the 500ms drain get 503")
    sim.expect(#refused_conn == 0 and #unsent == 7, "corrected: the program ends at 2.55s, before jobs 13-19 are sent")
    sim.expect(st.listener_closed_at == sim.duration("2.55s"), "corrected: the listener closes after the drain")
  end
end

-- main returns: the process ends here, whatever is still running.
sim.exit()
