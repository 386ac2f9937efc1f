-- Broken on purpose: a select case with a misspelt key. {rcev = ch} has no
-- channel, so it would be a nil-channel case that is never ready and the
-- goroutine would block forever in silence; an unknown key in a case is the
-- scenario's error, exit 3.
scenario{ name = "select_misspelt", description = "sim.select{ {rcev = ch} }" }
local ch = sim.chan(1)
ch:send("x")
local i, v = sim.select{
  { rcev = ch },
}
print(i, v)
