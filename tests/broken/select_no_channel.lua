-- Broken on purpose: a select whose only case has no channel. Lua cannot
-- tell {} from { recv = ctx:done() } of a context never cancelled (Go's
-- nil channel, never ready), so beside a live case or a default it is a
-- nil channel; but a select nothing can ever fire would block in silence:
-- the scenario's error, naming the case, exit 3. sim.select{} blocks for
-- ever on purpose.
scenario{ name = "select_no_channel", description = "a select that could never fire" }
local ch = sim.chan(1)
ch:send(1)
local i = sim.select{ { recv = ch }, {} }   -- fine: case 2 is a nil channel
print("case", i)
sim.select{ {} }
