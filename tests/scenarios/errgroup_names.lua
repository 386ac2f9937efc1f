-- Named errgroup goroutines (g:go("name", fn), g:go({ name =, role = }, fn)):
-- their names are in the goroutine dump of a deadlock (mode=deadlock), in the
-- race detector's report (mode=race, with --race) and in the trace (the
-- goroutine's thread name). tests/errgroup_names.sh checks all three.
scenario{
  name = "errgroup_names",
  description = "named errgroup goroutines in the dump, the race report and the trace",
  params = { mode = "deadlock" },
}

local g = sim.errgroup()
if sim.params.mode == "race" then
  local c = sim.shared("c", 0)
  g:go("writer-a", function() c.value = 1 end)
  g:go({ name = "writer-b", role = "worker" }, function() c.value = 2 end)
  g:wait()
else
  local ch = sim.chan()
  g:go("stuck-recv", function() ch:recv() end)
  g:go({ name = "stuck-send", role = "worker" }, function() sim.chan():send(1) end)
  g:wait()
end
