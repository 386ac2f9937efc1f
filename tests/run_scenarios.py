#!/usr/bin/env python3
"""Scenario tests for chansim, run by CTest:

    run_scenarios.py CHANSIM SOURCE_DIR

- every scenarios/*.lua runs and gives its expected exit status and key
  lines of output (the table SCENARIOS; a scenario not in it must exit 0);
- each runs twice with one seed: byte-identical standard output, one hash;
- racy scenarios give different hashes under --strategy random with two
  seeds, and a schedule written by --schedule-out replays (--schedule) to
  the identical hash;
- the broken corpus (tests/broken) gives its clear error and exit status;
- --help, run --help, --version and list work;
- no run of chansim ends by a signal or with a sanitizer report.

It works with the normal and the sanitizer (ASan + UBSan) build: the runs
are short, the time limits generous.
"""

import concurrent.futures
import os
import re
import shutil
import subprocess
import sys
import tempfile

TIMEOUT = 120  # seconds per run; the slowest run takes well under 1s

# scenario -> expectations. exit: the status; out / err: substrings that
# must appear in standard output / standard error; racy: two seeds under
# --strategy random give two different traces; variants: (extra args, exit,
# out substrings, err substrings) run in addition.
SCENARIOS = {
    "hello": dict(
        exit=0,
        out=["main.main: starting 3 goroutines", "Grace: hello, I slept 100ms",
             "Ada: hello, I slept 300ms", "main.main: all 3 said hello",
             "expectations: 3 passed, 0 failed"],
        racy=True,
        variants=[(["--set", "n=5"], 0, ["Radia: hello, I slept 100ms", "all 5 said hello"], [])],
    ),
    "ping_pong": dict(
        exit=0,
        out=["[0.000000s] ping: hit 1", "[0.050000s] pong: hit 2", "[0.350000s] pong: hit 8",
             "game over after 8 hits", "0 alive at the end", "expectations: 3 passed, 0 failed"],
        variants=[(["--set", "rounds=10", "--set", "hold=1ms"], 0, ["game over after 20 hits"], [])],
    ),
    "deadlock": dict(
        exit=2,
        out=["result:       deadlock", "expectations: 1 passed, 0 failed", "exit status:  2"],
        err=["fatal error: all goroutines are asleep - deadlock!",
             "goroutine 1 [sync.WaitGroup.Wait]:", "goroutine 2 [chan send]:",
             "worker1(...)", "deadlock.lua:35", "created by main.main in goroutine 1"],
        variants=[(["--set", "fixed=true"], 0,
                   ["sum of squares: 14", "expectations: 2 passed, 0 failed"], [])],
    ),
    "panic_send_closed": dict(
        exit=2,
        out=["recovered: send on closed channel", "closing the channel (the bug)",
             "the channel is closed after 3 items", "result:       panic"],
        err=["panic: send on closed channel\n\ngoroutine 3 [running]:", "slow(...)",
             "goroutine 1 [sync.WaitGroup.Wait]:"],
        variants=[(["--set", "fixed=true"], 0, ["got slow #4", "expectations: 2 passed, 0 failed"], [])],
    ),
    "select_timeout": dict(
        exit=0,
        out=["call 1 -> answer 1 after 30ms", "call 3 -> timeout after 100ms",
             "call 5 -> timeout after 100ms", "4 answered, 2 timed out",
             "[0.500000s] backend5: answered too late", "0 alive at the end",
             "expectations: 3 passed, 0 failed"],
        variants=[(["--set", "timeout=20ms"], 0, ["0 answered, 6 timed out"], [])],
    ),
    "context_tree": dict(
        exit=0,
        out=["[0.100000s] db: done: context deadline exceeded",
             "[0.300000s] api: done: context deadline exceeded",
             "[0.300000s] cache: done: context deadline exceeded",
             "[0.400000s] root: done: context canceled",
             "[0.400000s] job: done: context canceled",
             "[1.000000s] audit: still not cancelled after 1s",
             "expectations: 7 passed, 0 failed"],
        racy=True,
        variants=[(["--set", "cancel_root_at=50ms"], 0,
                   ["[0.050000s] db: done: context canceled", "expectations: 7 passed, 0 failed"], [])],
    ),
    "mutex_vs_rwmutex": dict(
        exit=0,
        out=["main.main: Mutex ", "main.main: RWMutex ", "contended acquisitions",
             "CPUs 25% busy", "expectations: 4 passed, 0 failed"],
        racy=True,
    ),
    "producer_consumer_poisson": dict(
        exit=0,
        out=["requests served in", "queue depth: mean", "(capacity 8)", "waited for room",
             "latency: mean", " p99 ", "expectations: 5 passed, 0 failed"],
        racy=True,
    ),
    "leak": dict(
        exit=0,
        out=["request 2 timed out", "3 served, 3 timed out",
             "result:       finished (nothing left to run)",
             "leaked:       3 goroutines blocked forever after main returned",
             "goroutine 3 [chan send]:", "backend2(...)", "expectations: 3 passed, 0 failed"],
        variants=[
            (["--set", "strict=true"], 2, ["leaked:       3 goroutines", "exit status:  2"],
             ["3 goroutines leaked"]),
            (["--set", "strict=true", "--set", "fixed=true"], 0, ["0 alive at the end"], []),
        ],
    ),
    "graceful_degradation": dict(
        exit=0,
        out=["1.00s Service level changed from Full to Minimal: cpu 88 >= 85 (Minimal)",
             "3.00s Service level changed from Full to Emergency: cpu 99 >= 95 (Emergency)",
             "admissions over the bound in force: 0; executors created: 1",
             "Level changes in the calm tail: 1", "expectations: 8 passed, 0 failed"],
        variants=[(["--set", "variant=seed_measured"], 0,
                   ["5.00s Service level changed from Full to Emergency: cpu 99 >= 95 (Emergency)",
                    "Most requests executing at once: 25 (bound at Full: 20); admissions over the bound in force: 109",
                    "Level changes in the calm tail: 4", "expectations: 7 passed, 0 failed"], []),
                  # the seed proper: its own made-up cpu and memory, its own lines
                  (["--set", "variant=seed"], 0,
                   ["  1.00s Load: CPU 32%, Mem 41%, Rate 50 req/s, Errors 4%, Level 0",
                    "  9.00s Service level changed from 0 to 3  (errorRate 23 >= 20 (Emergency))",
                    " 17.00s Load: CPU 90%, Mem 71%, Rate 1999 req/s, Errors 85%, Level 3",
                    "Requests in the load test: 15483 ", "Level changes: 1; metrics updates: 16",
                    "After the test: level Emergency, pool 5", "expectations: 7 passed, 0 failed"], []),
                  # and as real Go 1.19 on Linux runs it: its sub-millisecond
                  # sleeps last a millisecond, so ~11,000 requests, a line every ~2.6s
                  (["--set", "variant=seed", "--timer-slack", "go-linux"], 0,
                   [" 10.58s Service level changed from 0 to 3  (errorRate 24 >= 20 (Emergency))",
                    "Requests in the load test: 11298 ", "Level changes: 1; metrics updates: 12",
                    "expectations: 7 passed, 0 failed"], []),
                  (["--set", "variant=seeds"], 3, [], ["variant", "seed_measured"])],
    ),
    "graceful_degradation_flapping": dict(
        exit=0,
        out=["none: 12 level changes", "dwell 5s: 5 level changes",
             "band 60% + dwell 3s: 2 level changes", "expectations: 5 passed, 0 failed"],
    ),
    "observability": dict(
        exit=0,
        out=["[high-priority] Job high-0 succeeded: high priority result",
             "Worker pools shut down", "Without it: 15 series",
             "With the job ID as a label: 89 series for 40 jobs", "expectations: 4 passed, 0 failed"],
        variants=[(["--set", "variant=seed"], 0, ["With the job ID as a label: 89 series for 40 jobs",
                                                  "result:       sim.exit()"], [])],
    ),
    # The flow patterns (issue 4 items 1, 2, 3, 5, 11).
    "fan_out_fan_in": dict(
        exit=0,
        out=["Summary: 17 succeeded, 3 failed", "Task 0 failed: processing error on task 0",
             "Task 7 failed: processing error on task 7", "Task 14 failed: processing error on task 14",
             "goroutines alive: 1 (main only)", "expectations: 4 passed, 0 failed"],
        racy=True,
        variants=[(["--set", "workers=1"], 1,
                   ["Summary: 17 succeeded, 3 failed", "[FAIL] tasks 0-9 finish by 200ms"], []),
                  (["--set", "workers=0"], 3, [],
                   ["fan_out_fan_in.lua:38: sim.fan_out_fan_in: workers must be an integer from 1 to "
                    "100000 (got 0)"])],
    ),
    "fan_out_fan_in_deadline": dict(
        exit=0, out=["goroutines alive at the end: 1", "expectations: 6 passed, 0 failed"]),
    "priority_mux": dict(
        exit=0,
        out=["Processed: event-type-", "Forwarded event from critical (priority 10)",
             "expectations: 11 passed, 0 failed"],
        racy=True,
        variants=[(["--set", "variant=seed"], 0, ["expectations: 11 passed, 0 failed"], []),
                  (["--set", "variant=fast"], 3, [],
                   ["priority_mux.lua:47: sim.priority_mux: variant must be \"corrected\" or \"seed\" "
                    "(got \"fast\")"])],
    ),
    "priority_mux_overload": dict(
        exit=0, out=["events handled by the consumer", "expectations: 6 passed, 0 failed"], racy=True),
    "first_response": dict(
        exit=0,
        out=["Executing distributed operations with redundancy...", "Executing with multiple attempts...",
             "Attempt 1...", "expectations: 3 passed, 0 failed"],
        racy=True,
        variants=[(["--set", "variant=seed"], 0, ["expectations: 3 passed, 0 failed"], [])],
    ),
    "first_response_degraded": dict(exit=0, out=["expectations: 7 passed, 0 failed"]),
    "pipeline": dict(
        exit=0,
        out=["Item 5 failed: invalid data: nil value", "Item 7 processed: 84 with metadata: map[enriched:true",
             "Item 1 processed: Transformed: item 1 with metadata: map[", "expectations: 6 passed, 0 failed"],
        racy=True,
        variants=[(["--set", "workers=1"], 1,
                   ["Output order: 1 2 3 4 5 6 7 8 (0 of 8", "[FAIL] the parallel stage reorders the items"],
                   [])],
    ),
    "pipeline_backpressure": dict(exit=0, out=["expectations: 5 passed, 0 failed"]),
    "bounded_concurrency": dict(
        exit=0,
        out=["Summary:", "- Total operations: 50", "- Rejected: 0", "expectations: 5 passed, 0 failed"],
        variants=[(["--set", "interval=10ms"], 0,
                   ["rejected: operation rejected: context deadline exceeded",
                    "expectations: 3 passed, 0 failed"], [])],
    ),
    "bounded_concurrency_burst": dict(exit=0, out=["expectations: 7 passed, 0 failed"]),
    "contention": dict(
        exit=0,
        out=["Mutex          5       5", "RWMutex       50       5", "expectations: 4 passed, 0 failed"],
        variants=[(["--set", "variant=seed"], 0,
                   ["the seed's tests leak every reader and writer", "result:       sim.exit()"], [])],
    ),
    "context_propagation": dict(
        exit=0,
        out=["critical path of ServiceA: 850ms",
             "request failed at 800ms: context deadline exceeded",
             "request failed at 300ms: dependency ServiceB failed: context deadline exceeded",
             "expectations: 4 passed, 0 failed"],
        variants=[(["--set", "first_deadline=900ms"], 0,
                   ["request succeeded at 850ms: Response from ServiceA for request req-1"], [])],
    ),
    "distributed_mutex": dict(
        exit=0,
        out=["lock order: node3, node1, node2", "owner says \"/locks/my-critical-section/",
             "expectations: 4 passed, 0 failed"],
        variants=[(["--set", "variant=seed"], 0, ["owner says \"\")"], [])],
    ),
    "leader_election": dict(
        exit=0,
        out=["main loops blocked on their own leaderCh: none", "expectations: 4 passed, 0 failed"],
        variants=[(["--set", "variant=seed"], 0,
                   ["main loops blocked on their own leaderCh: node2",
                    "the seed's Resign blocks a candidate on its own channel"], [])],
    ),
    "distributed_semaphore": dict(
        exit=0,
        out=["demo       seed: 5 acquired, 0 timed out", "at most 3 holders",
             "under contention the seed's semaphore times some acquirers out"],
        variants=[(["--set", "fair=true"], 0,
                   ["contention fair: 60 acquired, 0 timed out, 60 attempts (0 refused)",
                    "expectations: 2 passed, 0 failed"], [])],
    ),
    "split_brain_fencing": dict(
        exit=0,
        out=["node1 write 3: stale token 2 < 4", "expectations: 2 passed, 0 failed"],
        variants=[(["--set", "fencing=false", "--set", "owner_guard=true"], 0,
                   ["node1 write 3: refused by the store: not the lock's owner",
                    "expectations: 2 passed, 0 failed"], []),
                  (["--set", "fencing=false"], 1,
                   ["node1 write 3: accepted",
                    "[FAIL] invariant storage: one writer at a time: stale write: node1 wrote with token 2 "
                    "after node2 wrote with token 4 (checker, at 12.000000000s, and 12 times more)"], [])],
    ),
    "lock_handoff_crash": dict(
        exit=0,
        out=["node1#0  got the lock", "node2#0  got the lock at 6.512530395s",
             "expectations: 4 passed, 0 failed"],
    ),
    "etcd_leader_crash": dict(
        exit=0,
        out=["[4.000000s] fault: crashing the etcd leader e1 (term 1)", "lock order: node1, node2, node3",
             "etcd leader: e1 then e3 (term 1 then 2)",
             "failure: node1 unlock: failed to release lock: etcdserver: request timed out",
             "expectations: 4 passed, 0 failed"],
        variants=[(["--set", "members=5"], 0, ["(term 1 then 2)", "expectations: 4 passed, 0 failed"], []),
                  (["--set", "fault=partition"], 0,
                   ["[4.000000s] fault: cutting off the etcd leader e1 (term 1)",
                    "etcd leader: e1 then e3 (term 1 then 2)",
                    "failure: node2 lock: failed to acquire lock: etcdserver: request timed out",
                    "expectations: 3 passed, 0 failed"], [])],
    ),
    "store_crash": dict(
        exit=0,
        out=["put failed: etcdserver: request timed out", "/counters/client1 reads back 60",
             "177 writes acknowledged, 3 timed out", "expectations: 3 passed, 0 failed"],
    ),
    "election_partition": dict(
        exit=1,
        out=["per-term violations: 0; per-instant violations: 4",
             "longest overlap of two leaders: 498.545156ms",
             "[pass] a cut-off leader overlaps with the next one for less than a second"],
        variants=[(["--set", "fault=pause"], 1,
                   ["per-term violations: 0; per-instant violations: 7",
                    "[pass] a paused leader overlaps with the next one for seconds"], []),
                  (["--set", "fault=none"], 0, ["expectations: 2 passed, 0 failed"], [])],
    ),
    # The resilience patterns (issue 4 items 4, 6, 7, 8).
    "worker_pool": dict(
        exit=0,
        out=["[0.500000s] pool: Scaling up: Adding 1 workers (utilization: 1.00, pending: 32)",
             "- Queue high water: 100   (buffer high water: 90)",
             "Rejected submissions: 0; results received: 225 (23 failed); peak workers: 15",
             "expectations: 21 passed, 0 failed"],
        # exact figures hold under fifo only (see the scenario): other
        # schedules are checked with exact=false
        variants=[(["--set", "variant=seed"], 0,
                   ["[7.000000s] pool: Scaling down: Removing 1 workers (utilization: 0.00)",
                    "expectations: 21 passed, 0 failed"], []),
                  (["--strategy", "random", "--seed", "2", "--set", "exact=false"], 0,
                   ["expectations: 6 passed, 0 failed"], []),
                  (["--strategy", "pct:3", "--seed", "3", "--set", "exact=false"], 0,
                   ["expectations: 6 passed, 0 failed"], [])],
    ),
    "worker_pool_overload": dict(
        exit=0,
        out=["Submitted 354; rejected: 486 job queue is full, 30 pool is shut down",
             "abandoned (accepted, never processed): 50", "expectations: 12 passed, 0 failed"],
        variants=[(["--set", "variant=seed"], 2,
                   ["- Current workers: 0\n- Active workers: 14", "result:       panic"],
                   ["panic: send on closed channel"]),
                  (["--strategy", "random", "--seed", "2", "--set", "exact=false"], 0, [], [])],
    ),
    "circuit_breaker": dict(
        exit=0,
        out=["[4s] Circuit breaker example-service changed from closed to open",
             "[9s] Circuit breaker example-service changed from open to half-open",
             "[10s] Circuit breaker example-service changed from half-open to open",
             "average_response_time: 166.666666ms", "expectations: 24 passed, 0 failed"],
        racy=True,
        variants=[(["--set", "variant=seed"], 0,
                   ["[9.5s] Circuit breaker example-service changed from open to half-open",
                    "expectations: 24 passed, 0 failed"], []),
                  (["--set", "reset_timeout=2s"], 0,
                   ["changed from half-open to closed"], []),
                  # real sleeps overshoot: request 18 lands just past the
                  # strict 5s boundary and probes, as in every real run
                  (["--set", "variant=seed", "--timer-slack", "linux"], 1,
                   ["Request 18: (t=9.000769878s)",
                    "[9.000769878s] Circuit breaker example-service changed from open to half-open",
                    "--timer-slack linux"], []),
                  (["--set", "variant=seed", "--timer-slack", "20us"], 1,
                   ["Request 18: (t=9.00044s)", "changed from open to half-open"], []),
                  (["--timer-slack", "uniform:2,1"], 3, [], ["--timer-slack"])],
    ),
    "circuit_breaker_flapping": dict(
        exit=0,
        out=["max admitted in one half-open period          9          2",
             "calls while it was down                    60         30",
             "expectations: 15 passed, 0 failed"],
        racy=True,
    ),
    "graceful_shutdown": dict(
        exit=0,
        out=["Job 10  2s       202, completed by worker 1 at 2.2s (a final job)",
             "Graceful shutdown completed successfully",
             "completed 11, refused at entry (503) 2, refused in flight 0", "lost 0",
             "expectations: 11 passed, 0 failed"],
        racy=True,
        variants=[(["--set", "variant=seed"], 0,
                   ["Job 10  2s       503 after reading the request: worker pool is shutting down",
                    "expectations: 11 passed, 0 failed"], [])],
    ),
    "graceful_shutdown_timeout": dict(
        exit=0,
        out=["[8.050000s] shutdown: Graceful shutdown timed out",
             "Error shutting down worker-pool: context deadline exceeded", "lost 7",
             "expectations: 8 passed, 0 failed"],
        racy=True,
        variants=[(["--set", "variant=seed"], 0, ["lost 6", "expectations: 8 passed, 0 failed"], [])],
    ),
    "leak_detection": dict(
        exit=0,
        out=["A alerts: 0", "B alerts: 3 at 600ms (count 104), 3.6s (count 54), 5.6s (count 154)",
             "C alerts: 2 at 8.1s (count 154), 10.1s (count 154)",
             "150  [select (no cases)]  main.simulateLeakingGoroutines.func1",
             "leaked:       150 goroutines blocked forever", "expectations: 9 passed, 0 failed"],
        racy=True,
    ),
    "leak_detection_slow_leak": dict(
        exit=0,
        out=["B (seed) alerts: 15 at 2.15s", "C (corrected) alerts: 1 at 32.6s",
             "46  [chan send]  fetchProfile", "expectations: 7 passed, 0 failed"],
        racy=True,
    ),
}

