-- Closing a nil channel panics; ranging over one blocks forever
-- (nil_channel.go).
--| recovered: close of nil channel
--! exit 2
--? fatal error: all goroutines are asleep - deadlock!
--? goroutine 1 [chan receive (nil chan)]:
local ok, err = pcall(sim.close, nil)
print("recovered: " .. tostring(err))
local ch = nil
for v in sim.range(ch) do print("never", v) end
