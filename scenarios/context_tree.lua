-- context_tree.lua: cancellation flows down a tree of contexts.
--
-- What it shows: Go's context package. Each context is derived from a
-- parent; cancelling a context (or reaching its deadline) cancels all of
-- its descendants, never its parent. A child's effective deadline is the
-- earlier of its own and its parent's. The tree here:
--
--   root      with_cancel(background)        main cancels it at 400ms
--   +- api    with_timeout(root, 300ms)
--   |  +- db     with_timeout(api, 100ms)    its own deadline, first
--   |  +- cache  with_timeout(api, 1s)       but api ends it at 300ms
--   +- batch  with_deadline(root, at 500ms)  root ends it first, at 400ms
--   |  +- job    with_cancel(batch)
--   +- audit  without_cancel(root)           never cancelled
--
-- One goroutine per context waits on ctx:done() (with a 1s give-up timer)
-- and logs when it fired and ctx:err(): "context deadline exceeded" when a
-- deadline passed (its own or an ancestor's), "context canceled" when a
-- cancel function was called.
--
-- What to watch: db at 100ms, api and cache together at 300ms (cache's own
-- 1s deadline never matters: its deadline() is 300ms), root, batch and job
-- together at 400ms with "context canceled" (batch's 500ms deadline never
-- comes), and audit still running at 1s: its done() is nil, and a select
-- case on a nil channel is never ready, exactly as in Go.
scenario{
  name = "context_tree",
  description = "Cancellation and deadlines propagating through a tree of contexts",
  params = { cancel_root_at = "400ms" },
}

local C = sim.context
local root, cancel_root = C.with_cancel(C.background())
local api, cancel_api = C.with_timeout(root, "300ms")
local db, cancel_db = C.with_timeout(api, "100ms")
local cache, cancel_cache = C.with_timeout(api, "1s")
local batch, cancel_batch = C.with_deadline(root, "500ms")
local job, cancel_job = C.with_cancel(batch)
local audit = C.without_cancel(root)

local fired = {}   -- name -> { t = when, err = why }

local function watch(name, ctx)
  sim.go(name, function()
    local which = sim.select{
      { recv = ctx:done() },          -- nil for audit: never ready
      { recv = sim.after("1s") },
    }
    if which == 1 then
      fired[name] = { t = sim.now(), err = ctx:err() }
      sim.log("done:", ctx:err())
    else
      sim.log("still not cancelled after 1s")
    end
  end)
end

for _, node in ipairs{ { "root", root }, { "api", api }, { "db", db }, { "cache", cache },
                       { "batch", batch }, { "job", job }, { "audit", audit } } do
  watch(node[1], node[2])
end

sim.expect(cache:deadline() == sim.duration("300ms"), "cache's deadline is its parent's, the earlier one")
sim.expect(batch:deadline() == sim.duration("500ms"), "batch's deadline is its own")
sim.expect(root:deadline() == nil, "root has no deadline")

sim.sleep(sim.params.cancel_root_at)
sim.log("cancelling root")
cancel_root()
sim.sleep("1s")

-- Go asks you to call every cancel function, even after the fact: it is
-- harmless and releases the timers.
for _, cancel in ipairs{ cancel_api, cancel_db, cancel_cache, cancel_batch, cancel_job } do cancel() end

-- The rule, as a model: a context ends at the earliest deadline on its path
-- to the root, or when root is cancelled, whichever comes first; the error
-- says which. Check every watcher against it (for any --set cancel_root_at).
local ms = 1000000
local R = sim.duration(sim.params.cancel_root_at)
local path_deadline = { root = math.maxinteger, api = 300 * ms, db = 100 * ms, cache = 300 * ms,
                        batch = 500 * ms, job = 500 * ms }
local agree = true
for name, d in pairs(path_deadline) do
  local t, err = d, "context deadline exceeded"
  if R < d then t, err = R, "context canceled" end
  local f = fired[name]
  if not (f and f.t == t and f.err == err) then
    agree = false
    sim.log("model and run disagree on", name)
  end
end
sim.expect(agree, "every context ended when and why the rule says")
sim.expect(fired.db and fired.db.t == math.min(100 * ms, R), "db ended at its own deadline (or root's cancel)")
sim.expect(fired.cache and fired.api and fired.cache.t == fired.api.t, "cache ended with its parent api, not at its own 1s")
sim.expect(fired.audit == nil and audit:err() == nil, "audit was never cancelled")