# tests/broken/FILE -> (extra args, exit status, stderr substrings, stdout substrings)
BROKEN = {
    "syntax_error.lua": ([], 3, ["syntax_error.lua:6: unexpected symbol near '='"], []),
    "runtime_error.lua": ([], 2, ["panic: runtime_error.lua:6: attempt to index a nil value",
                                  "goroutine 2 [running]:", "worker(...)", "runtime_error.lua:10"], []),
    "bad_duration.lua": ([], 2, ["panic: bad_duration.lua:5: bad duration \"3 parsecs\""], []),
    "bad_duration_number.lua": ([], 2, ["bad_duration_number.lua:4: bad duration 1.5"], []),
    "bad_header_duration.lua": ([], 3, ["bad_header_duration.lua:4: scenario duration:",
                                        "\"forever\""], []),
    "unknown_header_field.lua": ([], 3, ["unknown_header_field.lua:3:",
                                         "unknown field \"durration\""], []),
    "os_execute.lua": ([], 2, ["os_execute.lua:4: os.execute is not available in a scenario"], []),
    "io_popen.lua": ([], 2, ["io_popen.lua:4: io.popen is not available in a scenario"], []),
    "io_open_write.lua": ([], 2, ["io_open_write.lua:5: io.open is not available in a scenario"], []),
    "require_outside.lua": ([], 2, ["require_outside.lua:5:", "module names are letters"], []),
    "loadfile_outside.lua": ([], 2, ["loadfile_outside.lua:4: cannot load \"/etc/passwd\""], []),
    "load_binary.lua": ([], 2, ["load_binary.lua:6: attempt to load a binary chunk"], []),
    "debug_library.lua": ([], 2, ["debug_library.lua:6: debug.getregistry: the debug library is "
                                  "not available"], ["traceback works"]),
    "os_time.lua": ([], 2, ["os_time.lua:4: os.time is not available", "determinism"], []),
    "infinite_loop.lua": (["--instr-budget", "200000"], 2,
                          ["fatal error: goroutine 2 (spinner) ran", "infinite_loop.lua:10",
                           "an infinite loop?"], []),
    "infinite_loop_coroutine.lua": (["--instr-budget", "200000"], 2,
                                    ["fatal error: goroutine 1 (main.main) ran",
                                     "infinite_loop_coroutine.lua:7", "an infinite loop?"], []),
    "memory_bomb.lua": (["--mem-limit", "32"], 2,
                        ["fatal error: not enough memory", "bound of 32 MiB"], []),
    "memory_pcall_loop.lua": (["--mem-limit", "16"], 2,
                              ["fatal error: not enough memory", "bound of 16 MiB",
                               "memory_pcall_loop.lua:12"], []),
    "deep_recursion.lua": ([], 2, ["panic: deep_recursion.lua:6: stack overflow",
                                   "...additional frames elided...", "main.main(...)"], []),
    "c_stack_overflow.lua": ([], 2, ["stack overflow"], []),
    "invariant_loop.lua": (["--instr-budget", "200000"], 1, [],
                           ["[FAIL] invariant spins forever", "an infinite loop?"]),
    "check_mutates.lua": ([], 1, [],
                          ["chan:try_send cannot be called in an invariant or a finally check",
                           "chan:close cannot be called in an invariant or a finally check"]),
    "params.lua": ([], 0, [], ["4\t0.5\tfalse\t100ms\tx"]),
    # Scenarios have no finalizers (a __gc would run outside the budget, or
    # after the runtime is gone), and nothing gets around the refusal.
    "gc_finalizer.lua": ([], 2, ["panic: gc_finalizer.lua:15: setmetatable: __gc finalizers are not "
                                 "available in a scenario"], []),
    "gc_metatable.lua": ([], 0, [], ["__gc = true:\tfalse\tsetmetatable: __gc finalizers are not available",
                                     "assign:\tfalse\tgc_metatable.lua:9: the metatable of a sim object "
                                     "is read-only (cannot set \"__gc\")",
                                     "finalizers run:\t0", "methods still there:\tfunction"]),
    "errgroup_unstarted.lua": ([], 2, ["panic: errgroup_unstarted.lua:9: main fails before the errgroup's "
                                       "goroutines run"], []),
    "header_scan_pcall_loop.lua": (["--instr-budget", "200000"], 2,
                                   ["fatal error: goroutine 1 (main.main) ran",
                                    "header_scan_pcall_loop.lua:9", "an infinite loop?"], []),
    "header_scan_memory_loop.lua": (["--mem-limit", "16"], 2,
                                    ["fatal error: not enough memory", "bound of 16 MiB"], []),
    "goroutine_many_args.lua": ([], 0, [], ["sim.go\t250\t31375", "errgroup:go\t250\t31375",
                                            "node:go\t250\t31375"]),
    # Clear messages (issue: hardening, item 10).
    "deadlock_many.lua": ([], 2, ["fatal error: all goroutines are asleep - deadlock!",
                                  "goroutine 100 [chan send]:",
                                  "\n...901 more goroutines not shown one by one (the first 100 are); "
                                  "by state and stack:\n\n601 goroutines [chan receive] like goroutine 101:\n"
                                  "recv(...)\n\t[C]\nreceiver(...)\n\tdeadlock_many.lua:11\n",
                                  "\n300 goroutines [chan send] like goroutine 103:\n"], []),
    "at_no_time.lua": ([], 2, ["panic: at_no_time.lua:6: sim.at: want a time (integer nanoseconds "
                               "or a string such as \"1.5s\")"], []),
    "dist_unknown.lua": ([], 2, ["dist_unknown.lua:8: sim.dist is not a function: write "
                                 "sim.dist.NAME(...): \"nonsense\" is not a distribution (known: "
                                 "constant, uniform, exponential, normal, lognormal, pareto, empirical)"],
                         ["false\tdist_unknown.lua:7: sim.dist.gauss: no such distribution (known: "
                          "constant, uniform"]),
    "select_no_channel.lua": ([], 3, ["select_no_channel.lua:12: sim.select case 1 has no channel "
                                      "({} or a nil recv or send) and there is no default"],
                              ["case\t1"]),
    "select_misspelt.lua": ([], 3, ["select_misspelt.lua:8: sim.select case 1: unknown option \"rcev\" "
                                    "(known: recv, send, value)"], []),
    "check_error_values.lua": ([], 1, [], [
        "false\tcheck_error_values.lua:9: sim.every: the period must be positive",
        "false\tcheck_error_values.lua:10: sim.every: want a function",
        "false\tcheck_error_values.lua:11: sim.at: want a function",
        "[FAIL] invariant table raised (the invariant raised: (error object is a table value))",
        "[FAIL] invariant nil raised (the invariant raised: (error object is a nil value))",
        "[FAIL] finally finally check raised: (error object is a table value)"]),
    # No progress in simulated time (the bound is --max-steps-per-instant).
    "livelock_yield.lua": (["--max-steps-per-instant", "20000"], 2,
                           ["fatal error: livelock: 20000 goroutine steps at simulated time 0s "
                            "without the clock moving: goroutine 2 (poller) ran 19999",
                            "--max-steps-per-instant", "goroutine 2 [runnable]:"], []),
    "livelock_ping_pong.lua": (["--max-steps-per-instant", "20000"], 2,
                               ["fatal error: livelock: 20000 goroutine steps",
                                "goroutine 2 (ping) ran 10000, goroutine 3 (pong) ran 9999"],
                               ["result:       fatal error", "exit status:  2"]),
    # Option tables are checked by one kit (scripts/bindings/lsim_kit.h):
    # a bad option is a scenario error, exit 3, wherever it is read.
    "option_breaker.lua": ([], 3, ["option_breaker.lua:6: sim.breaker: unknown option \"max_failurs\" "
                                   "(known: name, failure_threshold, success_threshold, reset_timeout, "
                                   "on_state_change, variant, log)"], []),
    "option_cluster.lua": ([], 3, ["option_cluster.lua:4: sim.cluster: unknown option \"latncy\" (known: "
                                   "name, nodes, latency, jitter, loss, dup, reorder, reorder_delay, "
                                   "bandwidth)"], []),
    "option_etcd.lua": ([], 3, ["option_etcd.lua:10: sim.distributed_mutex: unknown option \"lockpath\" "
                                "(known: client, lock_path, ttl, variant)"], []),
    "option_goroutine.lua": ([], 3, ["option_goroutine.lua:8: sim.worker_pool: unknown options \"Log\", "
                                     "\"queue\", \"workrs\" (known: name, min_workers,"], []),
}

