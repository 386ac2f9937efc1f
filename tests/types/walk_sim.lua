-- Lists the `sim` module as the running chansim has it, for
-- tests/lua_types_test.py: "fn sim.a.b" for every function (recursively),
-- "method Class name" for every method of an instance of each class that
-- docs/types/sim.lua declares ("index Class" when the methods are behind an
-- __index function and cannot be listed; the test then probes "probe" lines).
scenario{ name = "walk_sim", description = "lists the sim module's functions and methods", duration = "1s",
          params = { probe = "" } }

local lines = {}
local seen = {}
local function walk(t, path)
  if seen[t] then return end
  seen[t] = true
  for k, v in pairs(t) do
    local p = path .. "." .. tostring(k)
    if type(v) == "function" then lines[#lines + 1] = "fn " .. p
    elseif type(v) == "table" and k ~= "params" then walk(v, p) end
  end
end
walk(sim, "sim")

local mu = sim.mutex()
local ctx = sim.context.with_cancel(sim.context.background())
local cluster = sim.cluster{ nodes = { "n1" } }
local instances = {
  Chan = sim.chan(1), Timer = sim.timer("1s"), Context = ctx, Mutex = mu, RWMutex = sim.rwmutex(),
  WaitGroup = sim.waitgroup(), Once = sim.once(), Cond = sim.cond(mu), Semaphore = sim.semaphore(2),
  ErrGroup = sim.errgroup(sim.context.background()), Dist = sim.dist.constant("1ms"),
  Metric = sim.counter{ name = "walk_total" }, Cluster = cluster, Node = cluster:node("n1"),
  Shared = sim.shared("walk", 0), Atomic = sim.atomic("walk", 0), SyncMap = sim.sync_map(),
}
for class, obj in pairs(instances) do
  local mt = getmetatable(obj)
  local idx = mt and mt.__index
  local found = false
  local function add(tbl)
    for k, v in pairs(tbl) do
      if type(v) == "function" and type(k) == "string" and k:sub(1, 2) ~= "__" then
        lines[#lines + 1] = "method " .. class .. " " .. k
        found = true
      end
    end
  end
  if type(obj) == "table" then add(obj) end
  if type(idx) == "table" and idx ~= obj then add(idx) end
  if not found then lines[#lines + 1] = "index " .. class end
end
-- Methods behind an __index function: probe the names the types file gives
-- (passed with --set probe=Class.name,Class.name).
for item in string.gmatch(sim.params.probe, "[^,]+") do
  local class, name = item:match("^(%w+)%.([%w_]+)$")
  local obj = instances[class]
  local ok, v = pcall(function() return obj[name] end)
  lines[#lines + 1] = "probe " .. class .. " " .. name .. " " .. (ok and type(v) or "error")
end
table.sort(lines)
for _, l in ipairs(lines) do print(l) end
