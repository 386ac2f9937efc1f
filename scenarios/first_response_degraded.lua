-- Timed first response under degraded backends: why hedged calls exist,
-- and what the seed's bug costs when a backend starts failing.
--
-- What it shows: requests arrive at a constant 20 per second for 60s
-- (sim.load.constant_arrival_rate); each makes one call with a 400ms
-- timeout through three clients at once:
--   single     - only fast-service, no hedging (the baseline),
--   seed       - the seed's firstResponse over the three services,
--   corrected  - the corrected firstResponse over the same three.
-- Faults, as Toxiproxy would inject them, change the services for every
-- client at the same moments:
--   0-15s   healthy: the seed's numbers (10% failures each);
--   15-30s  fast-service fails 60% of its calls (error rate);
--   30-45s  fast-service healthy again; medium-service slow: 350-700ms;
--   45-60s  medium-service healthy again; fast-service slow: 450-900ms,
--           always past the timeout.
--
-- What to watch, per phase: success rate and latency (p50, p99).
--  - single collapses whenever its one backend does: 40% success in phase
--    2, none in phase 4.
--  - corrected rides through every phase: some backend almost always
--    answers in time; its latency follows the fastest healthy backend.
--  - seed is worse than no hedging at all in phase 2: fast-service's quick
--    errors beat the other services' successes to the one slot, so the
--    seed's client fails as often as the failing backend does, although
--    two healthy services answer within the timeout.
--
-- The seed's bug: firstResponse returns the first result that arrives,
-- error or not, whenever the error comes first.
scenario{
  name = "first_response_degraded",
  description = "20 req/s for 60s through no hedging, the seed's and the corrected firstResponse, with failing and slow backends",
  seed = 3,
  duration = "2m",
  leaks = "fail",
  params = { rate = 20, timeout = "400ms" },
}

local P = sim.params
local clients = {
  single = sim.first_response{ name = "single", operations = {
    { name = "fast-service", min = "50ms", max = "150ms" } } },
  seed = sim.first_response{ name = "seed", variant = "seed" },
  corrected = sim.first_response{ name = "corrected" },
}
local order = { "single", "seed", "corrected" }

local function fault(name, behaviour)
  for _, k in ipairs(order) do
    if k ~= "single" or name == "fast-service" then clients[k]:set(name, behaviour) end
  end
end

local phases = {
  { at = "0s", label = "healthy" },
  { at = "15s", label = "fast fails 60%", fn = function() fault("fast-service", { fail_pct = 60 }) end },
  { at = "30s", label = "medium slow", fn = function()
      fault("fast-service", { fail_pct = 10 })
      fault("medium-service", { min = "350ms", max = "700ms" })
    end },
  { at = "45s", label = "fast slow", fn = function()
      fault("medium-service", { min = "100ms", max = "300ms" })
      fault("fast-service", { min = "450ms", max = "900ms" })
    end },
}
for _, ph in ipairs(phases) do
  ph.t = sim.duration(ph.at)
  if ph.fn then sim.at(ph.t, function() sim.log("fault: " .. ph.label); ph.fn() end, "chaos") end
end
local function phase_of(t)
  local k = 1
  for i, ph in ipairs(phases) do if t >= ph.t then k = i end end
  return k
end

-- rec[client][phase] = { calls, ok, latencies }
local rec = {}
for _, k in ipairs(order) do
  rec[k] = {}
  for i = 1, #phases do rec[k][i] = { calls = 0, ok = 0, lat = {} } end
end

local done = sim.waitgroup()
sim.load.constant_arrival_rate{
  name = "req", rate = P.rate, duration = "60s",
  exec = function(req)
    local ph = phase_of(req.intended)
    done:add(#order)
    for _, k in ipairs(order) do
      sim.go({ name = k .. "-" .. req.id, role = "request" }, function()
        local r = clients[k]:call(P.timeout)
        local cell = rec[k][ph]
        cell.calls = cell.calls + 1
        if r.ok then cell.ok = cell.ok + 1 end
        cell.lat[#cell.lat + 1] = r.latency
        done:done()
      end)
    end
  end,
}
sim.sleep("60s")
done:wait()

local function pct(sorted, p)
  if #sorted == 0 then return 0 end
  return sorted[math.max(1, (#sorted * p + 99) // 100)]
end
local function ms(ns) return string.format("%.0fms", ns / 1e6) end
print(string.format("%-16s %-10s %6s %9s %8s %8s", "phase", "client", "calls", "success", "p50", "p99"))
local rate = {}
for i, ph in ipairs(phases) do
  rate[i] = {}
  for _, k in ipairs(order) do
    local c = rec[k][i]
    table.sort(c.lat)
    rate[i][k] = c.ok / c.calls
    print(string.format("%-16s %-10s %6d %8.1f%% %8s %8s", ph.label, k, c.calls, 100 * rate[i][k],
      ms(pct(c.lat, 50)), ms(pct(c.lat, 99))))
  end
end
print()
for _, k in ipairs(order) do
  local st = clients[k]:stats()
  local parts = {}
  for _, op in ipairs(st.operations) do
    parts[#parts + 1] = string.format("%s %d calls %d ok %d failed %d canceled %d wins", op.name, op.calls,
      op.ok, op.failed, op.canceled, op.wins)
  end
  print(string.format("%-10s %s", k, table.concat(parts, "; ")))
end

sim.expect(rate[2].seed < rate[2].corrected - 0.3, "fast failing: the seed's client fails far more than the corrected")
sim.expect(rate[2].seed <= rate[2].single + 0.1, "fast failing: the seed's hedging is no better than no hedging")
for i = 1, #phases do
  sim.expect(rate[i].corrected >= 0.9, "corrected: at least 90% in phase " .. i .. " (" .. phases[i].label .. ")")
end
sim.expect(rate[4].single <= 0.05, "no hedging: nothing succeeds once the only backend is past the timeout")
