-- Broken on purpose: os.time reads the wall clock, which would make two
-- runs differ. It says so and points at sim.now() (exit 2).
scenario{ name = "os_time", description = "determinism: os.time" }
math.randomseed(os.time())
