#!/usr/bin/env python3
"""Statistics query benchmark: Sum, Maximum and p99 over the last hour at 60 s across 1,000 series of the regular
payload (bench,host=h0…h999 usage_user), Plumb's POST /api/v1/metrics/query (3,000 queries in requests of 500,
its limit) against VictoriaMetrics' /api/v1/query_range of the equivalent MetricsQL (sum_over_time, max_over_time,
quantile_over_time(0.99) over [60s], step 60 s, nocache=1 so its result cache does not answer instead).
The two are run alternately ROUNDS times; prints JSON with the median seconds of each and the datapoints each returned.

usage: query.py PLUMB_URL TOKEN VM_URL ROUNDS [--no-percentiles]   (the last: Sum and Maximum only)
"""
import http.client
import json
import statistics
import sys
import time
import urllib.parse

plumb, token, vm, rounds = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
end = (int(time.time()) - 60) // 60 * 60
start = end - 3600
series = 1000
stats = [("Sum", "sum_over_time(bench_usage_user[60s])"), ("Maximum", "max_over_time(bench_usage_user[60s])"),
         ("p99", "quantile_over_time(0.99, bench_usage_user[60s])")]
if "--no-percentiles" in sys.argv[5:]:
    stats = stats[:2]
queries = []
for stat, _ in stats:
    for host in range(series):
        queries.append({"id": f"q{len(queries)}", "stat": stat,
                        "metric": {"namespace": "bench", "name": "usage_user", "dimensions": {"host": f"h{host}", "region": f"r{host % 5}"}}})
bodies = [json.dumps({"start": str(start), "end": str(end), "period": 60, "queries": queries[i:i + 500]}).encode()
          for i in range(0, len(queries), 500)]


def connect(url):
    u = urllib.parse.urlparse(url)
    return http.client.HTTPConnection(u.hostname, u.port, timeout=120)


def run_plumb(conn):
    points = 0
    for body in bodies:
        conn.request("POST", "/api/v1/metrics/query", body=body,
                     headers={"Authorization": "Bearer " + token, "Content-Type": "application/json"})
        r = conn.getresponse()
        data = r.read()
        if r.status != 200:
            sys.exit(f"plumb answered {r.status}: {data[:300]}")
        points += sum(len(x["values"]) for x in json.loads(data)["results"])
    return points


def run_vm(conn):
    points = 0
    for _, expr in stats:
        q = urllib.parse.urlencode({"query": expr, "start": start, "end": end, "step": 60, "nocache": 1})
        conn.request("GET", "/api/v1/query_range?" + q)
        r = conn.getresponse()
        data = r.read()
        if r.status != 200:
            sys.exit(f"victoria-metrics answered {r.status}: {data[:300]}")
        points += sum(len(x["values"]) for x in json.loads(data)["data"]["result"])
    return points


p, v = connect(plumb), connect(vm)
# VictoriaMetrics makes new data searchable a moment after it is written: wait until it answers what Plumb does.
expected = run_plumb(p)
deadline = time.time() + 60
while run_vm(v) < expected and time.time() < deadline:
    time.sleep(1)
times = {"plumb": [], "vm": []}
counts = {}
for _ in range(rounds):
    for name, fn, conn in (("plumb", run_plumb, p), ("vm", run_vm, v)):
        t = time.perf_counter()
        counts[name] = fn(conn)
        times[name].append(time.perf_counter() - t)
print(json.dumps({"plumb_seconds": statistics.median(times["plumb"]), "vm_seconds": statistics.median(times["vm"]),
                  "plumb_datapoints": counts["plumb"], "vm_datapoints": counts["vm"]}))
