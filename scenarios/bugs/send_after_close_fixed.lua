-- Bug zoo: SEND ON A CLOSED CHANNEL AT SHUTDOWN, fixed. The channel's
-- owner closes it only after every producer has returned (a WaitGroup):
-- a producer never sees it closed. Producers stop early through a
-- context, not through a flag next to the channel.
--
-- Prove it: chansim explore scenarios/bugs/send_after_close_fixed.lua --strategy pct:3 --runs 100
scenario{
  name = "bug fixed: send on closed channel at shutdown",
  description = "the channel closed after its producers are done",
}

local events = sim.chan(4)
local ctx, cancel = sim.context.with_cancel(sim.context.background())
local producers = sim.waitgroup()

producers:add(2)
for i = 1, 2 do
  sim.go("producer" .. i, function()
    for k = 1, 2 do
      local idx = sim.select{ { recv = ctx:done() }, { send = events, value = i * 10 + k } }
      if idx == 1 then break end
    end
    producers:done()
  end)
end

local got = 0
sim.go("consumer", function()
  for v in events:range() do got = got + 1 end
end)

-- shutdown: stop the producers, wait for them, then close
cancel()
producers:wait()
events:close()
sim.sleep("1ms")
print(string.format("shut down after %d events", got))
