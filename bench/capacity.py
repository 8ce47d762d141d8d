#!/usr/bin/env python3
"""The capacity model of docs/capacity.md, computed from what bench/cluster.sh measured (its JSONL output).

Two things come out:
  1. Universal Scalability Law fits, X(N) = lambda*N / (1 + sigma*(N-1) + kappa*N*(N-1)), of the throughputs measured
     with 1, 2 and 3 nodes on this one host (every node, VictoriaMetrics, PostgreSQL, nginx and the client share its
     cores), and of the per-operation CPU cost as nodes are added (the denominator of the law, which does not depend
     on the host sharing cores).
  2. The sizing of a cluster of N separate hosts (N up to 100) for a given ingest rate, notification rate and alarm
     count, from the CPU each operation costs on a Plumb node, on VictoriaMetrics and on PostgreSQL, and the limits
     that do not grow with nodes (the leader's alarm ticks, the serialised log appends, the alarm store's reloads,
     PostgreSQL's connections).
Usage: capacity.py RESULTS.jsonl [--cores 4] [--utilisation 0.7] [--samples 1e6] [--notifications 200]
       [--alarms 50000] [--series 100000]"""
import argparse, json, math, statistics, warnings
import numpy as np
from scipy.optimize import OptimizeWarning, curve_fit

warnings.simplefilter("ignore", OptimizeWarning)  # three points, three parameters: no covariance, the fit is exact

a = argparse.ArgumentParser()
a.add_argument("results")
a.add_argument("--cores", type=float, default=4, help="cores per Plumb host")
a.add_argument("--utilisation", type=float, default=0.7, help="target CPU utilisation of every tier")
a.add_argument("--samples", type=float, default=1e6, help="metric samples/s to ingest")
a.add_argument("--notifications", type=float, default=200, help="notifications/s to publish and deliver")
a.add_argument("--alarms", type=float, default=50_000, help="alarms evaluated by the leader")
a.add_argument("--series", type=float, default=100_000, help="active series")
args = a.parse_args()

lines = [json.loads(l) for l in open(args.results) if l.strip()]
rows = [r for r in lines if "nodes" in r]
extra = {k: v for r in lines if "nodes" not in r for k, v in r.items()}
ns = sorted({r["nodes"] for r in rows})
# The nodes' own background work (heartbeats, refreshes, reporting their metrics) is a cost per node per second, not
# per operation: taken out of the per-operation figures when the run measured it.
for r in rows:
    if "idle_cpu_seconds_per_node_second" in r:
        idle = r["idle_cpu_seconds_per_node_second"] * r["nodes"]
        samples = r["ingest_samples_per_second"] * r["ingest_seconds"]
        r["plumb_cpu_seconds_per_million_samples"] = max(
            0, r["plumb_cpu_seconds_ingest"] - idle * r["ingest_seconds"]) / samples * 1e6
        notifications = r["notify_delivered_per_second"] * r["notify_seconds"]
        r["plumb_cpu_seconds_per_thousand_notifications"] = max(
            0, r["plumb_cpu_seconds_notify"] - idle * r["notify_seconds"]) / notifications * 1e3
    else:
        r["idle_cpu_seconds_per_node_second"] = 0.0
def med(n, key): return statistics.median(r[key] for r in rows if r["nodes"] == n)
def usl(n, l, s, k): return l * n / (1 + s * (n - 1) + k * n * (n - 1))

def fit(points):
    n = np.array([p[0] for p in points], dtype=float)
    x = np.array([p[1] for p in points], dtype=float)
    p, _ = curve_fit(usl, n, x, p0=[x[0], 0.05, 0.001], bounds=([0, 0, 0], [np.inf, 1, 1]), maxfev=20_000)
    peak = math.sqrt((1 - p[1]) / p[2]) if p[2] > 0 else math.inf
    return p, peak

print("== measured on this host (medians)")
for n in ns:
    print(f"  {n} node(s): ingest {med(n, 'ingest_samples_per_second'):,.0f} samples/s, "
          f"notifications {med(n, 'notify_delivered_per_second'):,.0f}/s delivered; CPU per million samples: "
          f"plumb {med(n, 'plumb_cpu_seconds_per_million_samples'):.2f} s, victoria-metrics "
          f"{med(n, 'vm_cpu_seconds_per_million_samples'):.2f} s; per thousand notifications: plumb "
          f"{med(n, 'plumb_cpu_seconds_per_thousand_notifications'):.2f} s, postgres "
          f"{med(n, 'postgres_cpu_seconds_per_thousand_notifications'):.2f} s")

