-- Multi-stage pipeline under load: backpressure, reordering and a deadline,
-- with 1, 3 and 6 workers in the parallel stage.
--
-- What it shows: requests arrive as a Poisson process at 40 per second for
-- 20s (sim.load.poisson); each submits one item to the seed's pipeline
-- (Validate -> Transform -> ParallelStage(N) -> Enrich, 0-99ms per item in
-- the parallel stage, about 20 items per second per worker). Three
-- pipelines run side by side on their own arrivals: N = 1, 3 and 6. Every
-- pipeline's context times out at 21s, as the seed's 5s context would.
--
-- What to watch, per N: how long a request waits to hand its item in
-- (submit wait: the channels are unbuffered, so a slow stage pushes back
-- all the way to the callers), the end-to-end latency, how many items come
-- out of order, and how many are still in the pipeline, or waiting to get
-- in, when the deadline strikes: those are dropped without a word, as the
-- seed's stages return on ctx.Done.
--  - N = 1: capacity ~20/s against 40/s offered: the queue of blocked
--    callers grows for the whole run, latency climbs to seconds, and at
--    the deadline hundreds of requests are still waiting. No reordering.
--  - N = 3: enough capacity; latency stays near the processing time;
--    items overtake each other in the parallel stage.
--  - N = 6: more reordering, little latency gain.
scenario{
  name = "pipeline_backpressure",
  description = "Poisson arrivals at 40/s into the seed's pipeline with 1, 3 and 6 parallel workers",
  seed = 11,
  duration = "1m",
  leaks = "fail",
  params = { rate = 40, run = "20s", deadline = "21s" },
}

local P = sim.params
local configs = { 1, 3, 6 }
local report = {}
local wg = sim.waitgroup()

local function pct(sorted, p)
  if #sorted == 0 then return 0 end
  return sorted[math.max(1, (#sorted * p + 99) // 100)]
end

for _, n in ipairs(configs) do
  local p = sim.pipeline{ workers = n, timeout = P.deadline }
  p:start()
  local arrived, submitted, waits, e2e = {}, 0, {}, {}
  local submitting = sim.waitgroup()
  local gen = sim.load.poisson{
    name = "req-w" .. n, rate = P.rate, duration = P.run,
    exec = function(req)
      submitting:add(1)
      arrived[req.id] = req.intended
      if p:submit("request " .. req.id, req.id) then
        submitted = submitted + 1
        waits[#waits + 1] = sim.now() - req.intended
      end
      submitting:done()
    end,
  }
  wg:add(1)
  sim.go({ name = "collector-w" .. n, role = "consumer" }, function()
    for r in p:results() do
      e2e[#e2e + 1] = r.out_at - arrived[r.id]
    end
    table.sort(waits)
    table.sort(e2e)
    local st = p:stats()
    report[n] = {
      arrived = gen.started, submitted = submitted, received = st.received, overtaken = st.overtaken,
      wait_p99 = pct(waits, 99), wait_max = waits[#waits] or 0,
      e2e_p50 = pct(e2e, 50), e2e_p99 = pct(e2e, 99),
    }
    wg:done()
  end)
  -- The source closes once the arrivals are over and every submit has
  -- returned (its item taken, or refused at the deadline): closing it under
  -- a blocked sender would be Go's "send on closed channel".
  sim.go("closer-w" .. n, function()
    sim.sleep(P.run)
    submitting:wait()
    p:close()
  end)
end
wg:wait()

local function ms(ns) return string.format("%.0fms", ns / 1e6) end
print(string.format("%7s %7s %9s %8s %9s %10s %10s %9s %9s %9s", "workers", "arrived", "submitted",
  "out", "dropped", "overtaken", "wait p99", "wait max", "e2e p50", "e2e p99"))
for _, n in ipairs(configs) do
  local r = report[n]
  print(string.format("%7d %7d %9d %8d %9d %10d %10s %9s %9s %9s", n, r.arrived, r.submitted, r.received,
    r.arrived - r.received, r.overtaken, ms(r.wait_p99), ms(r.wait_max), ms(r.e2e_p50), ms(r.e2e_p99)))
end

local one, three, six = report[1], report[3], report[6]
sim.expect(one.overtaken == 0, "one worker keeps the order")
sim.expect(three.overtaken > 0 and six.overtaken > 0, "several workers reorder the items")
sim.expect(one.arrived - one.received > 100, "one worker: the backlog is still waiting when the deadline strikes")
sim.expect(three.arrived == three.received and six.arrived == six.received,
  "three and six workers keep up: every request comes out")
sim.expect(one.e2e_p99 > 10 * three.e2e_p99, "one worker: latency grows with the backlog")
