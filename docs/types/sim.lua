---@meta sim
-- The `sim` module of chansim scenarios, for the Lua Language Server
-- (completion, hover and type checks in VS Code, Neovim, ...; see
-- docs/editors.md). Declarations only: chansim provides the module itself.
-- tests/lua_types_test.py checks this file against the running module, so a
-- function added to or removed from `sim` must be declared or removed here.

---A duration: integer nanoseconds or Go's syntax ("250ms", "1.5s", "1h2m").
---@alias sim.Duration integer|string

---Simulated time: integer nanoseconds since the run started.
---@alias sim.Time integer

---The scenario's header: name, description, default seed and duration, CPUs, leak policy, parameters.
---@class sim.Header
---@field name? string shown by `chansim list` and the summary
---@field description? string one line for `chansim list`
---@field seed? integer default seed (--seed overrides)
---@field duration? sim.Duration stop here (--until overrides)
---@field gomaxprocs? integer simulated CPUs for sim.work
---@field leaks? "fail"|"report"|fun(params: table): "fail"|"report" goroutines left blocked: fail the run (exit 2) or report them
---@field expect_failure? string the failure this scenario exists to show: "deadlock", "leak", "race", "panic: PREFIX", "fatal error: PREFIX" or "invariant: NAME" (exit 0 when exactly it happens)
---@field params? table<string, any> defaults of the parameters, read as sim.params.NAME, set with --set NAME=VALUE

---Declare the scenario's header (the global `scenario{...}` is the same function).
---@param header sim.Header
function scenario(header) end

---@class sim
---@field params table<string, any> the scenario's parameters (defaults, overridden by --set)
sim = {}

-- ---- the header, goroutines ------------------------------------------------

---Declare the scenario's header (as the global `scenario{...}`).
---@param header sim.Header
function sim.scenario(header) end

