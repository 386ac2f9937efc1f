-- Broken on purpose: a malformed duration given to a sim call at run time.
-- A panic (exit 2) whose message names the bad duration.
scenario{ name = "bad_duration", description = "sim.sleep with a malformed duration" }
sim.sleep("10ms")
sim.sleep("3 parsecs")
