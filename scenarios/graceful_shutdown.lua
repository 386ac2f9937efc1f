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
local fmt = sim.format_duration

-- Create a graceful shutdown manager with 5 second timeout
local gs = sim.graceful_shutdown{ timeout = P.timeout, variant = P.variant }
gs:start()

-- Create worker pool (the handler below submits to it)
local pool
-- Create and start HTTP server
local server = gs:server{ addr = ":8080", handler = function(req)
  sim.sleep(P.handler_time) -- read and validate the request
  local ok, err = pool:submit_job(req)
  if ok then return 202, "accepted " .. req end
  return 503, err
end }
server:start()
pool = gs:worker_pool{ workers = 3, buffer = 10, job_time = P.job_time }
gs:add_shutdown_func("database", function(ctx)
  local i = sim.select{ { recv = sim.after("250ms") }, { recv = ctx:done() } }
  if i == 2 then return ctx:err() end
end)

-- Submit some jobs: one request every 200ms
local responses, sent = {}, {}
sim.go("clients", function()
  for i = 0, P.jobs - 1 do
    local job = "Job " .. i
    sent[job] = sim.now()
    sim.go(job, function()
      local status, body = server:request(job)
      responses[job] = { status = status, body = body, t = sim.now() }
    end)
    sim.sleep("200ms")
  end
end)

sim.at(P.sigterm, function() gs:signal("SIGTERM") end, "kill -TERM")

-- Wait for shutdown signal
sim.log("Server is running.")
gs:wait()
sim.log("Server exited")

-- The report, at the instant main returns.
local rep = gs:report()
print(string.format("\nSIGTERM at %s; shutdown %s -> %s (%s); timed out: %s",
  fmt(rep.signal_at), fmt(rep.started), fmt(rep.finished), fmt(rep.finished - rep.started),
  tostring(rep.timed_out)))
for _, f in ipairs(rep.funcs) do
  print(string.format("  %-12s %s -> %s  %s", f.name, f.started >= 0 and fmt(f.started) or "-",
    f.finished >= 0 and fmt(f.finished) or "still running", f.err or "ok"))
end
local st = server:stats()
print(string.format("server: %s; 202: %d, 503: %d, connection refused: %d; listener closed at %s",
  st.state, st.status_202, st.status_503, st.refused, fmt(st.listener_closed_at)))

print("\nJobs (sent at):")
local by_name = {}
for _, j in ipairs(pool:jobs()) do by_name[j.name] = j end
local completed, refused_entry, refused_inflight, refused_conn, lost, queue_full, unsent = {}, {}, {}, {}, {}, {}, {}
for i = 0, P.jobs - 1 do
  local name = "Job " .. i
  local r, j = responses[name], by_name[name]
  local line
  if not sent[name] then
    line = "never sent: the program had ended"
    unsent[#unsent + 1] = name
  elseif not r then
    line = "no answer: still in flight when the program ended"
    lost[#lost + 1] = name
  elseif r.status == nil then
    line = "refused: " .. r.body
    refused_conn[#refused_conn + 1] = name
  elseif r.status == 202 then
    if j.finished >= 0 then
      line = string.format("202, completed by worker %d at %s%s", j.worker, fmt(j.finished), j.final and " (a final job)" or "")
      completed[#completed + 1] = name
    elseif j.started >= 0 then
      line = string.format("202, LOST: worker %d started it at %s, unfinished when main returned", j.worker, fmt(j.started))
      lost[#lost + 1] = name
    else
      line = "202, LOST: still queued when main returned"
      lost[#lost + 1] = name
    end
  elseif j and j.refused then
    line = string.format("%d after reading the request: %s", r.status, r.body)
    if j.refused == "job queue is full" then queue_full[#queue_full + 1] = name
    else refused_inflight[#refused_inflight + 1] = name end
  else
    line = string.format("%d at entry: %s", r.status, r.body)
    refused_entry[#refused_entry + 1] = name
  end
  print(string.format("  %-7s %-8s %s", name, sent[name] and fmt(sent[name]) or "-", line))
end
print(string.format("\ncompleted %d, refused at entry (503) %d, refused in flight %d, queue full %d, connection refused %d, lost %d, never sent %d",
  #completed, #refused_entry, #refused_inflight, #queue_full, #refused_conn, #lost, #unsent))

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