# Command lines that are usage errors: (args after "run", exit, stderr substrings).
PARAMS = "{broken}/params.lua"
USAGE_ERRORS = [
    ([PARAMS, "--set", "wrokers=8"], 3, ["--set wrokers=8: the scenario has no parameter \"wrokers\""]),
    ([PARAMS, "--set", "workers=many"], 3, ["--set workers=many: want an integer"]),
    ([PARAMS, "--set", "workers=2.5"], 3, ["--set workers=2.5: want an integer"]),
    ([PARAMS, "--set", "verbose=yes"], 3, ["--set verbose=yes: want true or false"]),
    ([PARAMS, "--set", "timeout=soon"], 3, ["--set timeout=soon:", "\"soon\""]),
    ([PARAMS, "--set", "workers"], 3, ["--set: want NAME=VALUE", "usage: chansim run"]),
    ([PARAMS, "--frobnicate"], 3, ["unknown option --frobnicate", "usage: chansim run"]),
    ([PARAMS, "--seed", "-1"], 3, ["--seed: want a non-negative integer", "usage: chansim run"]),
    ([PARAMS, "--strategy", "chaos"], 3, ["--strategy: want fifo, random or pct:D", "usage:"]),
    ([PARAMS, "--until", "later"], 3, ["--until: want a positive duration", "usage:"]),
    ([PARAMS, "--max-steps-per-instant", "999"], 3, ["--max-steps-per-instant: want an integer of "
                                                     "at least 1000", "usage:"]),
    ([PARAMS, "--seed"], 3, ["--seed needs a value", "usage:"]),
    ([PARAMS, "--seed", " 5"], 3, ["--seed: want a non-negative integer, got \" 5\"", "usage:"]),
    ([PARAMS, "--seed", "+5"], 3, ["--seed: want a non-negative integer, got \"+5\"", "usage:"]),
    ([PARAMS, "--until", "99999999999h"], 3, ["--until: \"99999999999h\" is too large: durations go "
                                              "up to 2562047h47m16.854775807s", "usage:"]),
    ([PARAMS, PARAMS], 3, ["one scenario at a time"]),
    ([], 3, ["run needs a scenario file", "usage: chansim run"]),
    (["{broken}/does_not_exist.lua"], 3, ["does_not_exist.lua:1: cannot open the scenario"]),
]

