-- Goroutine leak detection: the seed's demo (Goroutine Leak Detection,
-- main()), watched by three detectors at once.
--
-- What it shows: NewLeakDetector(500ms, 0.05, 10) samples
-- runtime.NumGoroutine (here the simulated count) every 500ms after a
-- 100ms warm-up. The demo starts 100 temporary goroutines (2s each), waits
-- 3s, leaks 50 goroutines (select {} for ever), waits 2s, leaks 100 more,
-- waits 5s and prints the stats. Three detectors watch the same run:
--   A  the seed's detector exactly: seed logic, alert threshold 1000
--   B  seed logic with the alert threshold lowered to 40 (--set alert_threshold=N)
--   C  the corrected logic with the same threshold
-- When C fires, its callback prints the goroutine profile (sim.goroutine_
-- profile: the dump grouped by wait reason, function and creator, as
-- pprof's goroutine profile shows it) and the first goroutine of each
-- group in the dump's own format (sim.dump).
--
-- What to watch: A never fires: the demo leaks 150 goroutines and the
-- seed's default wants 1000 over the baseline. B fires three times: at the
-- first sample (the 100 *temporary* goroutines: a false positive), and at
-- the first sample after each leak; it never fires again while the 150
-- leaked goroutines sit there, because it compares each sample only with
-- the previous one. C ignores the spike (it ended within the 10-sample
-- window) and fires once the leak has persisted for a whole window: at
-- 8.1s, 5s after the first leak, reporting 50 leaked goroutines blocked in
-- "select (no cases)", created by main.main. The run ends with 150
-- goroutines still blocked: the summary's leak report lists them too.
--
-- The seed's bugs: (1) the default alert threshold (1000) is far above
-- the seed's own demo, so the demo shows nothing; (2) the sample window is
-- collected but never used: one sample against the previous one decides,
-- so a temporary burst looks like a leak and a leak that stays flat is
-- reported once, at its jump, or never if it grows under 5% per interval;
-- (3) the callback runs under ld.mu, so a callback that calls GetStats
-- deadlocks. The corrected detector (variant = "corrected", default)
-- alerts on the minimum of a full window and calls back outside the lock.
scenario{
  name = "goroutine leak detection",
  description = "the seed's leak demo under three detectors: the seed's (never fires), a tuned seed one (false positive), the corrected one",
  seed = 1,
  duration = "60s",
  params = { alert_threshold = 40, print_dump = true },
}

local P = sim.params
local fmt = sim.format_duration
-- "[8.100000s]", as sim.log and the detectors' own log lines print time
local function stamp()
  local t = sim.now()
  return string.format("[%d.%06ds]", t // 1000000000, t % 1000000000 // 1000)
end

local function report_leak(tag, d)
  -- As the seed's callback, it reads the baseline without GetStats: the
  -- seed calls it under ld.mu, and GetStats would wait for ld.mu for ever.
  return function(count, samples)
    print(string.format("%s %s: LEAK DETECTED: %d goroutines running (baseline: %d)",
      stamp(), tag, count, d.baseline))
    print(string.format("%s %s: Recent samples: [%s]", stamp(), tag, table.concat(samples, " ")))
    if tag == "C" then
      print("  goroutine profile (dumpStacks, grouped):")
      for _, g in ipairs(sim.goroutine_profile()) do
        print(string.format("  %5d  [%s]  %s  (first created by goroutine %d)", g.count, g.reason, g.name, g.created_by))
      end
      if P.print_dump then
        -- the dump's own text for the first goroutine of each group
        local dump, seen = sim.dump(), {}
        print("  === GOROUTINE DUMP (first of each group) ===")
        for block in (dump .. "\n\n"):gmatch("(goroutine %d+ %b[]:.-)\n\n") do
          local reason = block:match("^goroutine %d+ (%b[])")
          local fn = block:match("\n([^\n]-)%(")
          local key = reason .. (fn or "")
          if not seen[key] then
            seen[key] = true
            print("  " .. block:gsub("\n", "\n  "))
          end
        end
        print("  === END DUMP ===")
      end
    end
  end
end

-- Create the detectors
local A, B, C = { alerts = 0 }, { alerts = 0 }, { alerts = 0 }
A.ref = sim.leak_detector{ name = "A", interval = "500ms", threshold = 0.05, sample_size = 10,
                           variant = "seed", on_leak = report_leak("A", A) }
B.ref = sim.leak_detector{ name = "B", interval = "500ms", threshold = 0.05, sample_size = 10,
                           alert_threshold = P.alert_threshold, variant = "seed", on_leak = report_leak("B", B) }
C.ref = sim.leak_detector{ name = "C", interval = "500ms", threshold = 0.05, sample_size = 10,
                           alert_threshold = P.alert_threshold, variant = "corrected", on_leak = report_leak("C", C) }

-- Start the detectors (each Start sleeps its 100ms warm-up first)
sim.go("start B", function() B.ref:start() end)
sim.go("start C", function() C.ref:start() end)
A.ref:start()
sim.sleep("1ms") -- let B and C take their baselines too
for _, d in ipairs{ A, B, C } do d.baseline = d.ref:stats().baseline_count end

-- Print initial stats
sim.log(string.format("Initial goroutine count: %d", sim.goroutines()))

-- Simulate normal goroutine usage
sim.log("Creating temporary goroutines...")
for i = 0, 99 do
  sim.go("main.simulateTemporaryGoroutines.func1", function() sim.sleep("2s") end)
end

-- Wait a bit
sim.sleep("3s")
local quiet = sim.goroutines() -- main and the three samplers
sim.log(string.format("Goroutine count after temporary spike: %d", quiet))

-- Simulate a leak
sim.log("Simulating a goroutine leak...")
for i = 0, 49 do
  sim.go("main.simulateLeakingGoroutines.func1", function() sim.select{} end)
end

-- Wait for detection
sim.sleep("2s")

-- Create more leaks to trigger detection
sim.log("Creating more leaking goroutines...")
for i = 0, 99 do
  sim.go("main.simulateLeakingGoroutines.func1", function() sim.select{} end)
end

-- Wait for detection
sim.sleep("5s")

-- Print final stats
print()
for _, d in ipairs{ { "A", A }, { "B", B }, { "C", C } } do
  local st = d[2].ref:stats()
  print(string.format("Final stats %s: current %d, baseline %d, previous %d, alert threshold %d, samples [%s]",
    d[1], st.current_count, st.baseline_count, st.previous_count, st.alert_threshold, table.concat(st.samples, " ")))
end
print()
for _, d in ipairs{ { "A", A }, { "B", B }, { "C", C } } do
  local list = {}
  for _, a in ipairs(d[2].ref:alerts()) do list[#list + 1] = string.format("%s (count %d)", fmt(a.t), a.count) end
  print(string.format("%s alerts: %d %s", d[1], #list, #list > 0 and ("at " .. table.concat(list, ", ")) or ""))
end

local a, b, c = A.ref:alerts(), B.ref:alerts(), C.ref:alerts()
sim.expect(#a == 0, "A, the seed's detector with its alert threshold of 1000, never fires on the seed's own demo")
if P.alert_threshold == 40 then
  sim.expect(#b == 3, "B (seed logic, threshold 40) fires three times")
  sim.expect(b[1] and b[1].t == sim.duration("600ms"), "B's first alert, at 600ms, is the temporary spike: a false positive")
  sim.expect(b[2] and b[2].t == sim.duration("3.6s") and b[3] and b[3].t == sim.duration("5.6s"),
    "B fires at 3.6s and 5.6s, the first samples after each leak, and never again")
  sim.expect(#c >= 1 and c[1].t == sim.duration("8.1s"), "C (corrected) fires at 8.1s, once 50 leaked goroutines persisted for a full window")
  sim.expect(c[1] and c[1].window_min == quiet + 50,
    "C's first alert: the least count of its window is the quiet count + 50: the first 50 leaked goroutines")
  sim.expect(#c == 2 and c[2].t == sim.duration("10.1s") and c[2].window_min == quiet + 150,
    "C fires again at 10.1s, when all 150 leaked goroutines have persisted for a full window")
  for _, al in ipairs(c) do sim.expect(al.t > sim.duration("3s"), "C never fires on the temporary spike") end
end

A.ref:stop()
B.ref:stop()
C.ref:stop()

-- Wait until nothing else can run, so that the goroutines still blocked
-- are reported as leaked (main returning would end the run at once, as in Go).
sim.run()
