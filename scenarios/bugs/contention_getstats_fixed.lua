-- Bug zoo (the seed's contention profiling): GetStats READS value UNDER
-- THE WRONG MUTEX, fixed. The corrected test cancels its goroutines,
-- waits for them, and reads value after: the WaitGroup orders every
-- write before the read.
--
-- Prove it: chansim explore scenarios/bugs/contention_getstats_fixed.lua --race --runs 100
scenario{
  name = "bug fixed: contention's GetStats race",
  description = "the corrected contention test: value read after the writers are done",
}

local st = sim.contention_test{ rwmutex = false, readers = 1, writers = 1, duration = "30ms",
                                variant = "corrected" }
print(string.format("value %d after %d accesses; %d goroutines left", st.final_value, st.access_count, st.goroutines_after))
sim.expect(st.goroutines_after == 1, "the test leaves no goroutine behind")
