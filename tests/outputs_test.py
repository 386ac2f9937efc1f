#!/usr/bin/env python3
"""The output files of `chansim run`: --trace, --metrics, --csv (and --log).

Runs tests/scenarios/metrics_pipeline.lua and checks that
- the Chrome trace JSON parses, every event has what Perfetto needs
  (ph, ts, pid, tid, name), slices nest, goroutines are named threads
  grouped by role, and channel sends flow to receives (s/f pairs);
- the metrics file parses with a real Prometheus parser (Debian's
  python3-prometheus-client) and holds the scenario's exact values;
- the CSV has a header and one row per sampling interval of simulated time;
- the trace hash is the same with and without the output flags, and the
  files are byte-identical from run to run;
- nothing is left behind, not even a temporary file, when the run does not
  start (missing or broken scenario, an output that cannot be created).

usage: outputs_test.py CHANSIM SCENARIO_DIR
"""
import csv
import io
import json
import os
import re
import subprocess
import sys
import tempfile

from prometheus_client.parser import text_string_to_metric_families

CHANSIM = os.path.abspath(sys.argv[1])
SCENARIOS = os.path.abspath(sys.argv[2])
PIPELINE = os.path.join(SCENARIOS, "metrics_pipeline.lua")
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what)
    return cond


def run(args, cwd):
    p = subprocess.run([CHANSIM, "run"] + args, cwd=cwd, capture_output=True, text=True)
    return p.returncode, p.stdout, p.stderr


def trace_hash(stdout):
    m = re.search(r"^trace hash:\s+([0-9a-f]{16})$", stdout, re.M)
    return m.group(1) if m else None


def check_trace(path, want_hash):
    with open(path, encoding="utf-8") as f:
        doc = json.load(f)
    events = doc.get("traceEvents")
    if not check(isinstance(events, list) and events, "trace: traceEvents is a non-empty list"):
        return
    for e in events:
        missing = [k for k in ("ph", "ts", "pid", "tid", "name") if k not in e]
        if not check(not missing, "trace: event %r lacks %s" % (e, missing)):
            return
        check(isinstance(e["ts"], (int, float)) and isinstance(e["pid"], int)
              and isinstance(e["tid"], int), "trace: numeric ts, pid, tid in %r" % e)
    check(doc.get("otherData", {}).get("trace_hash") == want_hash,
          "trace: otherData.trace_hash is the run's hash")
    # Goroutines are threads named after them, in a process per role.
    procs = {e["pid"]: e["args"]["name"] for e in events
             if e["ph"] == "M" and e["name"] == "process_name"}
    threads = {(e["pid"], e["tid"]): e["args"]["name"] for e in events
               if e["ph"] == "M" and e["name"] == "thread_name"}
    worker_pids = {pid for (pid, tid), name in threads.items() if name.startswith("worker")}
    check(len(worker_pids) == 1 and procs.get(worker_pids.pop()) == "role: worker",
          "trace: both workers in the process of role worker")
    check(any(name == "main.main" for name in threads.values()), "trace: main.main is a thread")
    # B/E nest per thread and are in time order; everything closes.
    stacks, last_ts = {}, {}
    for e in events:
        key = (e["pid"], e["tid"])
        if e["ph"] in "BEX":
            check(e["ts"] >= last_ts.get(key, 0), "trace: slices in time order on %r" % (key,))
            last_ts[key] = e["ts"]
        if e["ph"] == "B":
            stacks.setdefault(key, []).append(e["name"])
        elif e["ph"] == "E":
            st = stacks.get(key)
            if check(st, "trace: E without B on %r at %r" % (key, e["ts"])):
                check(st.pop() == e["name"], "trace: E closes its B on %r" % (key,))
    check(all(not s for s in stacks.values()), "trace: every slice ends")
    names = {e["name"] for e in events if e["ph"] == "B"}
    for n in ("running", "chan receive", "sleep"):
        check(n in names, "trace: a slice named %r" % n)
    # Channel flows: each s has its f with the same id, and there are some.
    starts = {e["id"]: e for e in events if e["ph"] == "s"}
    ends = {e["id"]: e for e in events if e["ph"] == "f"}
    chan_pairs = [i for i in starts if i in ends and starts[i].get("cat") == "chan"]
    check(len(chan_pairs) == 20, "trace: 20 channel send->receive flows (got %d)" % len(chan_pairs))
    check(set(starts) == set(ends), "trace: every flow start has its end")
    check(all((starts[i]["name"], starts[i].get("cat")) == (ends[i]["name"], ends[i].get("cat"))
              for i in starts if i in ends), "trace: a flow's ends share name and cat")
    for i in chan_pairs:
        s, f = starts[i], ends[i]
        receiver = threads.get((f["pid"], f["tid"]), "")
        check(s["ts"] <= f["ts"] and s["tid"] == 1 and receiver.startswith("worker"),
              "trace: flow %d goes from main to a worker" % i)
    # Queue depth and metric counters.
    counters = {e["name"] for e in events if e["ph"] == "C"}
    check(any(n.startswith("chan #") and "(cap 4)" in n for n in counters),
          "trace: the buffered channel's length as a counter")
    check('queue_depth{queue="jobs"}' in counters, "trace: the queue_depth gauge as a counter")
    check(any(e["ph"] == "i" and e.get("cat") == "log" for e in events), "trace: log instants")


