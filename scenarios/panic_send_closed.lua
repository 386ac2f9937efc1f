-- panic_send_closed.lua: a send on a closed channel panics.
--
-- What it shows: two producers share one channel; the first to finish
-- closes it, "because it is done sending". The other producer is not done:
-- its next send panics with Go's own message
--
--   panic: send on closed channel
--
-- and the program ends with a goroutine dump and exit status 2. In Go only
-- the last sender may close a channel (or a separate goroutine that waits
-- for all senders, e.g. with a WaitGroup).
--
-- pcall is Lua's recover: before the real bug, main shows a panic being
-- recovered, exactly as `defer func() { recover() }()` would, and goes on.
--
-- What to watch: "recovered: send on closed channel" in the output, then
-- the unrecovered panic on standard error; the dump starts with the
-- panicking goroutine "[running]" (producer "slow", at its send), then the
-- others with their wait reasons. Run with --set fixed=true to see the
-- right way: a closer goroutine waits for both producers, then closes.
scenario{
  name = "panic_send_closed",
  description = "Closing a channel while another goroutine still sends: panic, exit 2",
  params = { fixed = false },
}

-- Recovering a panic: pcall returns false and Go's message.
local spare = sim.chan(1)
spare:close()
local ok, err = pcall(function() spare:send("late") end)
sim.log("recovered:", err)
sim.expect(not ok and err == "send on closed channel", "pcall recovers the panic with Go's message")

local items = sim.chan(4)
local received = 0
local wg = sim.waitgroup()   -- main waits for both producers, as it should

local function producer(name, count, every, closes)
  for i = 1, count do
    sim.sleep(every)
    items:send(name .. " #" .. i)
  end
  if closes then
    sim.log("done sending; closing the channel (the bug)")
    items:close()
  end
  wg:done()
end

wg:add(2)
if sim.params.fixed then
  sim.go("fast", producer, "fast", 2, "10ms", false)
  sim.go("slow", producer, "slow", 4, "15ms", false)
  -- the right way: close once every sender is done
  sim.go("closer", function() wg:wait() items:close() end)
else
  sim.go("fast", producer, "fast", 2, "10ms", true)
  sim.go("slow", producer, "slow", 4, "15ms", false)
end

for v in items:range() do
  received = received + 1
  sim.log("got", v)
end
sim.log("the channel is closed after", received, "items")
wg:wait()
sim.expect(received == 6, "every item arrives when the channel is closed after the last send")
