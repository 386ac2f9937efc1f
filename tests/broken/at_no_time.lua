-- Broken on purpose: sim.at without a time. The nil once reached the
-- goroutine sim.at starts, whose arithmetic failed inside the prelude
-- ("prelude.lua:35: attempt to perform arithmetic on a nil value"); now
-- the error is at this line. Exit 2, as any error raised by the scenario.
scenario{ name = "at_no_time", description = "sim.at(nil, fn)" }
sim.at(nil, function() print("never") end)
sim.sleep("1ms")
