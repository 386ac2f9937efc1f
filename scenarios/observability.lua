-- Observability: the seed's Prometheus metrics and InstrumentedWorkerPool
-- (Production Best Practices, "Observability Integration").
--
-- Run it with --metrics to get what the seed's /metrics endpoint serves:
--   chansim run scenarios/observability.lua --metrics observability.prom
--
-- The seed's demo: a "high-priority" pool (5 workers, queue 10; jobs of
-- 100ms failing 1 in 10) and a "low-priority" pool (3 workers, queue 20;
-- jobs of 200ms failing 1 in 5); 20 jobs to each, 50ms apart; 5s of
-- waiting; GetMetrics; Shutdown. The metrics are the seed's: requests_total,
-- request_duration_seconds (buckets 1ms, 2ms, ... 512ms), goroutines_total,
-- worker_pool_size, queue_depth, errors_total, in_flight_requests, with its
-- help texts and labels.
--
-- What to watch: the number of series. The seed labels requests_total and
-- request_duration_seconds with endpoint = job.ID ("high-7"), so every job
-- makes a series of each: 40 jobs give 80 series and, because a histogram
-- series is 13 samples (10 buckets, +Inf, _sum, _count), over 560 samples,
-- for a demo whose state fits in a dozen numbers. Each new ID is a new
-- series for ever: at the demo's pace (40 jobs a second) that is 80 new
-- series a second, ~6.9 million a day, and a Prometheus server holds every
-- active series in memory. The corrected default drops the job-ID label:
-- series are bounded by pools x statuses (15 here) whatever the number of
-- jobs. The scenario runs the other variant on a private registry (not
-- written to --metrics) to count both.
--
-- The seed's other bugs (variant = "seed" keeps them; the demo's own
-- timing hides them):
-- - queue_depth is set on Submit and after a job finishes, never when a
--   worker takes a job, so it counts running jobs as queued in between;
-- - Shutdown closes the shutdown channel and the queue together: a
--   worker's select may take either, so jobs still queued can be dropped
--   silently (set wait = "10ms" to see jobs "lost at Shutdown" in the seed
--   variant, none in the corrected one);
-- - NewMetrics's goroutine collector loops forever: nothing can stop it,
--   so the seed's run ends only because main returns.
scenario{
  name = "observability",
  description = "the seed's instrumented worker pools and Prometheus metrics; series with and without the job-ID label",
  seed = 1,
  duration = "60s",
  params = { variant = "corrected", jobs = 20, interval = "50ms", wait = "5s" },
}

local variant = sim.params.variant
local other = variant == "seed" and "corrected" or "seed"
local jobs = tonumber(sim.params.jobs)

local function secs(ns) return string.format("%7.3fs", ns / 1e9) end

-- The seed's main, on metrics m; quiet skips the log lines.
local function demo(m, quiet)
  local say = quiet and function() end or print
  local t0 = sim.now()
  -- Create worker pools
  local high = sim.instrumented_pool{ name = "high-priority", workers = 5, queue = 10, metrics = m }
  local low = sim.instrumented_pool{ name = "low-priority", workers = 3, queue = 20, metrics = m }
  -- Submit jobs to the pools
  for i = 0, jobs - 1 do
    local ok, err = high:submit{ id = "high-" .. i, work = "100ms", fail_one_in = 10, priority = 2,
                                 result = "high priority result", error = "high priority job failed" }
    if not ok then say(string.format("%s Failed to submit high priority job: %s", secs(sim.now() - t0), err)) end
    ok, err = low:submit{ id = "low-" .. i, work = "200ms", fail_one_in = 5, priority = 1,
                          result = "low priority result", error = "low priority job failed" }
    if not ok then say(string.format("%s Failed to submit low priority job: %s", secs(sim.now() - t0), err)) end
    -- Add some delay between submissions
    sim.sleep(sim.params.interval)
  end
  -- Wait for jobs to complete
  sim.sleep(sim.params.wait)
  local hm, lm = high:metrics(), low:metrics()
  -- Shutdown pools
  high:shutdown()
  low:shutdown()
  if not quiet then
    -- The jobs' log lines, in the order they finished.
    local lines = {}
    for _, p in ipairs{ high, low } do
      for _, e in ipairs(p:log()) do
        lines[#lines + 1] = { t = e.t, text = string.format("[%s] Job %s %s: %s", p:name(), e.id,
          e.ok and "succeeded" or "failed", e.message) }
      end
    end
    table.sort(lines, function(a, b) if a.t ~= b.t then return a.t < b.t end return a.text < b.text end)
    for _, l in ipairs(lines) do say(secs(l.t - t0) .. " " .. l.text) end
    say(string.format("High priority pool metrics: map[processing:%d queue_size:%d workers:%d]",
      hm.processing, hm.queue_size, hm.workers))
    say(string.format("Low priority pool metrics: map[processing:%d queue_size:%d workers:%d]",
      lm.processing, lm.queue_size, lm.workers))
    say("Worker pools shut down")
  end
  return high:stats(), low:stats(), hm, lm
