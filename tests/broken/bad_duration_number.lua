-- Broken on purpose: a fractional number is not a duration (durations are
-- integer nanoseconds or strings such as "1.5s"). A panic (exit 2) naming it.
scenario{ name = "bad_duration_number", description = "sim.after with a float" }
local c = sim.after(1.5)
c:recv()
