-- sim_at_world.lua: sim.at and sim.every belong to the world, not to the
-- node whose goroutine schedules them (registered in tests/CMakeLists.txt:
-- every expectation must hold). n1 schedules an event at 1s and a 250ms
-- ticker, then is paused at 500ms and never resumed; n2 schedules an event
-- at 2s and crashes at 1.5s. Both events run on time; the ticker keeps
-- ticking; the node's own sleeper stays frozen with it.
scenario{ name = "sim_at_world", description = "sim.at from a node's goroutine outlives its pause and crash",
          duration = "5s" }

local c = sim.cluster{ nodes = { "n1", "n2" } }
c:start()
local ran = {}
local ticks = 0
local slept = false
c:node("n1"):go("main", function()
  sim.at("1s", function() ran.n1 = sim.now() end)
  sim.every("250ms", function() ticks = ticks + 1; return ticks < 12 end)
  sim.sleep("2s")
  slept = true -- frozen with its node: never
end)
c:node("n2"):go("main", function()
  sim.at("2s", function() ran.n2 = sim.now() end)
end)
sim.at("500ms", function() c:node("n1"):pause() end)
sim.at("1500ms", function() c:node("n2"):crash() end)
sim.sleep("4s")
sim.expect(ran.n1 == sim.duration("1s"), "an event scheduled by a node runs on time while the node is paused")
sim.expect(ran.n2 == sim.duration("2s"), "an event scheduled by a node runs on time after the node crashed")
sim.expect(ticks == 12, "sim.every keeps ticking while its node is paused (12 ticks by 3s)")
sim.expect(not slept, "the node's own sleep stays frozen with it")
