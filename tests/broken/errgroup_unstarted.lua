-- Broken on purpose: main starts errgroup goroutines (g:go, g:try_go) and
-- panics before they run. Their jobs (the function and its arguments) were
-- malloc'd and freed only when the goroutine started, so a run that ended
-- first leaked them (found by tests/fuzz.sh; LeakSanitizer at exit).
scenario{ name = "errgroup_unstarted", description = "errgroup goroutines that never start" }
local g = sim.errgroup()
g:go(function(a, b) return nil end, 1, "two")
g:try_go("named", function() return nil end)
error("main fails before the errgroup's goroutines run")
