-- Bug zoo: DOUBLE LAZY INITIALISATION, fixed with sync.Once: the first
-- caller builds, every other waits for that build and uses it.
--
-- Prove it: chansim explore scenarios/bugs/double_init_fixed.lua --strategy pct:3 --runs 100
scenario{
  name = "bug fixed: double lazy init",
  description = "the cache built under sync.Once",
}

local cache = sim.shared("cache", false)
local builds = sim.atomic("builds", 0)
local once = sim.once()

local function get()
  once:call(function()
    builds:add(1)
    cache.value = true
  end)
  return cache.value
end

local wg = sim.waitgroup()
wg:add(2)
for i = 1, 2 do
  sim.go("request" .. i, function() get(); wg:done() end)
end
wg:wait()
print(string.format("built %d times", builds:load()))
sim.expect(builds:load() == 1, "the cache is built once")
