-- Bug zoo (the seed's leader election on etcd): A CANDIDATE BLOCKED ON ITS
-- OWN NOTIFICATIONS. Campaign and WatchLeader both announce a win on
-- leaderCh (capacity 1), and Resign sends "not leader" on leaderCh from
-- the very goroutine that reads it. When a notification is already
-- waiting in the channel, that goroutine blocks on its own send for good:
-- the candidate never campaigns again.
--
-- What to watch: the dump at the end: a node's main blocked in
-- "chan send" on its own leaderCh; the failed check "no candidate is
-- stuck on its own channel".
-- Find it:   chansim explore scenarios/bugs/election_stuck.lua --first
-- The fix:   scenarios/bugs/election_stuck_fixed.lua (the corrected election: one
--            announcement per win, Resign never sends on the channel its caller reads)
scenario{
  name = "bug: election's blocked notifications",
  description = "the seed's LeaderElection: Resign sends on the channel its own caller reads",
  duration = "25s",
  expect_failure = "invariant: no candidate is stuck on its own channel",
  params = { variant = "seed" },
}

local names = { "etcd", "node1", "node2" }
local c = sim.cluster{ nodes = names, latency = "2ms", jitter = "1ms" }
local store = sim.etcd_server(c:node("etcd"))
c:start()

for i = 1, 2 do
  local n = c:node("node" .. i)
  n:go("main", function()
    local election = assert(sim.leader_election{ client = store:client(n),
      election_id = "/elections/zoo", variant = sim.params.variant })
    local ctx = sim.context.with_timeout(sim.context.background(), "25s")
    election:watch_leader(ctx)
    n:go("campaign", function() election:campaign(ctx) end)
    for is_leader in election:changes():range() do
      if is_leader then
        sim.sleep("3s")                       -- lead
        election:resign(ctx)
      else
        sim.sleep("1s")                       -- follow, then campaign again
        n:go("campaign", function() election:campaign(ctx) end)
      end
    end
  end)
end

sim.finally(function()
  -- Which candidates' main loops are stuck sending on their own channel?
  local stuck = {}
  for block in (sim.dump() .. "\n\ngoroutine"):gmatch("goroutine %d+ (.-)\n\n") do
    local node = block:match("^%[chan send[^\n]*\n.-(node%d+)/main")
    if node then stuck[#stuck + 1] = node end
  end
  table.sort(stuck)
  print("main loops blocked on their own leaderCh: " .. (#stuck > 0 and table.concat(stuck, ", ") or "none"))
  sim.expect(#stuck == 0, "no candidate is stuck on its own channel")
end)

-- The cluster lives on after main's body: wait for the world until the
-- scenario's duration (main returning would end the run at once, as in Go).
sim.run()
