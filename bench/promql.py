#!/usr/bin/env python3
"""The PromQL benchmark's data and timing (bench/promql.sh runs it).

  promql.py data DIR END     writes 1,000 series x 6 hours (one sample a minute, ending at END, epoch seconds) as
                             DIR/data.om (OpenMetrics, for promtool), DIR/vm.txt (Prometheus text with millisecond
                             timestamps, for VictoriaMetrics' /api/v1/import/prometheus) and DIR/lp-*.txt (line
                             protocol in seconds, for Plumb's /write?precision=s&resolution=1)
  promql.py time END ROUNDS NAME=URL[=TOKEN] ...
                             runs the 10 dashboard queries as query_range over the 6 hours (step 30 s) on each server,
                             ROUNDS times each, the servers' order alternating, and prints one JSON line per query with
                             each server's median milliseconds
"""
import http.client
import json
import random
import statistics
import sys
import time
import urllib.parse

HOURS = 6
STEP = 60


def series():
    """(name, labels) of the 1,000 series: request counters, a latency histogram, CPU and memory gauges, up."""
    out = []
    for job in ("api", "web"):
        for i in range(25):
            for status in ("200", "404", "500", "503"):
                out.append(("bench_requests_total", {"job": job, "instance": f"i{i}", "status": status}))
    for i in range(25):
        for le in ("0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "+Inf"):
            out.append(("bench_latency_seconds_bucket", {"job": "api", "instance": f"i{i}", "le": le}))
    for i in range(100):
        for cpu in range(4):
            out.append(("bench_cpu_usage", {"instance": f"h{i}", "cpu": str(cpu)}))
    for i in range(100):
        out.append(("bench_memory_bytes", {"instance": f"h{i}"}))
    for i in range(50):
        out.append(("bench_up", {"job": "api" if i < 25 else "web", "instance": f"i{i % 25}"}))
    assert len(out) == 1000, len(out)
    return out


def values(name, labels, count, rng):
    if name == "bench_requests_total":
        weight = {"200": 50, "404": 5, "500": 2, "503": 1}[labels["status"]]
        v, out = rng.randint(0, 10_000), []
        for _ in range(count):
            if rng.random() < 0.002:
                v = 0
            v += rng.randint(0, weight * 60)
            out.append(v)
        return out
    if name == "bench_latency_seconds_bucket":
        bounds = ["0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "+Inf"]
        share = (bounds.index(labels["le"]) + 1) / len(bounds)
        v, out = 0, []
        for _ in range(count):
            v += int(rng.randint(100, 200) * share)
            out.append(v)
        return out
    if name == "bench_cpu_usage":
        return [round(rng.random() * 100, 2) for _ in range(count)]
    if name == "bench_memory_bytes":
        base = rng.randint(1, 16) * 2**30
        return [base + rng.randint(-2**28, 2**28) for _ in range(count)]
    return [0 if rng.random() < 0.01 else 1 for _ in range(count)]


def write_data(directory, end):
    rng = random.Random(7)
    start = end - HOURS * 3600
    times = list(range(start, end + 1, STEP))
    om = open(f"{directory}/data.om", "w")
    vm = open(f"{directory}/vm.txt", "w")
    lp_lines = []
    typed = set()
    for name, labels in series():
        vals = values(name, labels, len(times), rng)
        text = ",".join(f'{k}="{v}"' for k, v in labels.items())
        if name not in typed:
            typed.add(name)
            om.write(f"# TYPE {name} gauge\n")
        tags = ",".join(f"{k}={v}" for k, v in labels.items())
        field = name[len("bench_"):]
        for t, v in zip(times, vals):
            om.write(f"{name}{{{text}}} {v} {t}\n")
            vm.write(f"{name}{{{text}}} {v} {t * 1000}\n")
            lp_lines.append(f"bench,{tags} {field}={v} {t}\n")
    om.write("# EOF\n")
    om.close()
    vm.close()
    for k in range(0, len(lp_lines), 20_000):
        with open(f"{directory}/lp-{k // 20_000:04d}.txt", "w") as f:
            f.writelines(lp_lines[k:k + 20_000])
    print(json.dumps({"series": 1000, "samples": 1000 * len(times)}))


QUERIES = [
    'sum by (job) (rate(bench_requests_total[5m]))',
    'rate(bench_requests_total{job="api"}[5m])',
    'histogram_quantile(0.99, sum by (le) (rate(bench_latency_seconds_bucket[5m])))',
    'avg by (instance) (bench_cpu_usage)',
    'topk(5, bench_cpu_usage)',
    'sum(increase(bench_requests_total[1h]))',
    'max_over_time(bench_memory_bytes[10m])',
    'sum by (instance) (rate(bench_requests_total{status=~"5.."}[5m])) / sum by (instance) (rate(bench_requests_total[5m]))',
    'count by (status) (bench_requests_total)',
    'sum(bench_up) / count(bench_up)',
]


def query(conn, path, token, params):
    body = urllib.parse.urlencode(params)
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    started = time.perf_counter()
    conn.request("POST", path, body=body, headers=headers)
    response = conn.getresponse()
    data = response.read()
    elapsed = (time.perf_counter() - started) * 1000
    if response.status != 200:
        raise SystemExit(f"{path} {params['query']}: {response.status} {data[:300]!r}")
    answer = json.loads(data)
    return elapsed, len(answer["data"]["result"])


def time_queries(end, rounds, servers):
    start = end - HOURS * 3600
    connections = []
    for spec in servers:
        name, url, *token = spec.split("=", 2)
        parsed = urllib.parse.urlparse(url)
        connections.append((name, http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=120), token[0] if token else None))
    for q in QUERIES:
        params = {"query": q, "start": str(start), "end": str(end), "step": "30"}
        timings = {name: [] for name, _, _ in connections}
        series = {}
        for name, conn, token in connections:  # warm-up
            path = "/api/v1/query_range" + ("?nocache=1" if name == "victoriametrics" else "")
            series[name] = query(conn, path, token, params)[1]
        for r in range(rounds):
            order = connections if r % 2 == 0 else list(reversed(connections))
            for name, conn, token in order:
                path = "/api/v1/query_range" + ("?nocache=1" if name == "victoriametrics" else "")
                timings[name].append(query(conn, path, token, params)[0])
        print(json.dumps({"query": q, "series": series, "median_ms": {k: statistics.median(v) for k, v in timings.items()}}), flush=True)


if __name__ == "__main__":
    if sys.argv[1] == "data":
        write_data(sys.argv[2], int(sys.argv[3]))
    else:
        time_queries(int(sys.argv[2]), int(sys.argv[3]), sys.argv[4:])
