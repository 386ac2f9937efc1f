-- Go's panics carry Go's message only: NewTicker and Ticker.Reset with a
-- non-positive interval, recovered and then unrecovered (ticker_panic.go).
--| recovered: non-positive interval for NewTicker
--| recovered: non-positive interval for Ticker.Reset
--! exit 2
--? panic: non-positive interval for NewTicker
--? goroutine 1 [running]:
local ok, err = pcall(function() sim.ticker(0) end)
print("recovered: " .. tostring(err))
local t = sim.ticker("1s")
ok, err = pcall(function() t:reset(-1) end)
print("recovered: " .. tostring(err))
sim.ticker(-5)
