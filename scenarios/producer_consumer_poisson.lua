-- producer_consumer_poisson.lua: a bounded buffer under Poisson arrivals.
--
-- What it shows: requests arrive at random, as a Poisson process
-- (sim.load.poisson: exponential gaps, 80 a second on average); each is
-- put into a buffered channel of capacity 8 (the bounded buffer), and 2
-- consumers take requests from it and serve each for an exponentially
-- distributed time (mean 20ms). The offered load is 80 x 20ms / 2 = 0.8:
-- the consumers are busy 80% of the time, and at that utilisation queues
-- form in bursts even though there is enough capacity on average.
--
-- When the buffer is full, a send blocks: the producer feels backpressure.
-- Every request records when it was *meant* to start (req.intended, set by
-- the load generator), and its latency is measured from there to the end of
-- its service, so the time spent waiting to get into a full buffer counts
-- too (no "coordinated omission").
--
-- What to watch: the queue depth, sampled every 10ms (mean and maximum,
-- never above the capacity), how many requests had to wait for room, and
-- the latency distribution: the median is not far above the mean service
-- time, but p99 is several times larger.
-- Change the seed (--seed 2) for another sample of the same process, or
-- push the load: --set rate=95 (utilisation 0.95: the tail explodes),
-- --set capacity=1 (more backpressure).
scenario{
  name = "producer_consumer_poisson",
  description = "Bounded buffer, Poisson arrivals, 2 consumers: queue depth and latency percentiles",
  params = { rate = 80, capacity = 8, consumers = 2, service_mean = "20ms", duration = "5s" },
}

local P = sim.params
local queue = sim.chan(P.capacity, "queue")
local service = sim.dist.exponential(P.service_mean)
local latencies = {}
local wg = sim.waitgroup()   -- requests not yet served
local blocked = 0            -- requests that waited for room in the buffer

-- The consumers: take a request, serve it, record its latency.
for c = 1, P.consumers do
  sim.go("consumer" .. c, function()
    for req in queue:range() do
      sim.sleep(service())
      latencies[#latencies + 1] = sim.now() - req.intended
      wg:done()
    end
  end)
end

-- The producer side: one goroutine per arrival puts its request into the
-- buffer (blocking while the buffer is full).
local load = sim.load.poisson{
  name = "req", rate = P.rate, duration = P.duration,
  exec = function(req)
    wg:add(1)
    local t0 = sim.now()
    queue:send(req)
    if sim.now() > t0 then blocked = blocked + 1 end
  end,
}

-- Sample the queue depth every 10ms while requests are arriving.
local depth_sum, depth_n, depth_max = 0, 0, 0
sim.every("10ms", function()
  local d = queue:len()
  depth_sum, depth_n = depth_sum + d, depth_n + 1
  if d > depth_max then depth_max = d end
  return sim.now() < sim.duration(P.duration)
end, "sampler")

sim.sleep(P.duration)   -- arrivals stop at `duration`
wg:wait()               -- every request that arrived is served
queue:close()           -- the consumers return

table.sort(latencies)
local function pct(p)
  return latencies[math.max(1, math.ceil(#latencies * p / 100))]
end
local sum = 0
for _, l in ipairs(latencies) do sum = sum + l end
-- durations rounded to 0.1ms for reading
local function fmt(d) return sim.format_duration((d + 50000) // 100000 * 100000) end
sim.log(string.format("%d requests served in %s", #latencies, fmt(sim.now())))
sim.log(string.format("queue depth: mean %.2f, max %d (capacity %d); %d requests waited for room",
                      depth_sum / depth_n, depth_max, P.capacity, blocked))
if #latencies > 0 then
  sim.log(string.format("latency: mean %s  p50 %s  p90 %s  p99 %s  max %s",
                        fmt(sum // #latencies), fmt(pct(50)), fmt(pct(90)), fmt(pct(99)),
                        fmt(latencies[#latencies])))
end

local expected = P.rate * sim.duration(P.duration) // 1000000000
sim.expect(#latencies == load.started, "every request that arrived was served")
sim.expect(math.abs(#latencies - expected) < 4 * math.sqrt(expected), "arrivals within 4 sigma of rate x duration")
sim.expect(depth_max <= P.capacity, "the queue never holds more than its capacity")
sim.expect(#latencies == 0 or (pct(50) <= pct(90) and pct(90) <= pct(99)), "percentiles are ordered")
sim.expect(#latencies > 0 and pct(99) > 4 * sim.duration(P.service_mean), "the tail (p99) is several times the mean service time")
