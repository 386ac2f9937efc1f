-- os.Exit(code): the program ends at once with that status; deferred calls
-- and other goroutines do not run (os_exit.go).
--| before
--! exit 3
sim.go("other", function() sim.sleep("1h"); print("never") end)
print("before")
local d <close> = setmetatable({}, { __close = function() print("never: deferred") end })
sim.exit(3)
