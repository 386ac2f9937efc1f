-- Bug zoo (the seed's graceful shutdown): SUBMIT RACES CLOSE, fixed. The
-- corrected pool keeps its own closed flag: SubmitJob checks it and sends
-- under the pool's mutex, and the shutdown function sets it and closes the
-- job channel under the same mutex. A submit either lands before the
-- close or is refused "worker pool is shutting down".
--
-- Prove it: chansim explore scenarios/bugs/shutdown_submit_fixed.lua --runs 200
scenario{
  name = "bug fixed: shutdown's submit vs close",
  description = "the corrected pool: its closed flag checked and the job sent under its mutex",
  params = { variant = "corrected" },
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
sim.expect(accepted + refused == 20, "every submit is answered")
