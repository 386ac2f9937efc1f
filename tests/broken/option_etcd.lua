-- Broken on purpose: a misspelt option of an etcd recipe, read in a node's
-- goroutine at run time. Still a scenario error (exit 3) at the line of
-- the call, not a panic of that goroutine.
scenario{ name = "option_etcd", description = "sim.distributed_mutex{ lockpath = ... }" }
local c = sim.cluster{ nodes = { "etcd", "n1" } }
local store = sim.etcd_server(c:node("etcd"))
c:start()
c:node("n1"):go("worker", function()
  local cli = store:client(c:node("n1"))
  local dm = sim.distributed_mutex{ client = cli, lockpath = "/locks/x" }
  print("never printed", dm)
end)
sim.sleep("1s")
