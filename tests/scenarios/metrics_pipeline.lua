-- metrics_pipeline.lua: a small, fixed workload for the output files test
-- (tests/outputs_test.py): a producer sends 20 jobs at 50ms intervals on a
-- buffered channel, two workers take them and each job takes 120ms of
-- simulated work, instrumented with the seed's metric names.
--
-- Every number is fixed so the test can check exact values: 20 requests
-- (18 "ok", 2 "error": job ids 7 and 14), request_duration_seconds with
-- exponential buckets from 1ms (each observation 0.12s), a queue_depth
-- gauge, and the goroutines_total gauge that the seed's collector sets.
scenario{
  name = "metrics_pipeline",
  description = "Producer, buffered channel, two workers; seed-style metrics",
  duration = "3s",
}

local requests = sim.counter{
  name = "requests_total", help = "Total number of requests processed",
  labels = {"service", "endpoint", "status"},
}
local duration = sim.histogram{
  name = "request_duration_seconds", help = "Request duration in seconds",
  buckets = sim.exponential_buckets(0.001, 2, 10), labels = {"service", "endpoint"},
}
local goroutines = sim.gauge{ name = "goroutines_total", help = "Current number of goroutines" }
local depth = sim.gauge{ name = "queue_depth", help = "Current depth of work queues", labels = {"queue"} }
local errors = sim.counter{ name = "errors_total", help = "Total number of errors", labels = {"service", "type"} }

local jobs = sim.chan(4, "jobs")
local q = depth:with{ queue = "jobs" }
local wg = sim.waitgroup()

for w = 1, 2 do
  wg:add(1)
  sim.go({ name = "worker" .. w, role = "worker" }, function()
    for id in jobs:range() do
      q:set(jobs:len())
      local t0 = sim.now()
      sim.sleep("120ms")
      duration:labels("pool", "/job"):observe_duration(sim.now() - t0)
      if id % 7 == 0 then
        requests:labels("pool", "/job", "error"):inc()
        errors:with{ service = "pool", type = "job_error" }:inc()
      else
        requests:with{ service = "pool", endpoint = "/job", status = "ok" }:inc()
      end
    end
    wg:done()
  end)
end

sim.go({ name = "collector", role = "collector" }, function()
  while true do
    goroutines:set(sim.goroutines())
    sim.sleep("250ms")
  end
end)

for id = 1, 20 do
  jobs:send(id)
  q:set(jobs:len())
  sim.sleep("50ms")
end
jobs:close()
wg:wait()
sim.log("done:", requests:labels("pool", "/job", "ok"):value(), "ok")
sim.expect(requests:labels("pool", "/job", "ok"):value() == 18, "18 requests ok")
sim.expect(duration:labels("pool", "/job"):count() == 20, "20 durations observed")
sim.exit()
