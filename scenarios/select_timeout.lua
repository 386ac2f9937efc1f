-- select_timeout.lua: a call with a timeout, made of select and time.After.
--
-- What it shows: the Go idiom
--
--   select {
--   case r := <-reply:           // the answer came in time
--   case <-time.After(timeout):  // give up
--   }
--
-- written as sim.select{ {recv = reply}, {recv = sim.after(timeout)} }.
-- sim.select returns the 1-based index of the case that fired, then the
-- value received and ok. A client calls a slow backend six times, one call
-- after the other; the backend's latencies are fixed so you can predict
-- the result: every call slower than the timeout gives up at exactly the
-- timeout, every faster call returns at exactly its latency.
--
-- The reply channel has capacity 1, so a backend that answers after the
-- client gave up can still deliver its answer and return: no goroutine is
-- left blocked (compare leak.lua, where it is unbuffered).
--
-- What to watch: "timeout" lines 100ms after their call started; the late
-- backends answering afterwards (the run goes on to 500ms for backend5);
-- 0 goroutines alive at the end.
-- Try --set timeout=200ms (one timeout left) or --set timeout=20ms (all).
scenario{
  name = "select_timeout",
  description = "select with sim.after: calls to a slow backend give up after a timeout",
  params = { timeout = "100ms" },
}

local latencies = { "30ms", "80ms", "150ms", "40ms", "250ms", "90ms" }
local timeout = sim.duration(sim.params.timeout)

local function backend(i, latency, reply)
  sim.sleep(latency)
  reply:send("answer " .. i)   -- never blocks: the buffer has room for it
  if sim.duration(latency) > timeout then
    sim.log("answered too late: nobody is listening any more")
  end
end

local answered, timed_out, exact = 0, 0, true
for i, lat in ipairs(latencies) do
  local reply = sim.chan(1)
  sim.go("backend" .. i, backend, i, lat, reply)
  local start = sim.now()
  local which, value = sim.select{
    { recv = reply },
    { recv = sim.after(timeout) },
  }
  local took = sim.now() - start
  if which == 1 then
    answered = answered + 1
    sim.log("call", i, "->", value, "after", sim.format_duration(took))
    exact = exact and took == sim.duration(lat)
  else
    timed_out = timed_out + 1
    sim.log("call", i, "-> timeout after", sim.format_duration(took))
    exact = exact and took == timeout
  end
end

local want_late = 0
for _, lat in ipairs(latencies) do
  if sim.duration(lat) > timeout then want_late = want_late + 1 end
end
sim.log(answered, "answered,", timed_out, "timed out")
sim.expect(timed_out == want_late, "exactly the calls slower than the timeout timed out")
sim.expect(answered + timed_out == #latencies, "every call ended one way or the other")
sim.expect(exact, "each call took min(latency, timeout), to the nanosecond")

-- Let the other goroutines finish before the run ends (main returning
-- would end it at once, as in Go): they then leave nothing behind.
sim.run()
