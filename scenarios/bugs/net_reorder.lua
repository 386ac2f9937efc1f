-- Bug zoo: MESSAGE REORDERING ACROSS THE NETWORK. A client sets a key
-- twice on a replica, "x=1" then "x=2", as two messages; the replica
-- applies each as it arrives (last write wins). The network does not keep
-- order: with jitter the second message can arrive first, and the replica
-- ends with x=1, the value the client overwrote.
--
-- What to watch: "replica: x=1" and the failed check "the replica holds
-- the client's last write".
-- Find it:   chansim explore scenarios/bugs/net_reorder.lua --strategy random --first
-- The fix:   scenarios/bugs/net_reorder_fixed.lua (versioned writes: an older one is ignored)
scenario{
  name = "bug: message reordering",
  description = "two writes sent in order over the network, applied in arrival order",
  expect_failure = "invariant: the replica holds the client's last write",
}

local c = sim.cluster{ nodes = { "client", "replica" }, latency = "2ms", jitter = "1ms" }
local client, replica = c:node("client"), c:node("replica")
local value = nil
c:start()

replica:go(function()
  for _ = 1, 2 do
    local msg = replica:recv("set")
    value = msg.value                  -- applied in arrival order
  end
end)

client:go(function()
  client:send("replica", "set", { value = 1 })
  client:send("replica", "set", { value = 2 })
end)

sim.sleep("50ms")
print("replica: x=" .. tostring(value))
sim.expect(value == 2, "the replica holds the client's last write")