end

print("Starting metrics server on :8080 (here: --metrics FILE.prom, written at the end of the run)")
local m = sim.observability_metrics{ variant = variant }
local hs, ls, hm, lm = demo(m, false)
m:stop() -- the corrected collector stops; the seed's cannot

-- The same demo with the other variant, on a private registry.
local cmp = sim.observability_metrics{ variant = other, private = true, collector = false }
local chs, cls = demo(cmp, true)
local ran = { [variant] = { hs, ls }, [other] = { chs, cls } }

local counts = { [variant] = m:count(), [other] = cmp:count() }
print()
local function jobs_run(v) return ran[v][1].succeeded + ran[v][1].failed + ran[v][2].succeeded + ran[v][2].failed end
local function jobs_lost(v) return ran[v][1].lost + ran[v][2].lost end
for _, v in ipairs{ variant, other } do
  print(string.format("%s%s:", v, v == variant and "" or " (private registry)"))
  for i, name in ipairs{ "high-priority", "low-priority" } do
    local st = ran[v][i]
    print(string.format("  %-13s %d submitted, %d succeeded, %d failed, %d rejected (queue full), %d lost at Shutdown; deepest queue %d",
      name, st.submitted, st.succeeded, st.failed, st.rejected, st.lost, st.queue_max))
  end
end
print()
print(string.format("%-26s %-32s %8s %8s   %-22s %8s %8s", "metric", "labels (seed)", "series", "samples",
  "labels (corrected)", "series", "samples"))
local seedm, corrm = variant == "seed" and m or cmp, variant == "seed" and cmp or m
for _, name in ipairs(m:families()) do
  local s, c = counts.seed.families[name], counts.corrected.families[name]
  print(string.format("%-26s %-32s %8d %8d   %-22s %8d %8d", name, table.concat(seedm:labels(name), ","),
    s.series, s.samples, table.concat(corrm:labels(name), ","), c.series, c.samples))
end
print(string.format("%-26s %-32s %8d %8d   %-22s %8d %8d", "total", "", counts.seed.series, counts.seed.samples,
  "", counts.corrected.series, counts.corrected.samples))
local per_job = counts.seed.families.requests_total.series + counts.seed.families.request_duration_seconds.series
local n_jobs = jobs_run("seed")
print()
print(string.format("With the job ID as a label: %d series for %d jobs, %d of them made by a job (%.1f per job); at the demo's pace of %d jobs/s that is %.0f new series a day.",
  counts.seed.series, n_jobs, per_job, per_job / n_jobs, math.floor(2 * 1e9 / sim.duration(sim.params.interval) + 0.5),
  per_job / n_jobs * 2 * 1e9 / sim.duration(sim.params.interval) * 86400))
print(string.format("Without it: %d series, whatever the number of jobs.", counts.corrected.series))

sim.expect(jobs_run("corrected") == 2 * jobs and jobs_lost("corrected") == 0 or jobs > 20,
  "every job of the seed's demo runs (no queue is ever full, Shutdown drains the queue)")
sim.expect(counts.seed.families.requests_total.series == n_jobs
  and counts.seed.families.request_duration_seconds.series == n_jobs,
  "with the job ID as a label, requests_total and request_duration_seconds get one series per job")
sim.expect(counts.corrected.families.requests_total.series <= 4
  and counts.corrected.families.request_duration_seconds.series == 2,
  "without it, one series per pool (and status)")
sim.expect(counts.seed.series >= 5 * counts.corrected.series, "the job-ID label multiplies the series at least fivefold")
if variant == "seed" then
  -- The seed's main returns with its collector goroutine still looping:
  -- the program ends there.
  sim.exit()
end
