-- Multi-stage pipeline: the seed's Validate -> Transform ->
-- ParallelStage(3) -> Enrich over its eight items ("Multi-Stage Pipeline
-- Pattern").
--
-- What it shows: Source sends the items one by one on an unbuffered
-- channel; each stage is a goroutine that forwards items to the next (an
-- item that failed earlier passes through untouched). Item 5 has nil data
-- and fails validation; item 7 is the integer 42 and Transform doubles it
-- to 84; the strings become "Transformed: item N". The parallel stage's
-- three workers each sleep a random 0-99ms per item and record their
-- worker_id in the metadata.
--
-- What to watch: the order of the output. Items enter the parallel stage
-- in order, but leave it when their worker finishes, so the output is
-- shuffled: an item with a short delay overtakes one with a long delay.
-- Item 5, which failed, skips the sleep and comes out early. Run with
-- another --seed to see another order. The times in the metadata are
-- simulated, and show backpressure: the channels are unbuffered, so
-- Transform handles items 1-4 at 0s, then waits with item 4 until a
-- worker is free, and items 6-8 are transformed only as workers free up.
--
-- The seed's code has no bug here; the reordering is what its parallel
-- stage does (if order matters, it needs a sequence number and a
-- reordering buffer after the stage).
scenario{
  name = "pipeline",
  description = "the seed's Validate, Transform, ParallelStage(3), Enrich over its eight items",
  seed = 1,
  duration = "10s",
  leaks = "fail",
  params = { workers = 3 },
}

local p = sim.pipeline{ workers = sim.params.workers }
local results = p:execute()  -- the seed's data: items 1-8
for _, result in ipairs(results) do
  print(result.text)
end

local by_id, st = {}, p:stats()
for _, r in ipairs(results) do by_id[r.id] = r end
print(string.format("\nOutput order: %s (%d of %d items overtaken by a later one)",
  table.concat(st.order, " "), st.overtaken, st.received))

sim.expect(#results == 8, "all eight items come out")
sim.expect(by_id[5].err == "invalid data: nil value", "item 5 fails validation")
sim.expect(by_id[7].data == 84, "item 7 (42) becomes 84")
sim.expect(by_id[1].data == "Transformed: item 1", "strings become \"Transformed: ...\"")
local workers_ok = true
for id, r in pairs(by_id) do
  if id ~= 5 then
    local w = r.metadata.worker_id
    workers_ok = workers_ok and w ~= nil and w >= 0 and w < sim.params.workers and r.metadata.enriched
  end
end
sim.expect(workers_ok, "every good item carries its worker_id and is enriched")
sim.expect(st.overtaken > 0, "the parallel stage reorders the items")
