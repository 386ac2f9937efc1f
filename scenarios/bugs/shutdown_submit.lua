-- Bug zoo (the seed's graceful shutdown): SUBMIT RACES CLOSE. SubmitJob
-- tests IsShuttingDown and then sends on the job channel; the worker
-- pool's shutdown function closes that channel. A SIGTERM that lands
-- between a submit's test and its send makes the send hit a closed
-- channel: Go panics.
--
-- What to watch: "panic: send on closed channel" in a client, at the
-- SIGTERM instant (50ms, when the clients submit too).
-- Find it:   chansim explore scenarios/bugs/shutdown_submit.lua --first
-- The fix:   scenarios/bugs/shutdown_submit_fixed.lua (the corrected pool checks its own
--            closed flag and sends under its mutex; shutdown closes under the same mutex)
scenario{
  name = "bug: shutdown's submit vs close",
  description = "the seed's SubmitJob checks IsShuttingDown, then sends; shutdown closes in between",
  expect_failure = "panic: send on closed channel",
  params = { variant = "seed" },
}

local gs = sim.graceful_shutdown{ timeout = "1s", variant = sim.params.variant }
gs:start()
local pool = gs:worker_pool{ workers = 1, buffer = 100, job_time = "1ms" }

-- Four clients submit jobs back to back from the instant of the SIGTERM.
local accepted, refused = 0, 0
for c = 1, 4 do
  sim.go("client" .. c, function()
    sim.sleep("50ms")
    for i = 1, 5 do
      local ok = pool:submit_job(string.format("Job %d.%d", c, i))
      if ok then accepted = accepted + 1 else refused = refused + 1 end
    end
  end)
end

sim.at("50ms", function() gs:signal("SIGTERM") end, "kill -TERM")
gs:wait()
sim.sleep("100ms")
print(string.format("accepted %d, refused %d", accepted, refused))
