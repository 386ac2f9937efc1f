-- Bug zoo: MESSAGE REORDERING ACROSS THE NETWORK, fixed. Each write
-- carries a version (the client's sequence number); the replica applies a
-- write only if it is newer than what it holds, so a late "x=1" is
-- ignored whatever the arrival order.
--
-- Prove it: chansim explore scenarios/bugs/net_reorder_fixed.lua --strategy random --runs 100
scenario{
  name = "bug fixed: message reordering",
  description = "versioned writes: the replica ignores an older one that arrives late",
}

local c = sim.cluster{ nodes = { "client", "replica" }, latency = "2ms", jitter = "1ms" }
local client, replica = c:node("client"), c:node("replica")
local value, version = nil, 0
c:start()

replica:go(function()
  for _ = 1, 2 do
    local msg = replica:recv("set")
    if msg.version > version then      -- only a newer write wins
      value, version = msg.value, msg.version
    end
  end
end)

client:go(function()
  client:send("replica", "set", { value = 1, version = 1 })
  client:send("replica", "set", { value = 2, version = 2 })
end)

sim.sleep("50ms")
print("replica: x=" .. tostring(value))
sim.expect(value == 2, "the replica holds the client's last write")
