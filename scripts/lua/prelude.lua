-- prelude.lua: the Lua half of the `sim` module.
--
-- Loaded by the host after the C functions are registered, with the `sim`
-- table as its argument. It adds what reads best in Lua: sim.at and
-- sim.every, the distributions of sim.dist, and the load shapes of
-- sim.load in k6's vocabulary. Everything random here draws from the run's
-- world stream (sim._world_random), never from math.random, so that a
-- scenario's own draws do not shift the workload.

local sim = ...

local floor = math.floor

-- Durations: integer nanoseconds or Go's syntax ("250ms").
local function ns(d, what)
  if d == nil then return nil end
  local ok, v = pcall(sim.duration, d)
  if not ok then
    error((what and (what .. ": ") or "") .. tostring(v):gsub("^[^:]*:%d+: ", ""), 3)
  end
  return v
end

---------------------------------------------------------------------------
-- Time: sim.at(t, fn) runs fn in its own goroutine at simulated time t;
-- sim.every(d, fn) runs fn every d (first at d), until fn returns false.
-- Both belong to the world, not to a node: scheduled from a node's
-- goroutine, they still run on time while the node is paused or crashed.
---------------------------------------------------------------------------

function sim.at(t, fn, name)
  local when = ns(t, "sim.at")
  if when == nil then error("sim.at: want a time (integer nanoseconds or a string such as \"1.5s\")", 2) end
  if type(fn) ~= "function" then error("sim.at: want a function", 2) end
  sim._go_world(name or "sim.at", function()
    local wait = when - sim.now()
    if wait > 0 then sim.sleep(wait) end
    fn()
  end)
end

function sim.every(d, fn, name)
  local period = ns(d, "sim.every")
  if period == nil or period <= 0 then error("sim.every: the period must be positive", 2) end
  if type(fn) ~= "function" then error("sim.every: want a function", 2) end
  sim._go_world(name or "sim.every", function()
    local t = sim.ticker(period)
    while true do
      t.c:recv()
      if fn() == false then t:stop() return end
    end
  end)
end

---------------------------------------------------------------------------
-- sync.Map: sim.sync_map() with Go's methods in snake case. A nil value is
-- a value (Go stores nil interfaces); Range visits keys in the order they
-- were first stored (Go's order is unspecified; this one is the same on
-- every run).
---------------------------------------------------------------------------

local NIL = setmetatable({}, { __name = "sync.Map nil" })
local SyncMap = {}
SyncMap.__index = SyncMap
SyncMap.__name = "sync.Map"

function sim.sync_map()
  return setmetatable({ _v = {}, _keys = {}, _pos = {} }, SyncMap)
end

local GONE = {} -- a deleted key's place in the order

