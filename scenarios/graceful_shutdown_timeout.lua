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

sim.expect(rep.timed_out, "the shutdown timeout strikes")
sim.expect(rep.finished - rep.started == sim.duration(P.timeout), "Wait returns exactly timeout after the shutdown began")
sim.expect(#completed + #refused_entry + #refused_inflight + #queue_full + #refused_conn + #unsent + #lost == P.jobs,
  "every job is accounted for")
local pool_err
for _, f in ipairs(rep.funcs) do if f.name == "worker-pool" then pool_err = f.err end end
sim.expect(pool_err == "context deadline exceeded", "the worker-pool shutdown function returns ctx.Err()")
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
