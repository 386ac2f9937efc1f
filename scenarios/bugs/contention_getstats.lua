-- Bug zoo (the seed's contention profiling): GetStats READS value UNDER
-- THE WRONG MUTEX. The writers change the shared resource's value holding
-- its mutex; GetStats reads value holding logMutex, which does not guard
-- it. Nothing orders the read after the writes: a data race, reported by
-- Go's race detector (go run -race) and by chansim's.
--
-- What to watch: "WARNING: DATA RACE", "Read at value by goroutine 1
-- (main)" against "Previous write at value by goroutine N (writer-0)".
-- Find it:   chansim run scenarios/bugs/contention_getstats.lua
--            (the race is in the fifo schedule already; expect_failure
--            = "race" turns the detector on, as --race does)
-- The fix:   scenarios/bugs/contention_getstats_fixed.lua (the corrected test reads value
--            after its goroutines are done)
scenario{
  name = "bug: contention's GetStats race",
  description = "the seed's contention test: GetStats reads value under logMutex while writers write it",
  expect_failure = "race",
}

local st = sim.contention_test{ rwmutex = false, readers = 1, writers = 1, duration = "30ms",
                                variant = "seed" }
print(string.format("value %d after %d accesses; %d goroutines left", st.final_value, st.access_count, st.goroutines_after))
-- The seed leaks its readers and writers (they stop only with ctx): end here.
sim.exit()