# The other subcommands that take the run options (one table, runopts.c):
# (full args, exit, stderr substrings).
OTHER_USAGE_ERRORS = [
    (["explore", PARAMS, "--log", "x.log"], 3, ["unknown option --log", "usage: chansim explore"]),
    (["explore", PARAMS, "--runs", "0"], 3, ["--runs: want an integer of at least 1",
                                             "usage: chansim explore"]),
    (["explore", PARAMS, "--shard", "2/2"], 3, ["--shard: want I/N", "usage: chansim explore"]),
    (["explore", PARAMS, "--jobs"], 3, ["--jobs needs a value", "usage: chansim explore"]),
    (["explore", PARAMS, "--seed", "18446744073709551615", "--runs", "2"], 3,
     ["--seed 18446744073709551615 with --runs 2: the last run's seed would pass", "usage: chansim explore"]),
    (["explore"], 3, ["explore needs a scenario file", "usage: chansim explore"]),
    (["replay", PARAMS], 3, ["replay needs --seed N", "usage: chansim replay"]),
    (["replay", PARAMS, "--seed", "1", "--runs", "3"], 3, ["unknown option --runs",
                                                          "usage: chansim replay"]),
    (["run", PARAMS, "--view", "--record", "frames"], 3, ["--view and --record: one or the other",
                                                         "usage: chansim run"]),
    (["run", PARAMS, "--fps", "0"], 3, ["--fps: want frames per second from 1 to 240",
                                        "usage: chansim run"]),
]

