-- When main returns the program ends at once: the sleeper never prints,
-- the ticker loop never runs to the time limit, the sim.at event never
-- comes (main_returns.go).
--| main: started
--| main: returns
--= twice
sim.go("sleeper", function() sim.sleep("1s"); print("sleeper: woke (Go never prints this)") end)
sim.go("ticker", function()
  local t = sim.ticker("500ms")
  while true do t.c:recv() print("tick") end
end)
sim.at("5ms", function() print("at 5ms (never)") end)
print("main: started")
sim.sleep("5ms")  -- the ticker has not ticked yet; the sim.at event is due now but main goes first
print("main: returns")
