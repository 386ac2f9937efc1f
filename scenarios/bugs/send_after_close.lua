-- Bug zoo: SEND ON A CLOSED CHANNEL AT SHUTDOWN. Two producers send
-- events while a "closed" flag says the sink is open; shutdown sets the
-- flag and closes the channel. A producer that checked the flag just
-- before shutdown sends on the closed channel: Go panics.
--
-- What to watch: "panic: send on closed channel" in a producer, exit 2
-- without the lesson header.
-- Find it:   chansim explore scenarios/bugs/send_after_close.lua --strategy pct:3 --first
-- The fix:   scenarios/bugs/send_after_close_fixed.lua (close only after the producers are done)
scenario{
  name = "bug: send on closed channel at shutdown",
  description = "shutdown closes the events channel while a producer is about to send",
  expect_failure = "panic: send on closed channel",
}

local events = sim.chan(4)
local closed = sim.shared("closed", false)

for i = 1, 2 do
  sim.go("producer" .. i, function()
    for k = 1, 2 do
      if closed.value then return end   -- the flag is checked ...
      events:send(i * 10 + k)           -- ... and may be stale here
    end
  end)
end

sim.go("consumer", function()
  for v in events:range() do end
end)

-- shutdown
closed.value = true
events:close()
sim.sleep("1ms")
print("shut down")