SANITIZER_MARKS = ["AddressSanitizer", "LeakSanitizer", "runtime error:", "DEADLYSIGNAL"]
HASH_RE = re.compile(r"^trace hash:\s+([0-9a-f]{16})$", re.M)


class Checker:
    def __init__(self, chansim, src):
        self.chansim = chansim
        self.src = src
        self.failures = []
        self.passed = 0
        self.names = {}  # scenario path -> the name its summary shows

    def run(self, args, cwd=None):
        """Run chansim; never accept a signal or a sanitizer report."""
        cmd = [self.chansim] + args
        try:
            p = subprocess.run(cmd, cwd=cwd or self.src, capture_output=True, timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            self.fail(cmd, "no answer within %ds" % TIMEOUT)
            return None
        out = p.stdout.decode("utf-8", "replace")
        err = p.stderr.decode("utf-8", "replace")
        if p.returncode < 0:
            self.fail(cmd, "killed by signal %d\n%s" % (-p.returncode, err[-2000:]))
        for mark in SANITIZER_MARKS:
            if mark in err:
                self.fail(cmd, "stderr has %r:\n%s" % (mark, err[-4000:]))
                break
        return p.returncode, out, err, p.stdout

    def fail(self, cmd, why):
        self.failures.append("%s\n    %s" % (" ".join(cmd), why.replace("\n", "\n    ")))

    def check(self, cond, cmd, why):
        if cond:
            self.passed += 1
        else:
            self.fail(cmd, why)
        return cond

    def expect_run(self, args, exit_status, out=(), err=()):
        """Run and check the status and the substrings; return the result."""
        r = self.run(args)
        if r is None:
            return None
        rc, o, e, _ = r
        cmd = [self.chansim] + args
        self.check(rc == exit_status, cmd, "exit status %d, want %d\nstdout:\n%s\nstderr:\n%s"
                   % (rc, exit_status, o[-3000:], e[-3000:]))
        for s in out:
            self.check(s in o, cmd, "stdout lacks %r:\n%s" % (s, o[-3000:]))
        for s in err:
            self.check(s in e, cmd, "stderr lacks %r:\n%s" % (s, e[-3000:]))
        return r


def trace_hash(cmd, out, checker):
    m = HASH_RE.findall(out)
    if not checker.check(len(m) == 1, cmd, "no trace hash in the summary:\n" + out[-2000:]):
        return None
    return m[0]


def check_scenario(c, path, tmp):
    """Everything about one scenario file. Returns nothing; records in c."""
    stem = os.path.splitext(os.path.basename(path))[0]
    exp = SCENARIOS.get(stem, dict(exit=0))
    rel = os.path.relpath(path, c.src)
    base = ["run", rel]
    cmd = [c.chansim] + base
    # The run the table describes (the scenario's own seed), then the same
    # again: byte-identical output and one trace hash.
    first = c.expect_run(base, exp["exit"], exp.get("out", []), exp.get("err", []))
    second = c.run(base)
    if first is None or second is None:
        return
    m = re.search(r"^scenario:\s+(.*) \(" + re.escape(rel) + r"\)$", first[1], re.M)
    if m:
        c.names[rel] = m.group(1)
    c.check(first[3] == second[3], cmd, "two runs with one seed differ on stdout")
    c.check(first[0] == second[0], cmd, "two runs with one seed differ in exit status")
    h1 = trace_hash(cmd, first[1], c)
    h2 = trace_hash(cmd, second[1], c)
    c.check(h1 is not None and h1 == h2, cmd, "two runs with one seed: hashes %s and %s" % (h1, h2))
    for args, status, out, err in exp.get("variants", []):
        c.expect_run(base + args, status, out, err)
    if exp.get("racy"):
        hashes = []
        for seed in ("1", "2"):
            r = c.expect_run(base + ["--strategy", "random", "--seed", seed], exp["exit"])
            hashes.append(r and trace_hash(cmd, r[1], c))
        c.check(hashes[0] and hashes[1] and hashes[0] != hashes[1], cmd + ["--strategy", "random"],
                "a racy scenario gave one hash under two seeds: %s" % hashes)
        # Record a random schedule, then replay it: the identical trace.
        sched = os.path.join(tmp, stem + ".schedule")
        rec = c.expect_run(base + ["--strategy", "random", "--seed", "3", "--schedule-out", sched],
                           exp["exit"])
        rep = c.expect_run(base + ["--seed", "3", "--schedule", sched], exp["exit"])
        if rec and rep:
            hr, hp = trace_hash(cmd, rec[1], c), trace_hash(cmd, rep[1], c)
            c.check(hr is not None and hr == hp, cmd + ["--schedule", sched],
                    "the replayed schedule gave hash %s, the recorded run %s" % (hp, hr))
            c.check("left the recorded schedule" not in rep[2], cmd + ["--schedule", sched],
                    "the replay diverged:\n" + rep[2][-2000:])
            # The program's output is the same too (the summary's reproduce
            # line names the schedule instead of the strategy).
            strip = lambda s: re.sub(r"^reproduce:.*$", "", s, flags=re.M)
            c.check(strip(rec[1]) == strip(rep[1]), cmd + ["--schedule", sched],
                    "the replay printed something else than the recorded run")


def check_broken(c):
    broken = os.path.join(c.src, "tests", "broken")
    files = sorted(f for f in os.listdir(broken) if f.endswith(".lua"))
    for f in files:
        c.check(f in BROKEN, ["tests/broken/" + f], "not in run_scenarios.py's BROKEN table")
    for f, (args, status, err, out) in sorted(BROKEN.items()):
        # Run from inside the corpus: messages name the file as given.
        r = c.run(["run", f] + args, cwd=broken)
        if r is None:
            continue
        rc, o, e, _ = r
        cmd = [c.chansim, "run", f] + args
        c.check(rc == status, cmd, "exit status %d, want %d\nstdout:\n%s\nstderr:\n%s"
                % (rc, status, o[-2000:], e[-2000:]))
        for s in err:
            c.check(s in e, cmd, "stderr lacks %r:\n%s" % (s, e[-2000:]))
        for s in out:
            c.check(s in o, cmd, "stdout lacks %r:\n%s" % (s, o[-2000:]))
    for args, status, err in USAGE_ERRORS:
        args = [a.format(broken=broken) for a in args]
        c.expect_run(["run"] + args, status, [], err)
    for args, status, err in OTHER_USAGE_ERRORS:
        c.expect_run([a.format(broken=broken) for a in args], status, [], err)
    # The sandbox held: nothing was written or run.
    c.check(not os.path.exists("/tmp/chansim-sandbox-escaped"), ["tests/broken"],
            "a sandbox escape created /tmp/chansim-sandbox-escaped")


def check_cli(c):
    c.expect_run(["--help"], 0, ["usage:", "chansim run SCENARIO.lua", "chansim list"])
    c.expect_run(["run", "--help"], 0, ["usage: chansim run SCENARIO.lua", "--seed N",
                                        "--strategy", "--set NAME=VALUE", "--schedule-out",
                                        "--instr-budget", "--mem-limit", "--view", "--fps N"])
    c.expect_run(["replay", "--help"], 0, ["usage: chansim replay FILE.json",
                                           "chansim replay SCENARIO.lua --seed N --strategy S",
                                           "--schedule FILE", "--view", "--force"])
    c.expect_run(["explore", "--help"], 0, ["usage: chansim explore SCENARIO.lua", "--runs N",
                                            "--shard I/N", "--first", "--mem-limit MIB"])
    c.expect_run(["--version"], 0, ["chansim "])
    c.expect_run(["frobnicate"], 3, [], ["unknown command \"frobnicate\"", "usage:"])
    r = c.expect_run(["list", "scenarios"], 0)
    if r is None:
        return
    lines = r[1].splitlines()
    cmd = [c.chansim, "list", "scenarios"]
    for path in sorted(os.listdir(os.path.join(c.src, "scenarios"))):
        if not path.endswith(".lua"):
            continue
        rel = "scenarios/" + path
        idx = [i for i, l in enumerate(lines) if l.split()[:1] == [rel]]
        if not c.check(len(idx) == 1, cmd, "%s is not listed:\n%s" % (rel, r[1])):
            continue
        name = lines[idx[0]].split(None, 1)[1] if len(lines[idx[0]].split(None, 1)) > 1 else ""
        c.check(name and "no scenario{} header" not in name, cmd, "%s has no name: %r" % (rel, name))
        if rel in c.names:
            c.check(name == c.names[rel], cmd, "%s is listed as %r, its run says %r"
                    % (rel, name, c.names[rel]))
        desc = lines[idx[0] + 1] if idx[0] + 1 < len(lines) else ""
        c.check(desc.startswith(" ") and desc.strip(), cmd, "%s has no description" % rel)


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: run_scenarios.py CHANSIM SOURCE_DIR")
    chansim = os.path.abspath(sys.argv[1])
    src = os.path.abspath(sys.argv[2])
    c = Checker(chansim, src)
    scen_dir = os.path.join(src, "scenarios")
    paths = sorted(os.path.join(scen_dir, f) for f in os.listdir(scen_dir) if f.endswith(".lua"))
    for stem in SCENARIOS:
        c.check(os.path.join(scen_dir, stem + ".lua") in paths, [stem],
                "scenarios/%s.lua is missing" % stem)
    tmp = tempfile.mkdtemp(prefix="chansim-scenarios-")
    try:
        # Each worker records into its own checker; merged in file order.
        def one(path):
            sub = Checker(chansim, src)
            check_scenario(sub, path, tmp)
            return sub
        with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
            for sub in pool.map(one, paths):
                c.failures += sub.failures
                c.passed += sub.passed
                c.names.update(sub.names)
        check_broken(c)
        check_cli(c)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print("run_scenarios: %d scenarios, %d broken scenarios, %d checks passed, %d failed"
          % (len(paths), len(BROKEN), c.passed, len(c.failures)))
    for f in c.failures:
        print("FAIL: " + f)
    sys.exit(1 if c.failures else 0)


if __name__ == "__main__":
    main()
