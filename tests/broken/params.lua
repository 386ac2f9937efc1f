-- Not broken itself: a scenario with typed parameters, run by the tests with
-- bad --set options (an unknown name, a word for an integer, a float for an
-- integer, a word for a boolean, a malformed duration); each is exit 3 with
-- a message naming the option.
scenario{
  name = "params",
  description = "typed parameters for --set tests",
  params = { workers = 4, ratio = 0.5, verbose = false, timeout = "100ms", label = "x" },
}
print(sim.params.workers, sim.params.ratio, sim.params.verbose, sim.params.timeout, sim.params.label)
sim.expect(true, "loaded")