def families(path):
    with open(path, encoding="utf-8") as f:
        text = f.read()
    return {fam.name: fam for fam in text_string_to_metric_families(text)}


def sample(fams, family, name, **labels):
    for s in fams[family].samples:
        if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()):
            return s.value
    return None


def check_metrics(path):
    fams = families(path)
    want = {"requests": "counter", "request_duration_seconds": "histogram",
            "goroutines_total": "gauge", "queue_depth": "gauge", "errors": "counter",
            "chansim_goroutines": "gauge", "chansim_goroutines_spawned": "counter",
            "chansim_trace_events": "counter"}
    for name, typ in want.items():
        if check(name in fams, "metrics: family %s" % name):
            check(fams[name].type == typ, "metrics: %s is a %s" % (name, typ))
    if "requests" in fams:
        check(fams["requests"].documentation == "Total number of requests processed",
              "metrics: the seed's help text")
        check(sample(fams, "requests", "requests_total", status="ok", service="pool",
                     endpoint="/job") == 18, "metrics: 18 requests ok")
        check(sample(fams, "requests", "requests_total", status="error") == 2,
              "metrics: 2 requests failed")
    if "request_duration_seconds" in fams:
        d = "request_duration_seconds"
        check(sample(fams, d, d + "_count", service="pool") == 20, "metrics: 20 observations")
        check(abs(sample(fams, d, d + "_sum") - 2.4) < 1e-9, "metrics: sum 20 x 0.12s")
        check(sample(fams, d, d + "_bucket", le="0.064") == 0, "metrics: nothing under 64ms")
        check(sample(fams, d, d + "_bucket", le="0.128") == 20, "metrics: all under 128ms")
        check(sample(fams, d, d + "_bucket", le="+Inf") == 20, "metrics: +Inf bucket")
        les = [s.labels["le"] for s in fams[d].samples if s.name == d + "_bucket"]
        check(les == ["0.001", "0.002", "0.004", "0.008", "0.016", "0.032", "0.064", "0.128",
                      "0.256", "0.512", "+Inf"], "metrics: ExponentialBuckets(0.001, 2, 10)")
    if "errors" in fams:
        check(sample(fams, "errors", "errors_total", type="job_error") == 2, "metrics: errors")
    if "chansim_goroutines_spawned" in fams:
        check(sample(fams, "chansim_goroutines_spawned", "chansim_goroutines_spawned_total") == 4,
              "metrics: 4 goroutines spawned")


def check_csv(path, interval_s, end_s):
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    if not check(len(rows) >= 2, "csv: a header and rows"):
        return
    header = rows[0]
    check(header[0] == "time_s", "csv: the first column is time_s")
    for col in ('requests_total{service="pool",endpoint="/job",status="ok"}',
                'request_duration_seconds_count{service="pool",endpoint="/job"}',
                'request_duration_seconds_sum{service="pool",endpoint="/job"}',
                "goroutines_total", "chansim_goroutines"):
        check(col in header, "csv: a column %s" % col)
    check(all(len(r) == len(header) for r in rows[1:]), "csv: every row has every column")
    times = [float(r[0]) for r in rows[1:]]
    n = int(round(end_s / interval_s)) + 1
    check(len(times) == n, "csv: %d rows at %gs intervals up to %gs (got %d)" % (n, interval_s, end_s, len(times)))
    check(all(abs(t - i * interval_s) < 1e-9 for i, t in enumerate(times)), "csv: rows every %gs" % interval_s)
    ok = header.index('requests_total{service="pool",endpoint="/job",status="ok"}')
    check(rows[1][ok] == "", "csv: empty cell before a series exists")
    check(rows[-1][ok] == "18", "csv: 18 requests ok in the last row")
    values = [int(r[ok]) for r in rows[1:] if r[ok]]
    check(values == sorted(values), "csv: a counter never goes down")


