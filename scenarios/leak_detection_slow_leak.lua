-- Goroutine leak detection against a slow leak hidden among bursts.
--
-- What it shows: a service whose request handler forgets, one request in
-- seven, to read the reply of a helper goroutine: the helper blocks for
-- ever in "chan send" (a classic leak: an unbuffered reply channel whose
-- receiver gave up). Requests come every 100ms, so one goroutine leaks
-- every 700ms (from 30ms on, so that no request lands on a sampling
-- instant). Every 4s a batch job starts 60 workers for 1.5s: honest,
-- temporary goroutines. Two detectors watch (interval 500ms, threshold
-- 0.05, window 10, alert threshold 40):
--   B  the seed's logic
--   C  the corrected logic
--
-- What to watch: B fires on batch bursts (the count jumps by 60 in one
-- interval: growth far above 5%) once the leak has lifted the count near
-- the threshold, and never on the leak itself: a leaked goroutine every
-- 700ms is under 5% growth per interval. C ignores the bursts (they end
-- within its 5s window) and fires when the leaked goroutines alone keep
-- the count above baseline + 40 for a whole window (at 32.6s, 46 leaked),
-- and would again at each further 40. Its callback prints the goroutine
-- profile: the leak is the group of 46 "fetchProfile" goroutines in "chan
-- send", the oldest blocked since 600ms. The run ends with 85 leaked
-- goroutines, listed by the summary's leak report.
--
-- The seed's bug: one sample against the previous one decides; the window
-- (samples) is collected and never used, so bursts are alarms and slow
-- leaks are invisible.
scenario{
  name = "goroutine leak detection, slow leak",
  description = "a goroutine leaked every 700ms among 60-goroutine batch bursts: the seed's detector sees the bursts, not the leak",
  seed = 1,
  duration = "70s",
  params = { run_for = "60s", leak_every = 7, alert_threshold = 40 },
}

local P = sim.params
local function stamp()
  local t = sim.now()
  return string.format("[%d.%06ds]", t // 1000000000, t % 1000000000 // 1000)
end

local stop = false
local leaked = 0

-- The leaky handler: every leak_every-th request abandons its reply.
local function handler(n)
  local reply = sim.chan() -- unbuffered
  sim.go("fetchProfile", function() reply:send("profile " .. n) end)
  if n % P.leak_every == 0 then
    leaked = leaked + 1
    return -- timed out, say: nobody will ever receive from reply
  end
  return reply:recv()
end

sim.go("server", function()
  sim.sleep("30ms") -- requests at 30ms, 130ms, ...: never on a sampling instant
  local n = 0
  while not stop do
    n = n + 1
    sim.go("handler", handler, n)
    sim.sleep("100ms")
  end
end)

-- The batch job: 60 workers for 1.5s every 4s, starting at 2.05s.
sim.go("batch", function()
  sim.sleep("2050ms")
  while not stop do
    for i = 1, 60 do sim.go("batchWorker", function() sim.sleep("1500ms") end) end
    sim.sleep("4s")
  end
end)

local profile_printed = false
local function on_leak(tag)
  return function(count, samples)
    print(string.format("%s %s: LEAK DETECTED: %d goroutines (leaked so far: %d); samples [%s]",
      stamp(), tag, count, leaked, table.concat(samples, " ")))
    if tag == "C" and not profile_printed then
      profile_printed = true
      for _, g in ipairs(sim.goroutine_profile()) do
        print(string.format("  %5d  [%s]  %s  (first created by goroutine %d), oldest blocked since %s",
          g.count, g.reason, g.name, g.created_by, sim.format_duration(g.oldest_blocked_since)))
      end
    end
  end
end

local B = sim.leak_detector{ name = "B", alert_threshold = P.alert_threshold, variant = "seed", log = false,
                             on_leak = on_leak("B") }
local C = sim.leak_detector{ name = "C", alert_threshold = P.alert_threshold, variant = "corrected", log = false,
                             on_leak = on_leak("C") }
-- C samples at 0.6s, 1.1s, ...; B 50ms later, so neither counts the other
-- mid-start.
sim.go("start B", function() sim.sleep("50ms") B:start() end)
C:start()

sim.sleep(sim.duration(P.run_for) - sim.now())
stop = true
local b, c = B:alerts(), C:alerts()
B:stop()
C:stop()

local function times(list)
  local out = {}
  for _, a in ipairs(list) do out[#out + 1] = sim.format_duration(a.t) end
  return table.concat(out, " ")
end
print(string.format("\nleaked goroutines: %d", leaked))
print(string.format("B (seed) alerts: %d at %s", #b, times(b)))
print(string.format("C (corrected) alerts: %d at %s", #c, times(c)))

-- A batch burst lasts from 2.05 + 4k s to 3.55 + 4k s.
local function during_burst(t)
  local x = (t - sim.duration("2050ms")) % sim.duration("4s")
  return t >= sim.duration("2050ms") and x < sim.duration("1500ms")
end
local b_on_bursts = 0
for _, a in ipairs(b) do if during_burst(a.t) then b_on_bursts = b_on_bursts + 1 end end
sim.expect(#b > 0 and b_on_bursts == #b, "every alert of the seed's detector comes during a batch burst")
sim.expect(#c >= 1, "the corrected detector catches the slow leak")
for _, a in ipairs(c) do
  sim.expect(not during_burst(a.t) or a.window_min - C:stats().baseline_count > P.alert_threshold,
    "the corrected detector's alerts rest on the window's minimum, not on a burst")
end
if #c >= 1 then
  -- by then at least alert_threshold goroutines had leaked, for a whole window
  sim.expect(c[1].window_min - C:stats().baseline_count > P.alert_threshold, "C's first alert: over 40 leaked for a whole window")
end
if P.run_for == "60s" and P.leak_every == 7 and P.alert_threshold == 40 then
  sim.expect(leaked == 85, "85 goroutines leaked in 60s")
  sim.expect(#b == 15, "the seed's detector fires on all 15 bursts, from the first one (3 leaked)")
  sim.expect(#c == 1 and c[1].t == sim.duration("32.6s"), "the corrected detector fires once, at 32.6s (46 leaked)")
end

-- Wait until nothing else can run, so that the goroutines still blocked
-- are reported as leaked (main returning would end the run at once, as in Go).
sim.run()
