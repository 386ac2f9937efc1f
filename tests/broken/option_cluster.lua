-- Broken on purpose: a misspelt option of the simulated cluster, which was
-- once accepted silently (the link kept its default latency). Exit 3.
scenario{ name = "option_cluster", description = "sim.cluster{ latncy = \"2ms\" }" }
local c = sim.cluster{ nodes = { "n1", "n2" }, latncy = "2ms" }
print("never printed", c)