print("\n== USL fits of the throughput on one host (the nodes share its cores)")
for key, label in [("ingest_samples_per_second", "ingest"), ("notify_delivered_per_second", "notifications")]:
    (l, s, k), peak = fit([(n, med(n, key)) for n in ns])
    print(f"  {label}: lambda {l:,.0f}/s, sigma {s:.3f}, kappa {k:.4f}, peak at N = {peak:.1f}")
print("  (idle node background: %.3f cores per node)" % statistics.median(r["idle_cpu_seconds_per_node_second"] for r in rows))

# The cost of one operation across the cluster as nodes are added: cost(N)/cost(1) = 1 + sigma(N-1) + kappa N(N-1).
def cost_fit(key_plumb, key_peer):
    pts = [(n, med(n, key_plumb) + med(n, key_peer)) for n in ns]
    c1 = pts[0][1]
    def denominator(n, s, k): return 1 + s * (n - 1) + k * n * (n - 1)
    n = np.array([p[0] for p in pts], dtype=float)
    y = np.array([p[1] / c1 for p in pts])
    (s, k), _ = curve_fit(denominator, n, y, p0=[0.01, 0.0], bounds=([0, 0], [1, 1]))
    return c1, s, k
print("\n== USL of the CPU cost per operation (what each added node makes every operation cost)")
ingest_c1, ingest_s, ingest_k = cost_fit("plumb_cpu_seconds_per_million_samples", "vm_cpu_seconds_per_million_samples")
notify_c1, notify_s, notify_k = cost_fit("plumb_cpu_seconds_per_thousand_notifications", "postgres_cpu_seconds_per_thousand_notifications")
for label, c1, s, k in [("ingest", ingest_c1, ingest_s, ingest_k), ("notifications", notify_c1, notify_s, notify_k)]:
    peak = math.sqrt((1 - s) / k) if k > 0 else math.inf
    print(f"  {label}: sigma {s:.3f}, kappa {k:.5f}: throughput on separate hosts peaks at N = "
          f"{'no peak (kappa 0)' if math.isinf(peak) else f'{peak:.0f}'}")

# Per-operation costs at the node tier and the peers (CPU seconds), from the single-node run.
plumb_per_sample = med(ns[0], "plumb_cpu_seconds_per_million_samples") / 1e6
vm_per_sample = statistics.median(med(n, "vm_cpu_seconds_per_million_samples") for n in ns) / 1e6
plumb_per_notification = med(ns[0], "plumb_cpu_seconds_per_thousand_notifications") / 1e3
pg_per_notification = statistics.median(med(n, "postgres_cpu_seconds_per_thousand_notifications") for n in ns) / 1e3
tick = extra.get("alarm_tick_seconds_victoriametrics", 0.164)
budget = args.cores * args.utilisation
idle = statistics.median(r["idle_cpu_seconds_per_node_second"] for r in rows)

print(f"\n== a cluster of separate hosts with {args.cores:.0f} cores each at {args.utilisation:.0%}: "
      f"{args.samples:,.0f} samples/s, {args.notifications:,.0f} notifications/s, {args.alarms:,.0f} alarms")
need_ingest = args.samples * plumb_per_sample
need_notify = args.notifications * plumb_per_notification
print(f"  node tier: {need_ingest:.2f} cores for ingest + {need_notify:.2f} for notifications, and "
      f"{idle:.3f} cores per node for its own background work")
print(f"  {'N':>4} {'node cores used':>16} {'per node':>9} {'USL ingest X(N) M/s':>20} {'PG conns':>9} {'alarm reloads rows/s':>21}")
for n in [1, 2, 3, 5, 10, 20, 30, 50, 100]:
    per_node = (need_ingest + need_notify) * (1 + ingest_s * (n - 1) + ingest_k * n * (n - 1)) / n + idle
    x = usl(n, budget / plumb_per_sample, ingest_s, ingest_k) / 1e6
    print(f"  {n:>4} {per_node * n:>16.2f} {per_node / args.cores:>8.0%} {x:>20.2f} {22 * n:>9} "
          f"{n * 0.5 * args.alarms:>21,.0f}")
vm_cores = args.samples * vm_per_sample / args.utilisation
pg_cores = args.notifications * pg_per_notification / args.utilisation
print(f"  VictoriaMetrics: {vm_cores:.1f} cores for the ingest ({vm_per_sample * 1e6:.2f} CPU s per million samples through Plumb)")
print(f"  PostgreSQL: {pg_cores:.1f} cores for the notifications ({pg_per_notification * 1e3:.2f} ms CPU each, publish, audit, claim and record)")
print(f"  the leader: a tick of {args.alarms:,.0f} alarms takes about {tick * args.alarms / 10_000:.2f} s "
      f"(10,000 took {tick:.3f} s on 2 cores); the 10 s tick allows about {10 / tick * 10_000 * 0.5:,.0f} alarms at half its time")
