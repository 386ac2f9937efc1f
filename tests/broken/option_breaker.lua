-- Broken on purpose: a misspelt option of the circuit breaker. An option
-- table is the scenario's own text, so this is a scenario error (exit 3,
-- "file:line: message"), not a panic of the simulated program; the known
-- options are listed in the order the breaker declares them.
scenario{ name = "option_breaker", description = "sim.breaker{ max_failurs = 3 }" }
local cb = sim.breaker{ name = "svc", max_failurs = 3 }
print("never printed", cb)
