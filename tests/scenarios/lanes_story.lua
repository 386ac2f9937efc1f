-- lanes_story.lua: a story told in its first two seconds of a twenty-second
-- run, for the view's lanes (tests/viz_lanes.sh): "waiter" waits for a
-- mutex main holds until 2s and exits; "ticker" receives from a ticker's
-- channel every half second to the end (periodic chatter, no story); main
-- sleeps on to 20s.
scenario{ name = "lanes_story", description = "the story ends at 2s, the run at 20s" }

local mu = sim.mutex("mu")
mu:lock()
local t = sim.ticker("500ms")
sim.go("ticker", function() while true do t.c:recv() end end)
sim.go("waiter", function() mu:lock(); mu:unlock() end)
sim.sleep("2s")
mu:unlock()
sim.sleep("18s")
