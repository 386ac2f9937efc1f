-- Bug zoo: DOUBLE LAZY INITIALISATION. Two requests find the cache not yet
-- built and both build it ("if cache == nil then cache = build() end"):
-- the expensive build runs twice, and the first request may hold a cache
-- the second one then replaced.
--
-- What to watch: "built 2 times" and the failed check "the cache is built
-- once".
-- Find it:   chansim explore scenarios/bugs/double_init.lua --strategy pct:3 --first
-- The fix:   scenarios/bugs/double_init_fixed.lua (sync.Once)
scenario{
  name = "bug: double lazy init",
  description = "two goroutines lazily build one cache; both may build it",
  expect_failure = "invariant: the cache is built once",
}

local cache = sim.shared("cache", false)
local builds = sim.atomic("builds", 0)

local function get()
  if not cache.value then             -- not built yet? ...
    builds:add(1)                     -- ... build it (expensive)
    cache.value = true                -- ... and publish it
  end
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