def main():
    with tempfile.TemporaryDirectory() as tmp:
        outs = ["--trace", "t.json", "--metrics", "m.prom", "--csv", "c.csv",
                "--csv-interval", "250ms", "--log", "l.log"]
        rc, out, err = run([PIPELINE] + outs, tmp)
        check(rc == 0, "run with outputs exits 0 (got %d: %s)" % (rc, err))
        h1 = trace_hash(out)
        rc, out2, err = run([PIPELINE], tmp)
        check(rc == 0, "run without outputs exits 0")
        check(h1 is not None and h1 == trace_hash(out2),
              "the trace hash is the same with and without output flags (%s, %s)" % (h1, trace_hash(out2)))
        check(sorted(os.listdir(tmp)) == ["c.csv", "l.log", "m.prom", "t.json"],
              "exactly the four files, no temporary left: %s" % sorted(os.listdir(tmp)))
        check_trace(os.path.join(tmp, "t.json"), h1)
        check_metrics(os.path.join(tmp, "m.prom"))
        check_csv(os.path.join(tmp, "c.csv"), 0.25, 1.25)
        # Deterministic bytes.
        first = {n: open(os.path.join(tmp, n), "rb").read() for n in ("t.json", "m.prom", "c.csv", "l.log")}
        rc, out3, _ = run([PIPELINE] + outs, tmp)
        for n, data in first.items():
            check(open(os.path.join(tmp, n), "rb").read() == data, "%s is the same on a second run" % n)

    # A run that does not start leaves no file at all.
    with tempfile.TemporaryDirectory() as tmp:
        outs = ["--trace", "t.json", "--metrics", "m.prom", "--csv", "c.csv", "--log", "l.log"]
        rc, _, err = run([os.path.join(tmp, "missing.lua")] + outs, tmp)
        check(rc == 3, "a missing scenario exits 3 (got %d)" % rc)
        check(os.listdir(tmp) == [], "a missing scenario leaves no file: %s" % os.listdir(tmp))
        with open(os.path.join(tmp, "broken.lua"), "w") as f:
            f.write('scenario{ name = "broken" }\nlocal x = = 1\n')
        rc, _, err = run(["broken.lua"] + outs, tmp)
        check(rc == 3, "a scenario with a syntax error exits 3 (got %d)" % rc)
        check(os.listdir(tmp) == ["broken.lua"], "a broken scenario leaves no file: %s" % os.listdir(tmp))
        rc, _, err = run([PIPELINE, "--trace", "t.json", "--metrics", "no/such/dir/m.prom"], tmp)
        check(rc == 3, "an output that cannot be created exits 3 (got %d)" % rc)
        check(os.listdir(tmp) == ["broken.lua"], "and leaves no other file: %s" % os.listdir(tmp))

    # A program that panics still gets whole files, the panic a global instant.
    with tempfile.TemporaryDirectory() as tmp:
        with open(os.path.join(tmp, "panics.lua"), "w") as f:
            f.write('scenario{ name = "panics" }\n'
                    'local c = sim.counter{ name = "sent_total" }\n'
                    'local ch = sim.chan(1)\n'
                    'ch:send(1); c:inc(); ch:close()\n'
                    'ch:send(2)\n')
        rc, out, err = run(["panics.lua", "--trace", "t.json", "--metrics", "m.prom", "--csv", "c.csv"], tmp)
        check(rc == 2, "a panic exits 2 (got %d)" % rc)
        with open(os.path.join(tmp, "t.json"), encoding="utf-8") as f:
            events = json.load(f)["traceEvents"]
        check(any(e["ph"] == "i" and e.get("s") == "g" and e["name"].startswith("panic: send on closed channel")
                  for e in events), "trace: the panic is a global instant")
        fams = families(os.path.join(tmp, "m.prom"))
        check(sample(fams, "sent", "sent_total") == 1, "metrics: written after a panic")
        check(sorted(os.listdir(tmp)) == ["c.csv", "m.prom", "panics.lua", "t.json"],
              "a failed program still gets its files: %s" % sorted(os.listdir(tmp)))

    # Messages between nodes are arrows too; faults are global instants.
    with tempfile.TemporaryDirectory() as tmp:
        with open(os.path.join(tmp, "cluster.lua"), "w") as f:
            f.write('scenario{ name = "cluster" }\n'
                    'local c = sim.cluster{ nodes = { "n1", "n2" }, latency = "2ms" }\n'
                    'local n1, n2 = c:node("n1"), c:node("n2")\n'
                    'c:start()\n'
                    'n2:go(function() for i = 1, 3 do n2:recv("port") end end)\n'
                    'n1:go(function() for i = 1, 3 do n1:send("n2", "port", i); sim.sleep("5ms") end end)\n'
                    'sim.sleep("50ms"); c:partition({ "n1" }, { "n2" }); sim.sleep("1ms"); c:heal()\n')
        rc, out, err = run(["cluster.lua", "--trace", "t.json"], tmp)
        check(rc == 0, "the cluster scenario runs (got %d: %s)" % (rc, err.strip()[:300]))
        if rc == 0:
            with open(os.path.join(tmp, "t.json"), encoding="utf-8") as f:
                events = json.load(f)["traceEvents"]
            s = {e["id"]: e for e in events if e["ph"] == "s" and e.get("cat") == "net"}
            f_ = {e["id"]: e for e in events if e["ph"] == "f" and e.get("cat") == "net"}
            check(len(s) == 3 and set(s) == set(f_), "trace: 3 message arrows between nodes")
            check(all(f_[i]["ts"] - s[i]["ts"] >= 2000 for i in s if i in f_),
                  "trace: a message arrow spans the link's latency")
            check(any(e["ph"] == "i" and e.get("s") == "g" and e["name"].startswith("partition")
                      for e in events), "trace: the partition is a global instant")

    if failures:
        print("%d check(s) failed" % len(failures))
        return 1
    print("outputs: all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
