-- lib/shutdown_demo.lua: the body shared by graceful_shutdown.lua and
-- graceful_shutdown_timeout.lua: the seed's graceful-shutdown demo (a
-- manager, an HTTP-like server, a worker pool, a job every 200ms, SIGTERM
-- at a chosen time) and its report, one line per job. The scenarios set the
-- parameters and check the outcome.
--
--   local outcome = require("lib.shutdown_demo")(sim.params)

return function(P)
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

  return {
    completed = completed, refused_entry = refused_entry, refused_inflight = refused_inflight,
    queue_full = queue_full, refused_conn = refused_conn, lost = lost, unsent = unsent,
    rep = rep, st = st, pool = pool, sent = sent,
  }
end
