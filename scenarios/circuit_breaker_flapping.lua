-- Circuit breaker under load, in front of a flapping dependency.
--
-- What it shows: the seed's breaker and the corrected one side by side,
-- each fed the same open-model load (k6's constant-arrival-rate, 20
-- requests per second for 30s, every request under a 1s timeout) and each
-- in front of its own copy of the same dependency:
--    0s-5s   healthy: answers in 120ms
--    5s-10s  down: fails after 410ms ("upstream 503")
--   10s-20s  flapping: down for the first 1s of every 2s, healthy in between
--   20s-30s  healthy again
-- Thresholds: 3 failures open, 2 successes close, reset_timeout 2s.
-- (120ms and 410ms, not round numbers, so that no answer lands on the
-- same instant as an arrival or as another answer: the outcome is then
-- the same under every schedule, not only under FIFO.)
--
-- What to watch: "max admitted in one half-open period". When the seed's
-- breaker turns half-open it counts only *finished* probes, so for the
-- 410ms the first probe takes to fail every arriving request is let
-- through: nine requests hit a dependency that is down, each time
-- the breaker half-opens. The corrected breaker admits success_threshold
-- (2) probes and answers the rest "too many requests" at once. Watch also
-- "calls while down" (load the breaker failed to shed) and "stale
-- results": outcomes of requests admitted under an earlier state, which
-- the seed still counts (a late success can close a half-open breaker, a
-- late failure can reopen it) and the corrected breaker ignores.
--
-- The seed's bug: allowRequest's half-open branch compares
-- successCount+failureCount (finished probes) with successThreshold;
-- requests must be counted when admitted (gobreaker's Requests vs
-- MaxRequests), and results tagged with the generation they belong to.
scenario{
  name = "circuit breaker, flapping dependency",
  description = "seed vs corrected breaker under 20 req/s against a dependency that goes down and flaps",
  seed = 1,
  duration = "60s",
  params = { rate = 20, reset_timeout = "2s" },
}

local P = sim.params
local S = sim.duration("1s")

-- The dependency's health at simulated time t.
local function down_at(t)
  if t < 5 * S then return false end
  if t < 10 * S then return true end
  if t < 20 * S then return (t // S) % 2 == 0 end -- down during [10,11), [12,13), ...
  return false
end

local function make(variant)
  local st = { variant = variant, calls_while_down = 0, calls = 0, ok = 0, failed = 0, timeouts = 0,
               open = 0, too_many = 0, transitions = {} }
  st.cb = sim.breaker{
    name = variant, failure_threshold = 3, success_threshold = 2, reset_timeout = P.reset_timeout,
    variant = variant, log = false,
    on_state_change = function(_, from, to) st.transitions[#st.transitions + 1] = { sim.now(), from, to } end,
  }
  -- One dependency call: health decided when it arrives.
  st.dependency = function(ctx)
    st.calls = st.calls + 1
    local down = down_at(sim.now())
    if down then st.calls_while_down = st.calls_while_down + 1 end
    local i = sim.select{ { recv = sim.after(down and "410ms" or "120ms") }, { recv = ctx:done() } }
    if i == 2 then return nil, ctx:err() end
    if down then return nil, "upstream 503" end
    return "ok"
  end
  return st
end

local seed_st, fixed_st = make("seed"), make("corrected")

local function request(st)
  local _, err = st.cb:execute(st.dependency, "1s")
  if not err then st.ok = st.ok + 1
  elseif err == "circuit breaker is open" then st.open = st.open + 1
  elseif err == "too many requests" then st.too_many = st.too_many + 1
  elseif err == "context deadline exceeded" then st.timeouts = st.timeouts + 1
  else st.failed = st.failed + 1 end
end

for _, st in ipairs{ seed_st, fixed_st } do
  sim.load.constant_arrival_rate{ name = st.variant, rate = P.rate, duration = "30s",
    exec = function() request(st) end }
end

sim.sleep("32s")

local function row(label, f)
  print(string.format("  %-34s %10s %10s", label, tostring(f(seed_st)), tostring(f(fixed_st))))
end
print(string.format("  %-34s %10s %10s", "", "seed", "corrected"))
row("requests", function(s) return s.ok + s.failed + s.timeouts + s.open + s.too_many end)
row("succeeded", function(s) return s.ok end)
row("failed (upstream 503)", function(s) return s.failed end)
row("timed out", function(s) return s.timeouts end)
row("rejected: circuit breaker is open", function(s) return s.open end)
row("rejected: too many requests", function(s) return s.too_many end)
row("calls that reached the dependency", function(s) return s.calls end)
row("calls while it was down", function(s) return s.calls_while_down end)
row("state changes", function(s) return #s.transitions end)
row("max admitted in one half-open period", function(s) return s.cb:metrics().half_open_admitted_max end)
row("stale results (seed counts them)", function(s) return s.cb:metrics().stale_results end)

for _, st in ipairs{ seed_st, fixed_st } do
  print(string.format("\n%s breaker, state changes:", st.variant))
  for _, tr in ipairs(st.transitions) do
    print(string.format("  %-7s %-9s -> %s", sim.format_duration(tr[1]), tr[2], tr[3]))
  end
end

local ms, mf = seed_st.cb:metrics(), fixed_st.cb:metrics()
sim.expect(mf.half_open_admitted_max <= 2, "the corrected breaker never admits more than success_threshold probes per half-open period")
sim.expect(ms.half_open_admitted_max > 2, "the seed's breaker lets a crowd of probes through when it half-opens")
sim.expect(fixed_st.calls_while_down < seed_st.calls_while_down, "the corrected breaker sends fewer calls to the dependency while it is down")
local reset = sim.duration(P.reset_timeout)
for k, tr in ipairs(fixed_st.transitions) do
  if tr[3] == "half-open" then
    sim.expect(tr[1] - fixed_st.transitions[k - 1][1] == reset, "corrected: half-open exactly reset_timeout after opening at " .. sim.format_duration(tr[1]))
  end
end
if P.rate == 20 and P.reset_timeout == "2s" then
  sim.expect(ms.half_open_admitted_max == 9, "seed: 9 requests admitted in one half-open period (410ms of arrivals at 20/s)")
  sim.expect(seed_st.calls_while_down == 60 and fixed_st.calls_while_down == 30,
    "calls that reached the dependency while it was down: seed 60, corrected 30")
  sim.expect(seed_st.ok == 300 and seed_st.failed == 60 and seed_st.open == 240 and seed_st.too_many == 0,
    "seed: 300 succeeded, 60 failed, 240 short-circuited")
  sim.expect(fixed_st.ok == 298 and fixed_st.failed == 30 and fixed_st.open == 240 and fixed_st.too_many == 32,
    "corrected: 298 succeeded, 30 failed, 240 short-circuited, 32 too many requests")
  sim.expect(ms.stale_results == 54 and mf.stale_results == 20, "stale results: 54 (seed, counted), 20 (corrected, ignored)")
  sim.expect(#seed_st.transitions == 14 and #fixed_st.transitions == 14, "14 state changes each")
end
