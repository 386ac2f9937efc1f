-- leak.lua: goroutines leaked by a timeout, and how to catch them.
--
-- What it shows: a handler asks a slow backend for an answer and gives up
-- after a timeout (select with sim.after). The backend goroutine does not
-- know that nobody listens any more: when it finally has its answer, its
-- send on the unbuffered reply channel blocks forever. Each timed-out
-- request leaves one goroutine behind, holding whatever it references.
-- Nothing crashes and nothing deadlocks (main is not blocked), so Go says
-- nothing; a long-running server just grows until it falls over.
--
-- chansim notices: when main has returned and nothing can ever run again,
-- the goroutines still blocked are leaked, and the summary lists them with
-- what they wait for ([chan send]) and where they were created. By default
-- a leak is reported, not fatal (exit 0); scenario{ leaks = "fail" } makes
-- it fail the run with exit status 2, as goleak fails a Go test. Here the
-- header's leaks is a function of the params, so --set strict=true turns
-- the check on.
--
-- What to watch: "leaked: 3 goroutines" in the summary, each backend at
-- its send. The fix is a reply channel with room for the answer, so the
-- late send completes and the backend returns: --set fixed=true (no leak,
-- exit 0 even with --set strict=true).
scenario{
  name = "leak",
  description = "A timeout that leaks the goroutine it stopped waiting for; leaks = \"fail\" makes it exit 2",
  params = { requests = 6, timeout = "50ms", fixed = false, strict = false },
  leaks = function(params) return params.strict and "fail" or "report" end,
}

local P = sim.params
-- Every second request is slow: 80ms against a 50ms timeout.
local function latency(i) return i % 2 == 0 and "80ms" or "20ms" end

local function backend(i, reply)
  sim.sleep(latency(i))
  reply:send("answer " .. i)   -- unbuffered and abandoned: blocks forever
end

local served, timeouts = 0, 0
for i = 1, P.requests do
  local reply = P.fixed and sim.chan(1) or sim.chan()
  sim.go("backend" .. i, backend, i, reply)
  local which = sim.select{ { recv = reply }, { recv = sim.after(P.timeout) } }
  if which == 1 then
    served = served + 1
  else
    timeouts = timeouts + 1
    sim.log("request", i, "timed out")
  end
end
sim.log(served, "served,", timeouts, "timed out; main returns")

sim.expect(timeouts == P.requests // 2, "every slow request timed out")
sim.expect(served + timeouts == P.requests, "every request ended")
-- Still running now: the slow backends, which finish their sleep later.
sim.expect(sim.goroutines() == 1 + (P.fixed and 1 or timeouts),
           "main and the abandoned backends are alive when main returns")
