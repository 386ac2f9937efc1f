-- entity_node.lua: sim.entity(kind, name, node) puts an entity under a
-- cluster node's own entity (drawn with the node); registered in
-- tests/CMakeLists.txt, which checks in the --log that the entity's parent
-- is the node's entity (#5: the cluster is #2, its node n1 #5).
scenario{ name = "entity_node", description = "an entity attached to a node" }

local c = sim.cluster{ nodes = { "n1" } }
local cache = sim.entity("cache", "n1-cache", c:node("n1"))
cache:state("warm")
local slot = sim.entity("slot", "s1", cache) -- an entity's child, as before
slot:set("used", 1)
local ok, err = pcall(sim.entity, "cache", "bad", c)
sim.expect(not ok and tostring(err):find("a sim.entity or a cluster's node", 1, true) ~= nil,
  "a parent that is neither an entity nor a node is refused: " .. tostring(err))
