-- Leader election when the leader is cut off from the store, or paused.
--
-- Three candidates run the (corrected) LeaderElection with session TTL 3s
-- and lead until they lose it. Every 8s the current leader is cut off from
-- the store for 5s (--set fault=pause: frozen for 5s instead, as by a long
-- GC pause). Its keep-alives stop arriving, the store expires its lease
-- (and its leader key) at the first 500ms check after the last renewal +
-- TTL, and the next candidate in line becomes leader.
--
-- What to watch: with a partition the old leader's session gives up a TTL
-- after the last keep-alive reply, but clientv3 (3.4 and 3.5) looks at that
-- deadline only once a second, while the store expires the lease at the
-- first 500ms check after its own deadline: the next leader may step up
-- while the old one still believes it leads, for less than a second. With
-- a pause it cannot notice anything (its timers are frozen with it): the
-- paused one believes it leads for as long as the pause lasts. The
-- per-term check always holds (the store never gives one term to two
-- nodes); the per-instant check fails: two leaders at once, in different
-- terms, briefly under partitions, for seconds under pauses. That window is
-- why leaders need fencing (split_brain_fencing.lua).
scenario{
  name = "leader election under partitions",
  description = "the leader is cut off or paused every 8s: one leader per term; two at once under pauses",
  seed = 1,
  duration = "60s",
  params = { ttl = 3, every = "8s", cut_for = "5s", fault = "partition", candidates = 3 },
}

local names = { "etcd" }
for i = 1, sim.params.candidates do names[#names + 1] = "node" .. i end
local c = sim.cluster{ nodes = names, latency = "2ms", jitter = "1ms" }
local store = sim.etcd_server(c:node("etcd"))
c:start()
local lead = sim.leadership("/elections/service")
local leader_node = nil
local spans = {} -- { node, from, to }: when each node believed it led

for i = 1, sim.params.candidates do
  local n = c:node("node" .. i)
  n:go("main", function()
    local cli = store:client(n)
    while true do
      local le = sim.leader_election{ client = cli, election_id = "/elections/service",
                                      ttl = sim.params.ttl, track = lead }
      if le then
        local ctx, cancel = sim.context.with_cancel(sim.context.background())
        le:watch_leader(ctx)
        n:go("campaign", function() le:campaign(ctx) end)
        for is_leader in le:changes():range() do
          if is_leader then
            leader_node = n:name()
            spans[#spans + 1] = { node = n:name(), from = sim.now() }
            sim.log("leads term " .. le:term())
          else
            for _, sp in ipairs(spans) do
              if sp.node == n:name() and not sp.to then sp.to = sim.now() end
            end
            sim.log("lost the leadership")
            break
          end
        end
        cancel()
      end
      sim.sleep("1s") -- then stand again with a new session
    end
  end)
end

assert(sim.params.fault == "partition" or sim.params.fault == "pause" or sim.params.fault == "none",
  "fault: partition, pause or none")
if sim.params.fault ~= "none" then
  sim.every(sim.params.every, function()
    if leader_node then
      local n = c:node(leader_node)
      if sim.params.fault == "partition" then
        sim.log("cutting " .. leader_node .. " off from the store")
        c:partition({ leader_node }, { "etcd" })
        sim.sleep(sim.params.cut_for)
        c:heal()
      else
        sim.log("pausing " .. leader_node)
        n:pause()
        sim.sleep(sim.params.cut_for)
        n:resume()
      end
    end
  end)
end

sim.finally(function()
  local per_term, per_instant = lead:violations()
  print(string.format("leadership changes: %d; per-term violations: %d; per-instant violations: %d",
    lead:changes(), #per_term, #per_instant))
  for _, v in ipairs(per_instant) do
    print(string.format("  at %s: %s", sim.format_duration(v.t), v.what))
  end
  -- the longest time two nodes both believed they led
  local overlap = 0
  for i, a in ipairs(spans) do
    for j = i + 1, #spans do
      local b = spans[j]
      local from = math.max(a.from, b.from)
      local to = math.min(a.to or sim.now(), b.to or sim.now())
      if to - from > overlap then overlap = to - from end
    end
  end
  print("longest overlap of two leaders: " .. sim.format_duration(overlap))
  sim.expect(#per_term == 0, "one leader per term, always")
  if sim.params.fault ~= "none" then
    sim.expect(lead:changes() >= 2, "leadership changed hands")
  end
  if sim.params.fault == "pause" then
    sim.expect(#per_instant > 0 and overlap > sim.duration("1s"),
      "a paused leader overlaps with the next one for seconds")
  elseif sim.params.fault == "partition" then
    sim.expect(overlap < sim.duration("1s"),
      "a cut-off leader overlaps with the next one for less than a second")
  else
    sim.expect(#per_instant == 0, "no overlap without faults")
  end
end)

-- The cluster lives on after main's body: wait for the world until the
-- scenario's duration (main returning would end the run at once, as in Go).
sim.run()
