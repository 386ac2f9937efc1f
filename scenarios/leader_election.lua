-- Leader election: the seed's LeaderElection over etcd's
-- concurrency.Election, with the seed's main loop on every candidate:
-- campaign; when told "you are the leader", lead for 10s and resign; when
-- told "you are a follower", wait 5s and campaign again.
--
-- What to watch: leadership passes from node to node in campaign order
-- (create revision); each leader's term is its key's create revision; the
-- checkers confirm one leader per term and one at any instant.
--
-- The seed's bugs (--set variant=seed): Campaign and WatchLeader both
-- announce the same win, so a leader hears "you are the leader" twice and
-- leads twice; and Resign sends on leaderCh from the very goroutine that
-- reads it, into a channel of one: when a notification is already
-- waiting, that goroutine blocks on its own send for good (watch the dump:
-- main blocked in "chan send" on its own channel, WatchLeader behind it).
scenario{
  name = "leader election",
  description = "the seed's LeaderElection on etcd: three candidates, lead 10s, resign, campaign again",
  seed = 1,
  duration = "60s",
  params = { variant = "corrected", candidates = 3, lead = "10s", rest = "5s" },
}

local names = { "etcd" }
for i = 1, sim.params.candidates do names[#names + 1] = "node" .. i end
local c = sim.cluster{ nodes = names, latency = "2ms", jitter = "1ms" }
local store = sim.etcd_server(c:node("etcd"))
c:start()

local lead = sim.leadership("/elections/my-service-leader")
local terms_led = {}

for i = 1, sim.params.candidates do
  local n = c:node("node" .. i)
  n:go("main", function()
    local cli = store:client(n)
    local election = assert(sim.leader_election{ client = cli, election_id = "/elections/my-service-leader",
                                                 variant = sim.params.variant, track = lead })
    local ctx = sim.context.with_timeout(sim.context.background(), "60s")
    election:watch_leader(ctx)
    sim.log("Node " .. election:node_id() .. " starting campaign...")
    n:go("campaign", function() election:campaign(ctx) end)
    for is_leader in election:changes():range() do
      if is_leader then
        sim.log("I am now the leader! Starting leader tasks... (term " .. election:term() .. ")")
        terms_led[#terms_led + 1] = n:name()
        sim.sleep(sim.params.lead)
        sim.log("Resigning leadership...")
        local ok, err = election:resign(ctx)
        if not ok then sim.log("Error resigning: " .. err) end
      else
        sim.log("I am now a follower. Waiting for leadership...")
        sim.sleep(sim.params.rest)
        sim.log("Starting new campaign...")
        n:go("campaign", function() election:campaign(ctx) end)
      end
    end
  end)
end

sim.finally(function()
  local per_term, per_instant = lead:violations()
  print(string.format("leadership changes: %d; leaders in order: %s", lead:changes(),
    table.concat(terms_led, ", ")))
  sim.expect(#per_term == 0, "one leader per term")
  sim.expect(#per_instant == 0, "one leader at any instant")
  -- Which candidates' main loops are stuck sending on their own channel?
  local stuck = {}
  for block in (sim.dump() .. "\n\ngoroutine"):gmatch("goroutine %d+ (.-)\n\n") do
    local node = block:match("^%[chan send[^\n]*\n.-(node%d+)/main")
    if node then stuck[#stuck + 1] = node end
  end
  table.sort(stuck)
  print("main loops blocked on their own leaderCh: " .. (#stuck > 0 and table.concat(stuck, ", ") or "none"))
  if sim.params.variant == "corrected" then
    sim.expect(#terms_led >= 4, "leadership went round")
    sim.expect(#stuck == 0, "no candidate is stuck")
  else
    sim.expect(#stuck > 0, "the seed's Resign blocks a candidate on its own channel")
  end
end)

-- The cluster lives on after main's body: wait for the world until the
-- scenario's duration (main returning would end the run at once, as in Go).
sim.run()