---Start a goroutine running fn(...) (Go's `go fn(...)`); the first argument may be its name or {name=, role=}.
---@param name_or_fn string|{name?: string, role?: string}|function
---@param ... any the function (after a name) and its arguments
function sim.go(name_or_fn, ...) end

---Let other runnable goroutines run first (runtime.Gosched).
function sim.yield() end

---End the run now, as os.Exit(code): the run's exit status is code (default 0).
---@param code? integer 0 to 255
function sim.exit(code) end

---runtime.Goexit: end the running goroutine; its to-be-closed variables (Lua's
---deferred calls) are closed on the way out and pcall does not stop it.
function sim.goexit() end

---Go's panic(v): raise v itself (a string gets no file:line in front), so that
---recover (pcall) returns exactly v; panic(nil) is Go 1.21's PanicNilError.
---@param v any
function sim.panic(v) end

---close(ch), with Go's panic "close of nil channel" for nil.
---@param ch sim.Chan|nil
function sim.close(ch) end

---for v := range ch: an iterator; a nil channel blocks forever.
---@param ch sim.Chan|nil
---@return fun(): any
function sim.range(ch) end

---time.AfterFunc(d, f): f runs in its own goroutine when the timer fires; the
---timer has stop and reset and no channel (t.c is nil).
---@param d sim.Duration
---@param f function
---@return sim.Timer
function sim.after_func(d, f) end

---sync.Map: load, store, load_or_store, load_and_delete, delete, swap,
---compare_and_swap, compare_and_delete, range, clear.
---@return sim.SyncMap
function sim.sync_map() end

---Main waits for the world: returns true when no other goroutine can ever run
---and no timer is pending (goroutines still blocked are then leaked), or false
---once d has passed first. When main returns the run ends at once, as in Go.
---@param d? sim.Duration wait at most this long
---@return boolean idle
function sim.run(d) end

---The running goroutine's id and name.
---@return integer id
---@return string name
function sim.self() end

---The number of goroutines alive (runtime.NumGoroutine).
---@return integer
function sim.goroutines() end

---The goroutine dump of every live goroutine, in Go's format (runtime.Stack(buf, true)).
---@return string
function sim.dump() end

-- ---- channels and select ---------------------------------------------------

---A channel: unbuffered without a capacity (make(chan any, cap)).
---@param cap? integer buffer size, 0 by default
---@param name? string shown in the trace, dumps and the view
---@param zero? any the element type's zero value, received once closed and drained
---@return sim.Chan
function sim.chan(cap, name, zero) end

---Send v on ch; a nil channel blocks forever (ch <- v).
---@param ch sim.Chan|nil
---@param v any
function sim.send(ch, v) end

---Receive from ch; a nil channel blocks forever (v, ok := <-ch).
---@param ch sim.Chan|nil
---@return any v
---@return boolean ok false once ch is closed and drained
function sim.recv(ch) end

---One case of sim.select: {recv = ch} or {send = ch, value = x}.
---@class sim.SelectCase
---@field recv? sim.Chan|nil receive from this channel (nil: never ready)
---@field send? sim.Chan|nil send on this channel (nil: never ready)
---@field value? any the value to send

---Go's select: waits for the first ready case (a uniformly random one among several); `default = true` makes it non-blocking.
---@param cases (sim.SelectCase|boolean)[]|{default?: boolean}
---@return integer|nil index the case chosen, nil when the default fired
---@return any value the value received
---@return boolean ok false if the channel received from was closed
function sim.select(cases) end

-- ---- time --------------------------------------------------------------------

---The current simulated time in nanoseconds (time.Now()).
---@return sim.Time
function sim.now() end

---Sleep for d of simulated time (time.Sleep).
---@param d sim.Duration
function sim.sleep(d) end

---A channel that receives the time once d has passed (time.After).
---@param d sim.Duration
---@return sim.Chan
function sim.after(d) end

---A timer that sends on t.c once after d (time.NewTimer).
---@param d sim.Duration
---@return sim.Timer
function sim.timer(d) end

---A ticker that sends on t.c every d (time.NewTicker).
---@param d sim.Duration
---@return sim.Timer
function sim.ticker(d) end

---Run fn in its own goroutine at simulated time t.
---@param t sim.Time|sim.Duration
---@param fn function
---@param name? string the goroutine's name
function sim.at(t, fn, name) end

---Run fn every d (first at d) until it returns false.
---@param d sim.Duration
---@param fn fun(): boolean|nil
---@param name? string the goroutine's name
function sim.every(d, fn, name) end

---Hold one of the scenario's `gomaxprocs` simulated CPUs for d (CPU-bound work).
---@param d sim.Duration
function sim.work(d) end

---The simulated CPUs: {procs, busy, waiting, busy_ns}.
---@return {procs: integer, busy: integer, waiting: integer, busy_ns: integer}
function sim.cpu() end

---Parse a duration in Go's syntax to nanoseconds (time.ParseDuration).
---@param s sim.Duration
---@return integer ns
function sim.duration(s) end

---Format nanoseconds as Go's Duration.String does ("1.5s").
---@param ns integer
---@return string
function sim.format_duration(ns) end

---The run's seed.
---@return integer
function sim.seed() end

-- ---- output and checks -------------------------------------------------------

---Print a line stamped with the simulated time (its arguments joined by spaces).
---@param ... any
function sim.log(...) end

---A user event in the trace: its text and up to three integers.
---@param what string
---@param obj? integer
---@param a? integer
---@param b? integer
function sim.event(what, obj, a, b) end

---Record an expectation; a false one makes the run exit 1.
---@param cond any
---@param msg? string what should hold
---@return boolean cond held
function sim.expect(cond, msg) end

---Check fn after every step of the run (it observes, never changes the run); false fails the run.
---@param fn fun(): boolean
---@param msg? string
function sim.invariant(fn, msg) end

---Run fn when the run ends (final checks with sim.expect).
---@param fn function
function sim.finally(fn) end

-- ---- context -----------------------------------------------------------------

---Go's context package.
sim.context = {}

---context.Background(): never canceled.
---@return sim.Context
function sim.context.background() end

---context.TODO().
---@return sim.Context
function sim.context.todo() end

---context.WithCancel: a child and its cancel function (cancel(cause?)).
---@param parent sim.Context
---@return sim.Context ctx
---@return fun(cause?: string) cancel
function sim.context.with_cancel(parent) end

---context.WithTimeout.
---@param parent sim.Context
---@param d sim.Duration
---@return sim.Context ctx
---@return fun(cause?: string) cancel
function sim.context.with_timeout(parent, d) end

---context.WithDeadline.
---@param parent sim.Context
---@param t sim.Time
---@return sim.Context ctx
---@return fun(cause?: string) cancel
function sim.context.with_deadline(parent, t) end

---context.WithValue.
---@param parent sim.Context
---@param key any
---@param value any
---@return sim.Context
function sim.context.with_value(parent, key, value) end

---context.WithoutCancel: the parent's values, never canceled.
---@param parent sim.Context
---@return sim.Context
function sim.context.without_cancel(parent) end

---context.WithCancelCause: a child and its cancel function, cancel(cause).
---@param parent sim.Context
---@return sim.Context ctx
---@return fun(cause?: string) cancel
function sim.context.with_cancel_cause(parent) end

---context.WithDeadlineCause: the cause is Cause(ctx) when the deadline passes.
---@param parent sim.Context
---@param t sim.Time
---@param cause string
---@return sim.Context ctx
---@return fun(cause?: string) cancel
function sim.context.with_deadline_cause(parent, t, cause) end

---context.WithTimeoutCause: the cause is Cause(ctx) when the timeout passes.
---@param parent sim.Context
---@param d sim.Duration
---@param cause string
---@return sim.Context ctx
---@return fun(cause?: string) cancel
function sim.context.with_timeout_cause(parent, d, cause) end

---context.Cause(ctx): the cause of its cancellation, or nil.
---@param ctx sim.Context
---@return string|nil
function sim.context.cause(ctx) end

---context.AfterFunc(ctx, f): f runs in its own goroutine once ctx is done;
---stop() is true if it kept f from starting.
---@param ctx sim.Context
---@param f function
---@return fun(): boolean stop
function sim.context.after_func(ctx, f) end

-- ---- sync --------------------------------------------------------------------

---A variable goroutines share: every read and write is a scheduling decision
---under random, pct and replay, and an access the race detector checks (--race).
---@param name string shown in race reports
---@param init any the initial value
---@return sim.Shared
function sim.shared(name, init) end

---sync/atomic on an integer: each operation a scheduling decision, never a race.
---@param name string
---@param init? integer 0 by default
---@return sim.Atomic
function sim.atomic(name, init) end

---The run's strategy: "fifo", "random", "pct", "replay" or "dfs".
---@return string
function sim.strategy() end

---sync.Mutex.
---@return sim.Mutex
function sim.mutex() end

---sync.RWMutex.
---@return sim.RWMutex
function sim.rwmutex() end

---sync.WaitGroup.
---@return sim.WaitGroup
function sim.waitgroup() end

---sync.Once.
---@return sim.Once
function sim.once() end

---sync.Cond on a mutex.
---@param mu sim.Mutex|sim.RWMutex
---@return sim.Cond
function sim.cond(mu) end

---x/sync/semaphore.Weighted of n units.
---@param n integer
---@return sim.Semaphore
function sim.semaphore(n) end

---x/sync/errgroup.WithContext: a group and its context.
---@param parent? sim.Context
---@return sim.ErrGroup group
---@return sim.Context ctx
function sim.errgroup(parent) end

-- ---- load and distributions --------------------------------------------------

---Distributions: each is a table with :sample() (also callable); durations as strings give integer ns.
sim.dist = {}

---Always v.
---@param v number|sim.Duration
---@return sim.Dist
function sim.dist.constant(v) end

---Uniform between lo and hi.
---@param lo number|sim.Duration
---@param hi number|sim.Duration
---@return sim.Dist
function sim.dist.uniform(lo, hi) end

---Exponential with this mean.
---@param mean number|sim.Duration
---@return sim.Dist
function sim.dist.exponential(mean) end

---Normal (clamped at 0 for durations).
---@param mean number|sim.Duration
---@param stddev number|sim.Duration
---@return sim.Dist
function sim.dist.normal(mean, stddev) end

---Lognormal: exp(N(ln median, sigma)).
---@param median number|sim.Duration
---@param sigma number
---@return sim.Dist
function sim.dist.lognormal(median, sigma) end

---Pareto with scale xm and shape alpha (heavy tail for a small alpha).
---@param xm number|sim.Duration
---@param alpha number
---@return sim.Dist
function sim.dist.pareto(xm, alpha) end

---Empirical: { {value, weight}, ... } or { v1, v2, ... } with equal weights.
---@param t table
---@return sim.Dist
function sim.dist.empirical(t) end

---A distribution from a distribution, a number or a duration string.
---@param v sim.Dist|number|sim.Duration
---@return sim.Dist
function sim.dist.of(v) end

---A load shape's request, passed to exec.
---@class sim.Request
---@field id integer the request's number
---@field intended sim.Time when it was meant to start (no coordinated omission)

---Options of a load shape (k6's vocabulary).
---@class sim.LoadOptions
---@field exec fun(req: sim.Request) the request
---@field rate? number arrivals per time_unit
---@field time_unit? sim.Duration
---@field duration? sim.Duration
---@field start_rate? number
---@field stages? {target: number, duration: sim.Duration}[]
---@field vus? integer virtual users
---@field start_vus? integer
---@field think? sim.Duration|sim.Dist pause of a virtual user between requests
---@field at? sim.Duration
---@field count? integer

---Load shapes in k6's vocabulary: arrival-rate shapes start each request in its own goroutine, VU shapes loop.
sim.load = {}

---A constant arrival rate (open model).
---@param o sim.LoadOptions
function sim.load.constant_arrival_rate(o) end

---An arrival rate ramped through stages (open model).
---@param o sim.LoadOptions
function sim.load.ramping_arrival_rate(o) end

---Poisson arrivals at a mean rate (open model).
---@param o sim.LoadOptions
function sim.load.poisson(o) end

---A constant number of virtual users (closed model).
---@param o sim.LoadOptions
function sim.load.constant_vus(o) end

---Virtual users ramped through stages (closed model).
---@param o sim.LoadOptions
function sim.load.ramping_vus(o) end

---count requests at once at a time.
---@param o sim.LoadOptions
function sim.load.burst(o) end

-- ---- metrics -----------------------------------------------------------------

---Options of a Prometheus metric.
---@class sim.MetricOptions
---@field name string Prometheus name ([a-zA-Z_:][a-zA-Z0-9_:]*)
---@field help? string
---@field labels? string[] label names (then use :with or :labels)
---@field buckets? number[] histogram buckets (default: Go's DefBuckets)

---A Prometheus counter (prometheus.NewCounter / NewCounterVec).
---@param o sim.MetricOptions
---@return sim.Metric
function sim.counter(o) end

---A Prometheus gauge.
---@param o sim.MetricOptions
---@return sim.Metric
function sim.gauge(o) end

---A Prometheus histogram.
---@param o sim.MetricOptions
---@return sim.Metric
function sim.histogram(o) end

---prometheus.ExponentialBuckets.
---@param start number
---@param factor number
---@param count integer
---@return number[]
function sim.exponential_buckets(start, factor, count) end

---prometheus.LinearBuckets.
---@param start number
---@param width number
---@param count integer
---@return number[]
function sim.linear_buckets(start, width, count) end

---The text exposition of every metric so far.
---@return string
function sim.metrics_text() end

-- ---- the view and the profile ------------------------------------------------

---Publish an entity (a node, a service, a queue) for the view and the trace.
---@param kind string
---@param name string
---@param parent? table an entity
---@return table entity with :set(state) and fields
function sim.entity(kind, name, parent) end

---The live goroutines grouped by stack, as Go's goroutine profile.
---@return {count: integer, reason: string, name: string, created_by: integer, first_id: integer, oldest_blocked_since: sim.Time}[]
function sim.goroutine_profile() end

-- ---- the simulated world ----------------------------------------------------

---Options of sim.cluster.
---@class sim.ClusterOptions
---@field nodes string[] node names
---@field latency? sim.Duration
---@field jitter? sim.Duration
---@field loss? number probability of losing a message

---A simulated cluster of nodes with a network between them.
---@param o sim.ClusterOptions
---@return sim.Cluster
function sim.cluster(o) end

---A checker of acknowledged writes: a read older than an acknowledged write is a violation.
---@param name string
---@return table checker
function sim.acked_writes(name) end

---A checker that at most `limit` holders are inside at once: h:enter(who), h:leave(who), h:inside(), h:violations().
---@param o {name: string, limit?: integer}
---@return table checker
function sim.holders(o) end

---A checker of who believes it leads, per term and per instant.
---@param name string
---@return table checker
function sim.leadership(name) end

---A resource that takes writes with fencing tokens: r:write(who, token, ...).
---@param o {name: string, fencing?: boolean}
---@return table resource
function sim.fenced_resource(o) end

---An etcd server on a node of a cluster, or a store of several members (a list of nodes) with its own leader.
---@param node sim.Node|sim.Node[]
---@param o? {expiry_interval?: string|integer, service_time?: string|integer, heartbeat_interval?: string|integer, election_timeout?: string|integer, watch_sync_interval?: string|integer}
---@return table server
function sim.etcd_server(node, o) end

---An etcd session (a lease kept alive) of a client (concurrency.NewSession).
---@param client table
---@param o? {ttl?: integer}
---@return table session
function sim.etcd_session(client, o) end

---An etcd mutex on a session (concurrency.NewMutex).
---@param session table
---@param prefix string
---@return table mutex
function sim.etcd_mutex(session, prefix) end

---An etcd election on a session (concurrency.NewElection).
---@param session table
---@param prefix string
---@return table election
function sim.etcd_election(session, prefix) end

---The seed's distributed mutex over etcd.
---@param o {client: table, lock_path: string, ttl?: integer, variant?: string}
---@return table
function sim.distributed_mutex(o) end

---The seed's distributed semaphore over etcd.
---@param o {client: table, path: string, count?: integer, ttl?: integer, fair?: boolean, track?: table}
---@return table
function sim.distributed_semaphore(o) end

---The seed's leader election over etcd.
---@param o {client: table, election_id: string, ttl?: integer, variant?: string, track?: table}
---@return table
function sim.leader_election(o) end

-- ---- the seed's patterns ------------------------------------------------------

---The seed's circuit breaker (closed, open, half-open).
---@param o {name?: string, failure_threshold?: integer, success_threshold?: integer, timeout?: sim.Duration}
---@return table breaker
function sim.breaker(o) end

---The seed's dynamic worker pool.
---@param o {name?: string, ctx?: sim.Context, min_workers?: integer, max_workers?: integer}
---@return table pool
function sim.worker_pool(o) end

---The seed's graceful shutdown.
---@param o {timeout?: sim.Duration, variant?: string, log?: boolean}
---@return table
function sim.graceful_shutdown(o) end

---The seed's goroutine leak detector.
---@param o {name?: string, interval?: sim.Duration, threshold?: number, sample_size?: integer}
---@return table detector
function sim.leak_detector(o) end

---The seed's fan-out/fan-in.
---@param o {tasks?: integer, workers?: integer, fail_every?: integer}
---@return table
function sim.fan_out_fan_in(o) end

---The seed's priority multiplexer.
---@param o {sources?: table[], variant?: string, timeout?: sim.Duration}
---@return table
function sim.priority_mux(o) end

---The seed's first response wins.
---@param o {operations?: table[], variant?: string}
---@return table
function sim.first_response(o) end

---The seed's pipeline of stages.
---@param o {stages?: string[], workers?: integer}
---@return table
function sim.pipeline(o) end

---The seed's bounded concurrency demo.
---@param o {operations?: integer, interval?: sim.Duration}
---@return table
function sim.bounded_concurrency(o) end

---The seed's BoundedExecutor.
---@param o {name?: string, max_concurrent?: integer, timeout?: sim.Duration}
---@return table executor
function sim.bounded_executor(o) end

---The seed's mutex vs RWMutex contention test.
---@param o {rwmutex?: boolean, readers?: integer, writers?: integer}
---@return table
function sim.contention_test(o) end

---A service of a service graph with its processing time and dependencies.
---@param o {name: string, processing?: sim.Duration, deps?: table[]}
---@return table service
function sim.service(o) end

---The seed's simulateOperation: latency and failure of one operation.
---@param id any
---@param o? {latency_min?: sim.Duration, latency_max?: sim.Duration, fail_pct?: number}
---@return any result
function sim.simulate_operation(id, o) end

---The seed's simulateService: a call that fails with a probability after a latency.
---@param ctx sim.Context
---@param id string
---@param failure_pct number
---@param latency sim.Duration
---@return any result
function sim.simulate_service(ctx, id, failure_pct, latency) end

---The seed's degradable service (graceful degradation).
---@param o {variant?: string, cpu_pct?: number, request_bytes?: integer}
---@return table service
function sim.degradable_service(o) end

---The seed's load manager (levels by thresholds).
---@param o {thresholds?: number[], down_pct?: number, min_dwell?: sim.Duration}
---@return table
function sim.load_manager(o) end

---The seed's worker pool instrumented with metrics.
---@param o {name?: string, workers?: integer, queue?: integer, metrics?: table}
---@return table pool
function sim.instrumented_pool(o) end

---The seed's observability metrics (and their collector).
---@param o {variant?: string, private?: boolean, collector?: any}
---@return table
function sim.observability_metrics(o) end

-- ---- classes ------------------------------------------------------------------

---A channel (chan any).
---@class sim.Chan
local Chan = {}
---ch <- v
---@param v any
function Chan:send(v) end
---v, ok := <-ch
---@return any v
---@return boolean ok
function Chan:recv() end
---select { case ch <- v: return true; default: return false }
---@param v any
---@return boolean sent
function Chan:try_send(v) end
---A receive that does not block.
---@return any v
---@return boolean ok
---@return boolean got a value or the close was received
function Chan:try_recv() end
---close(ch)
function Chan:close() end
---len(ch)
---@return integer
function Chan:len() end
---cap(ch)
---@return integer
function Chan:cap() end
---for v := range ch (an iterator)
---@return fun(): any
function Chan:range() end
---The channel's id in the trace.
---@return integer
function Chan:id() end

---A timer or a ticker (time.Timer, time.Ticker).
---@class sim.Timer
---@field c sim.Chan the channel it sends the time on
local Timer = {}
---Stop it; true if it was active.
---@return boolean
function Timer:stop() end
---Restart it with a new duration.
---@param d sim.Duration
---@return boolean
function Timer:reset(d) end

---context.Context.
---@class sim.Context
local Context = {}
---A channel closed on cancellation (nil for Background).
---@return sim.Chan|nil
function Context:done() end
---nil, "context canceled" or "context deadline exceeded".
---@return string|nil
function Context:err() end
---context.Cause.
---@return string|nil
function Context:cause() end
---The deadline and whether there is one.
---@return sim.Time|nil deadline
---@return boolean ok
function Context:deadline() end
---ctx.Value(key).
---@param key any
---@return any
function Context:value(key) end
---Cancel the context (with an optional cause).
---@param cause? string
function Context:cancel(cause) end

---sync.Map (Range visits keys in the order first stored).
---@class sim.SyncMap
local SyncMap = {}
---m.Load(key)
---@param key any
---@return any value
---@return boolean ok
function SyncMap:load(key) end
---m.Store(key, value)
---@param key any
---@param value any
function SyncMap:store(key, value) end
---m.LoadOrStore(key, value)
---@param key any
---@param value any
---@return any actual
---@return boolean loaded
function SyncMap:load_or_store(key, value) end
---m.LoadAndDelete(key)
---@param key any
---@return any value
---@return boolean loaded
function SyncMap:load_and_delete(key) end
---m.Delete(key)
---@param key any
function SyncMap:delete(key) end
---m.Swap(key, value)
---@param key any
---@param value any
---@return any previous
---@return boolean loaded
function SyncMap:swap(key, value) end
---m.CompareAndSwap(key, old, new)
---@param key any
---@param old any
---@param new any
---@return boolean swapped
function SyncMap:compare_and_swap(key, old, new) end
---m.CompareAndDelete(key, old)
---@param key any
---@param old any
---@return boolean deleted
function SyncMap:compare_and_delete(key, old) end
---m.Range(f): f(key, value) for each entry until it returns false.
---@param f fun(key: any, value: any): boolean|nil
function SyncMap:range(f) end
---m.Clear()
function SyncMap:clear() end

---sync.Mutex.
---@class sim.Mutex
local Mutex = {}
---mu.Lock()
function Mutex:lock() end
---mu.Unlock()
function Mutex:unlock() end
---mu.TryLock()
---@return boolean
function Mutex:try_lock() end
---Contention so far: acquisitions, contended ones, wait time.
---@return table
function Mutex:stats() end

---sync.RWMutex.
---@class sim.RWMutex
local RWMutex = {}
---rw.Lock()
function RWMutex:lock() end
---rw.Unlock()
function RWMutex:unlock() end
---rw.RLock()
function RWMutex:rlock() end
---rw.RUnlock()
function RWMutex:runlock() end
---rw.TryLock()
---@return boolean
function RWMutex:try_lock() end
---rw.TryRLock()
---@return boolean
function RWMutex:try_rlock() end
---Contention so far.
---@return table
function RWMutex:stats() end

---sync.WaitGroup.
---@class sim.WaitGroup
local WaitGroup = {}
---wg.Add(n)
---@param n? integer 1 by default
function WaitGroup:add(n) end
---wg.Done()
function WaitGroup:done() end
---wg.Wait()
function WaitGroup:wait() end
---The counter.
---@return integer
function WaitGroup:count() end

---A shared variable (sim.shared): v.value reads, v.value = x writes.
---@class sim.Shared
---@field value any
---@field name string
local Shared = {}
---v.value
---@return any
function Shared:read() end
---v.value = x
---@param x any
function Shared:write(x) end

---atomic.Int64 (sim.atomic).
---@class sim.Atomic
local Atomic = {}
---a.Load()
---@return integer
function Atomic:load() end
---a.Store(x)
---@param x integer
function Atomic:store(x) end
---a.Add(d): the new value.
---@param d integer
---@return integer
function Atomic:add(d) end
---a.Swap(x): the old value.
---@param x integer
---@return integer
function Atomic:swap(x) end
---a.CompareAndSwap(old, new)
---@param old integer
---@param new integer
---@return boolean
function Atomic:compare_and_swap(old, new) end

---sync.Once.
---@class sim.Once
local Once = {}
---once.Do(fn)
---@param fn function
function Once:call(fn) end

---sync.Cond.
---@class sim.Cond
local Cond = {}
---c.Wait()
function Cond:wait() end
---c.Signal()
function Cond:signal() end
---c.Broadcast()
function Cond:broadcast() end

---semaphore.Weighted.
---@class sim.Semaphore
local Semaphore = {}
---s.Acquire(ctx, n): nil, or the context's error.
---@param n? integer
---@param ctx? sim.Context
---@return string|nil err
function Semaphore:acquire(n, ctx) end
---s.TryAcquire(n)
---@param n? integer
---@return boolean
function Semaphore:try_acquire(n) end
---s.Release(n)
---@param n? integer
function Semaphore:release(n) end
---Units held now.
---@return integer
function Semaphore:held() end

---errgroup.Group.
---@class sim.ErrGroup
local ErrGroup = {}
---g.Go(fn): fn's error (a returned string or a raised error) cancels the group; the first argument may be the goroutine's name or {name=, role=}.
---@param name_or_fn string|{name?: string, role?: string}|function
---@param ... any the function (after a name) and its arguments
function ErrGroup:go(name_or_fn, ...) end
---g.TryGo(fn); named as g:go
---@param name_or_fn string|{name?: string, role?: string}|function
---@param ... any the function (after a name) and its arguments
---@return boolean started
function ErrGroup:try_go(name_or_fn, ...) end
---g.SetLimit(n)
---@param n integer
function ErrGroup:set_limit(n) end
---g.Wait(): the first error or nil.
---@return string|nil
function ErrGroup:wait() end

---A distribution.
---@class sim.Dist
---@overload fun(): number
local Dist = {}
---One draw from the run's world stream.
---@return number
function Dist:sample() end

---A Prometheus counter, gauge or histogram (or one child of a vector).
---@class sim.Metric
local Metric = {}
---The child of a vector for these labels (With(prometheus.Labels{...})).
---@param labels table<string, string>
---@return sim.Metric
function Metric:with(labels) end
---The child for these label values (WithLabelValues).
---@param ... string
---@return sim.Metric
function Metric:labels(...) end
---Add 1.
function Metric:inc() end
---Subtract 1 (gauge).
function Metric:dec() end
---Add v.
---@param v number
function Metric:add(v) end
---Subtract v (gauge).
---@param v number
function Metric:sub(v) end
---Set to v (gauge).
---@param v number
function Metric:set(v) end
---Set to the simulated time in seconds (gauge).
function Metric:set_to_current_time() end
---Observe v (histogram).
---@param v number
function Metric:observe(v) end
---Observe a duration in seconds (histogram).
---@param d sim.Duration
function Metric:observe_duration(d) end
---The value (counter, gauge).
---@return number
function Metric:value() end
---The number of observations (histogram).
---@return integer
function Metric:count() end
---The sum of observations (histogram).
---@return number
function Metric:sum() end
---The metric's name.
---@return string
function Metric:name() end

---A simulated cluster.
---@class sim.Cluster
local Cluster = {}
---A node by name.
---@param name string
---@return sim.Node
function Cluster:node(name) end
---Every node.
---@return sim.Node[]
function Cluster:nodes() end
---Add a node.
---@param name string
---@return sim.Node
function Cluster:add_node(name) end
---The node the running goroutine belongs to.
---@return sim.Node|nil
function Cluster:self() end
---Boot every node.
function Cluster:start() end
---Cut the network between groups of nodes.
---@param ... string[]
function Cluster:partition(...) end
---Cut one direction only: from the first group to the second.
---@param from string[]
---@param to string[]
function Cluster:partition_one_way(from, to) end
---Cut one node from the others.
---@param name string
function Cluster:isolate(name) end
---Keep a majority connected, cut the rest.
function Cluster:majority() end
---Heal every cut.
function Cluster:heal() end
---The properties of a link.
---@param a string
---@param b string
---@param o {latency?: sim.Duration, jitter?: sim.Duration, loss?: number, dup?: number, reorder?: number, reorder_delay?: sim.Duration, bandwidth?: number}
function Cluster:link(a, b, o) end
---The properties of every link not set with :link.
---@param o table
function Cluster:default_link(o) end
---Message counts: sent, delivered, lost, cut, dropped_down, ...
---@return table
function Cluster:stats() end

---A node of a simulated cluster.
---@class sim.Node
local Node = {}
---The node's name.
---@return string
function Node:name() end
---The node's main, run at boot and again after every restart.
---@param fn fun(self: sim.Node)
function Node:on_boot(fn) end
---Boot the node.
function Node:start() end
---A goroutine on the node.
---@param fn function
---@param ... any
function Node:go(fn, ...) end
---Send a message to a port of another node.
---@param to string
---@param port string
---@param value any
function Node:send(to, port, value) end
---Receive a message on a port: value and sender, or nil, "timeout".
---@param port string
---@param timeout? sim.Duration
---@return any value
---@return string from
function Node:recv(port, timeout) end
---Crash the node (every goroutine on it ends).
function Node:crash() end
---Restart a crashed node (its on_boot runs again).
function Node:restart() end
---Pause the node (a stopped process).
function Node:pause() end
---Resume a paused node.
function Node:resume() end
---Is it paused?
---@return boolean
function Node:paused() end
---Is it up?
---@return boolean
function Node:up() end
---Restarts so far.
---@return integer
function Node:incarnation() end
---Set the node's clock offset and drift (ppm).
---@param offset sim.Duration
---@param drift_ppm? number
function Node:set_clock(offset, drift_ppm) end
---The node's own clock.
---@return sim.Time
function Node:clock() end
---Sleep by the node's own clock.
---@param d sim.Duration
function Node:sleep(d) end