local function sm_put(m, k, v)
  if k == nil then error("sync.Map: nil key", 3) end
  if m._v[k] == nil then
    m._keys[#m._keys + 1] = k
    m._pos[k] = #m._keys
  end
  m._v[k] = v == nil and NIL or v
end

local function sm_get(m, k)
  local v = m._v[k]
  if v == nil then return nil, false end
  if v == NIL then return nil, true end
  return v, true
end

local function sm_del(m, k)
  if m._v[k] ~= nil then
    m._v[k] = nil
    m._keys[m._pos[k]] = GONE
    m._pos[k] = nil
  end
end

function SyncMap:load(k) return sm_get(self, k) end
function SyncMap:store(k, v) sm_put(self, k, v) end
function SyncMap:load_or_store(k, v)
  local cur, ok = sm_get(self, k)
  if ok then return cur, true end
  sm_put(self, k, v)
  return v, false
end
function SyncMap:load_and_delete(k)
  local v, ok = sm_get(self, k)
  sm_del(self, k)
  return v, ok
end
function SyncMap:delete(k) sm_del(self, k) end
function SyncMap:swap(k, v)
  local prev, ok = sm_get(self, k)
  sm_put(self, k, v)
  return prev, ok
end
function SyncMap:compare_and_swap(k, old, new)
  local cur, ok = sm_get(self, k)
  if not ok or cur ~= old then return false end
  sm_put(self, k, new)
  return true
end
function SyncMap:compare_and_delete(k, old)
  local cur, ok = sm_get(self, k)
  if not ok or cur ~= old then return false end
  sm_del(self, k)
  return true
end
function SyncMap:range(fn)
  local live, pos = {}, {}
  for _, k in ipairs(self._keys) do
    if k ~= GONE then live[#live + 1] = k; pos[k] = #live end
  end
  self._keys, self._pos = live, pos -- a key deleted and stored again goes last
  for _, k in ipairs(live) do
    local v, ok = sm_get(self, k)
    if ok and fn(k, v) == false then return end
  end
end
function SyncMap:clear()
  self._v, self._keys, self._pos = {}, {}, {}
end

---------------------------------------------------------------------------
-- Distributions: each is a table with :sample() (also callable). Numbers in,
-- numbers out; give durations as strings and samples are integer ns >= 0.
---------------------------------------------------------------------------

local dist = {}
sim.dist = dist
local U = sim._world_random  -- uniform in [0, 1) from the world stream

local Dist = {}
Dist.__index = Dist
Dist.__call = function(self) return self:sample() end

local function make(kind, params, draw, is_duration)
  local d = setmetatable({ kind = kind, params = params }, Dist)
  if is_duration then
    d.sample = function()
      local v = floor(draw() + 0.5)
      if v < 0 then v = 0 end
      return v
    end
  else
    d.sample = draw
  end
  return d
end

local function num(v, what)
  if type(v) == "string" then return ns(v, what), true end
  if type(v) ~= "number" then error(what .. ": want a number or a duration string", 3) end
  return v, false
end

function dist.constant(v)
  local x, dur = num(v, "sim.dist.constant")
  return make("constant", { v }, function() return x end, dur)
end

function dist.uniform(lo, hi)
  local a, da = num(lo, "sim.dist.uniform")
  local b = num(hi, "sim.dist.uniform")
  if b < a then error("sim.dist.uniform: hi < lo", 2) end
  if da and math.type(a) == "integer" and math.type(b) == "integer" then
    return make("uniform", { lo, hi }, function() return sim._world_int(a, b) end, false)
  end
  return make("uniform", { lo, hi }, function() return a + (b - a) * U() end, da)
end

function dist.exponential(mean)
  local m, dur = num(mean, "sim.dist.exponential")
  if m <= 0 then error("sim.dist.exponential: the mean must be positive", 2) end
  return make("exponential", { mean }, function() return -m * math.log(1 - U()) end, dur)
end

-- Box-Muller; one of the pair is kept for the next draw.
local function normal_source()
  local spare
  return function()
    if spare then local s = spare; spare = nil; return s end
    local u1, u2 = 1 - U(), U()
    local r = math.sqrt(-2 * math.log(u1))
    spare = r * math.sin(2 * math.pi * u2)
    return r * math.cos(2 * math.pi * u2)
  end
end

function dist.normal(mean, stddev)
  local m, dur = num(mean, "sim.dist.normal")
  local s = num(stddev, "sim.dist.normal")
  if s < 0 then error("sim.dist.normal: stddev must not be negative", 2) end
  local z = normal_source()
  return make("normal", { mean, stddev }, function() return m + s * z() end, dur)
end

-- lognormal(median, sigma): exp(N(ln median, sigma)).
function dist.lognormal(median, sigma)
  local med, dur = num(median, "sim.dist.lognormal")
  if med <= 0 then error("sim.dist.lognormal: the median must be positive", 2) end
  if type(sigma) ~= "number" or sigma < 0 then error("sim.dist.lognormal: sigma must be a non-negative number", 2) end
  local mu, z = math.log(med), normal_source()
  return make("lognormal", { median, sigma }, function() return math.exp(mu + sigma * z()) end, dur)
end

-- pareto(xm, alpha): scale xm, shape alpha (heavy tail for small alpha).
function dist.pareto(xm, alpha)
  local x, dur = num(xm, "sim.dist.pareto")
  if x <= 0 or type(alpha) ~= "number" or alpha <= 0 then
    error("sim.dist.pareto: want xm > 0 and alpha > 0", 2)
  end
  return make("pareto", { xm, alpha }, function() return x / (1 - U()) ^ (1 / alpha) end, dur)
end

-- empirical{ {value, weight}, ... } or empirical{ v1, v2, ... } (equal weights).
function dist.empirical(t)
  if type(t) ~= "table" or #t == 0 then error("sim.dist.empirical: want a non-empty table", 2) end
  local values, cum, total, dur = {}, {}, 0, false
  for i, e in ipairs(t) do
    local v, w
    if type(e) == "table" then v, w = e[1], e[2] or 1 else v, w = e, 1 end
    local x, d = num(v, "sim.dist.empirical")
    dur = dur or d
    if type(w) ~= "number" or w < 0 then error("sim.dist.empirical: weights must be non-negative numbers", 2) end
    total = total + w
    values[i], cum[i] = x, total
  end
  if total <= 0 then error("sim.dist.empirical: the weights add up to zero", 2) end
  return make("empirical", t, function()
    local r = U() * total
    for i = 1, #cum do if r < cum[i] then return values[i] end end
    return values[#values]
  end, dur)
end

-- Accept a distribution, a constant number or a duration string.
function dist.of(v)
  if getmetatable(v) == Dist then return v end
  return dist.constant(v)
end

-- sim.dist is a table of constructors, not a function: a call of it, or a
-- name that is not a distribution, is an error at the caller's line naming
-- the valid ones.
local dist_names = "constant, uniform, exponential, normal, lognormal, pareto, empirical"
setmetatable(dist, {
  __call = function(_, name)
    local hint = ""
    if type(name) == "string" and rawget(dist, name) then
      hint = (", as sim.dist.%s(...)"):format(name)
    elseif type(name) == "string" then
      hint = (": %q is not a distribution"):format(name)
    end
    error(("sim.dist is not a function: write sim.dist.NAME(...)%s (known: %s)"):format(
      hint, dist_names), 2)
  end,
  __index = function(_, name)
    error(("sim.dist.%s: no such distribution (known: %s)"):format(tostring(name), dist_names), 2)
  end,
})

---------------------------------------------------------------------------
-- Load shapes, in k6's vocabulary. Each request runs exec(req) in its own
-- goroutine (arrival-rate shapes: open model) or in a virtual user's loop
-- (VU shapes: closed model). req.intended is when the request was meant to
-- start, so latency measured from it includes queueing in the generator
-- (no coordinated omission).
---------------------------------------------------------------------------

local load = {}
sim.load = load

local function opts(o, shape)
  if type(o) ~= "table" then error("sim.load." .. shape .. ": want a table of options", 3) end
  if type(o.exec) ~= "function" then error("sim.load." .. shape .. ": exec must be a function", 3) end
  return o
end

local function rate_per_ns(rate, unit)
  return rate / unit
end

-- The generator's handle: counts of requests started.
local function handle(name)
  return { name = name, started = 0 }
end

local function fire(h, o, t_intended)
  h.started = h.started + 1
  local req = { id = h.started, intended = t_intended, scenario = h.name }
  sim.go({ name = h.name .. "-" .. h.started, role = o.role or "request" }, o.exec, req)
end

-- constant_arrival_rate{ rate, time_unit = "1s", duration, start = 0, exec }
function load.constant_arrival_rate(o)
  opts(o, "constant_arrival_rate")
  local unit = ns(o.time_unit or "1s", "time_unit")
  local dur = ns(o.duration, "duration") or error("sim.load.constant_arrival_rate: duration is required", 2)
  local rate = o.rate or error("sim.load.constant_arrival_rate: rate is required", 2)
  if rate <= 0 then error("sim.load.constant_arrival_rate: rate must be positive", 2) end
  local h = handle(o.name or "car")
  sim.go(h.name .. ".generator", function()
    local start = sim.now() + (ns(o.start, "start") or 0)
    local k = 0
    while true do
      -- k-th arrival at start + k * unit / rate, in integer ns
      local t = start + floor(k * unit / rate)
      if t >= start + dur then break end
      local wait = t - sim.now()
      if wait > 0 then sim.sleep(wait) end
      fire(h, o, t)
      k = k + 1
    end
  end)
  return h
end

-- poisson{ rate, time_unit = "1s", duration, start = 0, exec }
function load.poisson(o)
  opts(o, "poisson")
  local unit = ns(o.time_unit or "1s", "time_unit")
  local dur = ns(o.duration, "duration") or error("sim.load.poisson: duration is required", 2)
  local rate = o.rate or error("sim.load.poisson: rate is required", 2)
  if rate <= 0 then error("sim.load.poisson: rate must be positive", 2) end
  local mean = unit / rate
  local h = handle(o.name or "poisson")
  sim.go(h.name .. ".generator", function()
    local start = sim.now() + (ns(o.start, "start") or 0)
    local t = start
    while true do
      t = t + floor(-mean * math.log(1 - U()) + 0.5)
      if t >= start + dur then break end
      local wait = t - sim.now()
      if wait > 0 then sim.sleep(wait) end
      fire(h, o, t)
    end
  end)
  return h
end

-- ramping_arrival_rate{ start_rate = 0, time_unit = "1s", stages = {
--   { target = 100, duration = "10s" }, ... }, exec }: the rate moves
-- linearly to each stage's target over the stage's duration.
function load.ramping_arrival_rate(o)
  opts(o, "ramping_arrival_rate")
  local unit = ns(o.time_unit or "1s", "time_unit")
  if type(o.stages) ~= "table" or #o.stages == 0 then
    error("sim.load.ramping_arrival_rate: stages is required", 2)
  end
  local stages, from = {}, o.start_rate or 0
  for i, s in ipairs(o.stages) do
    stages[i] = { from = from, to = s.target, dur = ns(s.duration, "stage duration") }
    from = s.target
  end
  local h = handle(o.name or "rar")
  sim.go(h.name .. ".generator", function()
    local t0 = sim.now()
    local t = t0
    for _, s in ipairs(stages) do
      local s_end = t0 + s.dur
      while t < s_end do
        local frac = (t - t0) / s.dur
        local r = s.from + (s.to - s.from) * frac
        if r <= 0 then
          -- nothing this instant: look again a millisecond on
          t = t + 1000000
        else
          local wait = t - sim.now()
          if wait > 0 then sim.sleep(wait) end
          fire(h, o, t)
          t = t + math.max(1, floor(unit / r))
        end
      end
      t0 = s_end
      t = math.max(t, t0)
    end
  end)
  return h
end

-- constant_vus{ vus, duration, think = 0, exec }: vus virtual users, each
-- running exec(req) in a loop with think time between iterations.
function load.constant_vus(o)
  opts(o, "constant_vus")
  local dur = ns(o.duration, "duration") or error("sim.load.constant_vus: duration is required", 2)
  local think = dist.of(o.think or 0)
  local h = handle(o.name or "vu")
  local stop = sim.now() + dur
  for v = 1, o.vus or 1 do
    sim.go({ name = h.name .. "-" .. v, role = o.role or "vu" }, function()
      while sim.now() < stop do
        h.started = h.started + 1
        o.exec({ id = h.started, vu = v, intended = sim.now(), scenario = h.name })
        local pause = think()
        if pause > 0 then sim.sleep(pause) end
      end
    end)
  end
  return h
end

-- ramping_vus{ start_vus = 0, stages = { { target, duration }, ... }, think, exec }
function load.ramping_vus(o)
  opts(o, "ramping_vus")
  if type(o.stages) ~= "table" or #o.stages == 0 then error("sim.load.ramping_vus: stages is required", 2) end
  local think = dist.of(o.think or 0)
  local h = handle(o.name or "vu")
  local active, running, n = {}, 0, 0
  local function start_vu()
    n = n + 1
    local v = n
    active[v] = true
    running = running + 1
    sim.go({ name = h.name .. "-" .. v, role = o.role or "vu" }, function()
      while active[v] do
        h.started = h.started + 1
        o.exec({ id = h.started, vu = v, intended = sim.now(), scenario = h.name })
        local pause = think()
        if pause > 0 and active[v] then sim.sleep(pause) end
      end
    end)
  end
  local function stop_vu()
    for v = n, 1, -1 do
      if active[v] then active[v] = nil; running = running - 1; return end
    end
  end
  sim.go(h.name .. ".controller", function()
    local level = o.start_vus or 0
    for _ = 1, level do start_vu() end
    for _, s in ipairs(o.stages) do
      local d = ns(s.duration, "stage duration")
      local steps = math.abs(s.target - level)
      if steps == 0 then
        sim.sleep(d)
      else
        local dt = d // steps
        for _ = 1, steps do
          sim.sleep(dt)
          if s.target > level then start_vu(); level = level + 1 else stop_vu(); level = level - 1 end
        end
        sim.sleep(d - dt * steps)
      end
    end
    while running > 0 do stop_vu() end
  end)
  return h
end

-- burst{ at = "5s", count = 100, exec }: count requests at one instant.
function load.burst(o)
  opts(o, "burst")
  local h = handle(o.name or "burst")
  local at = ns(o.at or 0, "at")
  sim.go(h.name .. ".generator", function()
    local wait = at - sim.now()
    if wait > 0 then sim.sleep(wait) end
    local t = sim.now()
    for _ = 1, o.count or 1 do fire(h, o, t) end
  end)
  return h
end
